/**
 * Receipts of a provider that answers later, on both engines with the store's clock moved: each
 * device's latest push awaited, asked for once old enough, each answer applied once (a dead token
 * removed and tombstoned), the unready kept until the provider stops keeping them, the table no
 * larger than the devices. The provider here is the seam a transport plugs into (Expo's real one:
 * expo.test.ts); what it answers is scripted per receipt id.
 */
import { checkReceipts, PushMessage, Sender, type Delivery, type DeviceView, type Transport } from '../../nodes/core';
import { ENGINES, openTestStore, tokens, type TestStore } from '../support/stores';

const APP = 'com.example.app';
const MINUTE = 60_000;
const message = PushMessage.parse({ title: 'Hello', body: 'World' });

/** Accepts every push with a receipt id; answers receipts as `answers` says, leaving the others not ready. */
class LaterProvider implements Transport {
	readonly provider = 'fcm';
	private sent = 0;
	readonly issued = new Map<string, string>(); // receipt id → token
	readonly asked: string[][] = [];
	answers = new Map<string, Delivery>();
	readonly receipts = {
		keptHours: 24,
		check: async (ids: string[]) => {
			this.asked.push(ids);
			return new Map(ids.flatMap((id) => (this.answers.has(id) ? [[id, this.answers.get(id)!] as const] : [])));
		},
	};
	async send(devices: DeviceView[]): Promise<Delivery[]> {
		return devices.map((d) => {
			const receipt = `r-${++this.sent}`;
			this.issued.set(receipt, d.token);
			return { outcome: 'delivered', reason: 'accepted', receipt };
		});
	}
	receiptOf(token: string): string {
		return [...this.issued].filter(([, t]) => t === token).pop()![0];
	}
	async close(): Promise<void> {}
}

describe.each(ENGINES)('[%s] receipts', (engine) => {
	let t: TestStore;
	let later: LaterProvider;
	let sender: Sender;
	beforeEach(async () => {
		t = await openTestStore(engine);
		t.clock.now = Date.UTC(2026, 0, 5, 12, 0);
		later = new LaterProvider();
		sender = new Sender(t.store, { fcm: later });
	});
	afterEach(() => t.close());

	const devices = async (n: number) => {
		for (let i = 1; i <= n; i++) await t.store.register({ appId: APP, platform: 'android', token: tokens.fcm(i), userId: `user-${i}` });
	};
	const awaited = async () => (await t.store.dueReceipts('fcm', Number.MAX_SAFE_INTEGER, 100)).map((r) => [r.token, r.receiptId]);

	it('a receipt saying the token is dead removes and tombstones it, once; delivered ones change nothing', async () => {
		await devices(3);
		const summary = await sender.sendAudience({ appId: APP }, message, { sendId: 'spring', record: true });
		expect(summary.delivered).toBe(3);
		expect(await awaited()).toHaveLength(3);

		// Too young to ask (the default waits 15 minutes).
		t.clock.now += 10 * MINUTE;
		expect(await checkReceipts(t.store, { fcm: later })).toMatchObject({ checked: 0 });
		expect(later.asked).toEqual([]);

		t.clock.now += 10 * MINUTE;
		later.answers.set(later.receiptOf(tokens.fcm(1)), { outcome: 'invalid-token', reason: 'DeviceNotRegistered', code: 'DeviceNotRegistered' });
		later.answers.set(later.receiptOf(tokens.fcm(2)), { outcome: 'delivered', reason: 'ok' });
		const check = await checkReceipts(t.store, { fcm: later });
		expect(check).toEqual({
			checked: 3,
			answered: 2,
			notReady: 1,
			expired: 0,
			byOutcome: { 'invalid-token': 1, delivered: 1 },
			byAction: { removed: 1, unchanged: 1 },
			byCode: { fcm: { DeviceNotRegistered: 1 } },
			changed: [{ appId: APP, token: tokens.fcm(1), provider: 'fcm', outcome: 'invalid-token', action: 'removed', userId: 'user-1', reason: 'DeviceNotRegistered', code: 'DeviceNotRegistered' }],
		});
		expect(await t.store.getDevice(APP, tokens.fcm(1))).toBeNull();
		expect(await t.store.register({ appId: APP, platform: 'android', token: tokens.fcm(1) })).toMatchObject({ action: 'refused' }); // tombstoned
		expect(await t.store.getDevice(APP, tokens.fcm(2))).toMatchObject({ lastStatus: 'sent' });
		expect(await awaited()).toEqual([[tokens.fcm(3), later.receiptOf(tokens.fcm(3))]]);

		// Asked again: only the one not ready; nothing applied twice.
		const again = await checkReceipts(t.store, { fcm: later });
		expect(again).toMatchObject({ checked: 1, answered: 0, notReady: 1 });
		expect(later.asked.at(-1)).toEqual([later.receiptOf(tokens.fcm(3))]);
	});

	it('a receipt never answered expires when its provider stops keeping it', async () => {
		await devices(1);
		await sender.sendAudience({ appId: APP }, message, { sendId: 'a', record: true });
		t.clock.now += 23 * 60 * MINUTE;
		expect(await checkReceipts(t.store, { fcm: later })).toMatchObject({ checked: 1, notReady: 1, expired: 0 });
		t.clock.now += 2 * 60 * MINUTE;
		expect(await checkReceipts(t.store, { fcm: later })).toMatchObject({ checked: 1, notReady: 0, expired: 1 });
		expect(await awaited()).toEqual([]);
	});

	it("only each device's latest push is awaited; a test send awaits none, a send that does not update the store does", async () => {
		await devices(2);
		await sender.sendAudience({ appId: APP }, message, { sendId: 'first', record: true });
		t.clock.now += MINUTE;
		await sender.sendAudience({ appId: APP }, message, { sendId: 'second', record: true });
		expect((await awaited()).sort()).toEqual([
			[tokens.fcm(1), later.receiptOf(tokens.fcm(1))],
			[tokens.fcm(2), later.receiptOf(tokens.fcm(2))],
		]);
		expect(later.issued.size).toBe(4);

		await t.store.register({ appId: APP, platform: 'android', token: tokens.fcm(3), userId: 'user-3' });
		const third = (await t.store.getDevice(APP, tokens.fcm(3)))!;
		await sender.send([third], message, { test: true, record: true });
		expect((await awaited()).map(([token]) => token)).not.toContain(tokens.fcm(3));
		await sender.send([third], message, { record: false });
		expect(await awaited()).toContainEqual([tokens.fcm(3), later.receiptOf(tokens.fcm(3))]);

		// A page at a time: the same answers whatever the page size.
		t.clock.now += 20 * MINUTE;
		for (const id of later.issued.keys()) later.answers.set(id, { outcome: 'delivered', reason: 'ok' });
		expect(await checkReceipts(t.store, { fcm: later }, { pageSize: 1 })).toMatchObject({ checked: 3, answered: 3 });
		expect(later.asked).toEqual([[expect.any(String)], [expect.any(String)], [expect.any(String)]]);
	});

	it('the clean-up drops receipts awaited longer than the send log is kept', async () => {
		await devices(2);
		await sender.sendAudience({ appId: APP }, message, { sendId: 'old', record: true });
		t.clock.now += 31 * 24 * 60 * MINUTE;
		expect(await t.store.cleanup({})).toMatchObject({ prunedReceipts: 2 });
		expect(await awaited()).toEqual([]);
	});
});
