/**
 * Receipts through the store, on both engines with the store's clock moved: each device's latest
 * push awaited, asked for once old enough, each answer applied once (a dead token removed and
 * tombstoned), the unready kept until the provider stops keeping them, the table no larger than
 * the devices. The provider is Expo (the one with receipts) through expo-server-sdk to the fake
 * Expo service, which answers each token's receipts as scripted.
 */
import '../fakes/network-edge.cjs';
import { checkReceipts, PushMessage, Sender } from '../../nodes/core';
import { ExpoTransport } from '../../nodes/core/providers/expo';
import { startFakes, type Fakes } from '../fakes/providers';
import { ENGINES, openTestStore, type TestStore } from '../support/stores';

const APP = 'com.example.app';
const MINUTE = 60_000;
const message = PushMessage.parse({ title: 'Hello', body: 'World' });
const token = (n: number) => `ExponentPushToken[${String(n).padStart(22, 'x')}]`;

let fakes: Fakes;
let expo: ExpoTransport;
beforeAll(async () => {
	fakes = await startFakes();
	process.env.PUSH_TOKENS_FAKE_ROUTES = JSON.stringify(fakes.routes);
	expo = new ExpoTransport({});
});
afterAll(async () => {
	await expo.close();
	await fakes.close();
});

describe.each(ENGINES)('[%s] receipts', (engine) => {
	let t: TestStore;
	let sender: Sender;
	beforeEach(async () => {
		fakes.reset();
		t = await openTestStore(engine);
		t.clock.now = Date.UTC(2026, 0, 5, 12, 0);
		sender = new Sender(t.store, { expo });
	});
	afterEach(() => t.close());

	const devices = async (n: number) => {
		for (let i = 1; i <= n; i++) await t.store.register({ appId: APP, platform: 'android', token: token(i), userId: `user-${i}` });
	};
	const awaited = async () => (await t.store.dueReceipts('expo', Number.MAX_SAFE_INTEGER, 100)).map((r) => [r.token, r.receiptId]);
	/** The id of the token's latest ticket: its receipt's. */
	const receiptOf = (t: string) => fakes.expo.ticketsOf(t).at(-1)!;
	const check = (options?: { pageSize: number }) => checkReceipts(t.store, { expo }, options);

	it('a receipt saying the token is dead removes and tombstones it, once; delivered ones change nothing', async () => {
		fakes.expo.onReceipt(token(1), { status: 'error', error: 'DeviceNotRegistered', message: 'gone' }).onReceipt(token(3), null);
		await devices(3);
		const summary = await sender.sendAudience({ appId: APP }, message, { sendId: 'spring', record: true });
		expect(summary.delivered).toBe(3);
		expect(await awaited()).toHaveLength(3);

		// Too young to ask (the default waits 15 minutes).
		t.clock.now += 10 * MINUTE;
		expect(await check()).toMatchObject({ checked: 0 });
		expect(fakes.expo.receiptRequests).toEqual([]);

		t.clock.now += 10 * MINUTE;
		expect(await check()).toEqual({
			checked: 3,
			answered: 2,
			notReady: 1,
			expired: 0,
			byOutcome: { 'invalid-token': 1, delivered: 1 },
			byAction: { removed: 1, unchanged: 1 },
			byCode: { expo: { DeviceNotRegistered: 1 } },
			changed: [{ appId: APP, token: token(1), provider: 'expo', outcome: 'invalid-token', action: 'removed', userId: 'user-1', reason: expect.any(String), code: 'DeviceNotRegistered' }],
		});
		expect(await t.store.getDevice(APP, token(1))).toBeNull();
		expect(await t.store.register({ appId: APP, platform: 'android', token: token(1) })).toMatchObject({ action: 'refused' }); // tombstoned
		expect(await t.store.getDevice(APP, token(2))).toMatchObject({ lastStatus: 'sent' });
		expect(await awaited()).toEqual([[token(3), receiptOf(token(3))]]);

		// Asked again: only the one not ready; nothing applied twice.
		expect(await check()).toMatchObject({ checked: 1, answered: 0, notReady: 1 });
		expect(fakes.expo.receiptRequests.at(-1)).toEqual([receiptOf(token(3))]);
	});

	it('a receipt never answered expires when its provider stops keeping it', async () => {
		fakes.expo.onReceipt(token(1), null);
		await devices(1);
		await sender.sendAudience({ appId: APP }, message, { sendId: 'a', record: true });
		t.clock.now += 23 * 60 * MINUTE;
		expect(await check()).toMatchObject({ checked: 1, notReady: 1, expired: 0 });
		t.clock.now += 2 * 60 * MINUTE;
		expect(await check()).toMatchObject({ checked: 1, notReady: 0, expired: 1 });
		expect(await awaited()).toEqual([]);
	});

	it("only each device's latest push is awaited; a test send awaits none, a send that does not update the store does", async () => {
		await devices(2);
		await sender.sendAudience({ appId: APP }, message, { sendId: 'first', record: true });
		t.clock.now += MINUTE;
		await sender.sendAudience({ appId: APP }, message, { sendId: 'second', record: true });
		expect((await awaited()).sort()).toEqual([
			[token(1), receiptOf(token(1))],
			[token(2), receiptOf(token(2))],
		]);
		expect(fakes.expo.tickets.size).toBe(4);

		await t.store.register({ appId: APP, platform: 'android', token: token(3), userId: 'user-3' });
		const third = (await t.store.getDevice(APP, token(3)))!;
		await sender.send([third], message, { test: true, record: true });
		expect((await awaited()).map(([t]) => t)).not.toContain(token(3));
		await sender.send([third], message, { record: false });
		expect(await awaited()).toContainEqual([token(3), receiptOf(token(3))]);

		// A page at a time: the same answers whatever the page size.
		t.clock.now += 20 * MINUTE;
		expect(await check({ pageSize: 1 })).toMatchObject({ checked: 3, answered: 3, byOutcome: { delivered: 3 } });
		expect(fakes.expo.receiptRequests).toEqual([[expect.any(String)], [expect.any(String)], [expect.any(String)]]);
	});

	it('the clean-up drops receipts awaited longer than the send log is kept', async () => {
		await devices(2);
		await sender.sendAudience({ appId: APP }, message, { sendId: 'old', record: true });
		t.clock.now += 31 * 24 * 60 * MINUTE;
		expect(await t.store.cleanup({})).toMatchObject({ prunedReceipts: 2 });
		expect(await awaited()).toEqual([]);
	});
});
