import { newId } from '../../nodes/core';

describe('row ids (UUIDv7)', () => {
	it('are RFC 9562 version 7, unique, and sort by creation time', () => {
		const ids = Array.from({ length: 50_000 }, () => newId());
		for (const id of ids.slice(0, 1000)) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
		expect(new Set(ids).size).toBe(ids.length);
		const time = (id: string) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);
		const outOfOrder = ids.findIndex((id, i) => i > 0 && time(id) < time(ids[i - 1]));
		expect(outOfOrder).toBe(-1);
		expect(Math.abs(time(ids[0]) - Date.now())).toBeLessThan(60_000);
	});

	it('draw fresh random bits across refills of the random pool', () => {
		// 10 random bytes per id from a 4 KB pool: 2,000 ids refill it several times; the random parts never repeat.
		const randomParts = new Set(Array.from({ length: 2000 }, () => newId().slice(15)));
		expect(randomParts.size).toBe(2000);
	});
});
