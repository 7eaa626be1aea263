/**
 * Send reports and opens, on both engines: the counts equal what the fake providers received and
 * answered (faults and retries included), reruns of a send id add up without counting a device
 * twice, an open counts once per device, and the retention removes the send log but not the report.
 */
import '../fakes/network-edge.cjs';
import { AppEndpoint, ApnsTransport, checkSizes, EndpointAuth, FcmTransport, PushMessage, Sender, withSendId, type SendReport, type Transports } from '../../nodes/core';
import { startFakes, type Fakes } from '../fakes/providers';
import { ENGINES, openTestStore, tokens, type TestStore } from '../support/stores';

const APP = 'com.example.app';
const FCM = 12;
const APNS = 6;
let fakes: Fakes;
let transports: Transports;
const message = PushMessage.parse({ title: 'Spring sale', body: '20% off' });
const noWait = async () => undefined;

beforeAll(async () => {
	fakes = await startFakes();
	process.env.PUSH_TOKENS_FAKE_ROUTES = JSON.stringify(fakes.routes);
	const sa = fakes.fcm.serviceAccount;
	transports = {
		fcm: new FcmTransport({ projectId: sa.project_id, clientEmail: sa.client_email, privateKey: sa.private_key }),
		apns: new ApnsTransport({ teamId: fakes.apns.teamId, keyId: fakes.apns.keyId, signingKey: fakes.apns.signingKey, bundleId: fakes.apns.bundleId }),
	};
});
afterAll(async () => {
	await Promise.all(Object.values(transports).map((tr) => tr!.close()));
	await fakes.close();
});

/** What the fakes accepted, all tokens. */
const accepted = () => [...fakes.fcm.delivered.values(), ...fakes.apns.delivered.values()].reduce((a, b) => a + b, 0);

it('push_send_id counts in the size limits, and a send id Send Push makes adds nothing', () => {
	// An FCM payload a few bytes under its 4,096-byte limit without the send id.
	let filler = 'x'.repeat(3800);
	while (checkSizes(PushMessage.parse({ title: 'T', data: { filler: filler + 'x' } }), ['fcm']) === null) filler += 'x';
	const full = PushMessage.parse({ title: 'T', data: { filler } });
	expect(checkSizes(full, ['fcm'])).toBeNull();
	expect(checkSizes(withSendId(full, 'spring-campaign-2026'), ['fcm'])).toMatch(/^the fcm payload is \d+ bytes, over its 4096-byte limit$/);
	expect(withSendId(full, 'n8n:1:node:0:0')).toBe(full);
	expect(withSendId(full, 'spring').data).toEqual({ filler, push_send_id: 'spring' });
});

describe.each(ENGINES)('[%s] send reports', (engine) => {
	let t: TestStore;
	let sender: Sender;
	beforeEach(async () => {
		fakes.reset();
		t = await openTestStore(engine);
		sender = new Sender(t.store, transports);
		for (let i = 0; i < FCM; i++) await t.store.register({ appId: APP, platform: 'android', token: tokens.fcm(i), deviceId: `android-${i}` });
		for (let i = 0; i < APNS; i++) await t.store.register({ appId: APP, platform: 'ios', token: tokens.apns(i + 1) });
	});
	afterEach(() => t.close());

	const campaign = (sendId = 'spring') => sender.sendAudience({ appId: APP, includeAnonymous: true, pageSize: 5 }, message, { sendId, record: true, maxAttempts: 2, wait: noWait });
	const report = async (sendId = 'spring') => (await t.store.sendReport(sendId)) as SendReport;

	it('counts what the providers answered: sent, failed by outcome and code, removed, by provider and platform; the payload carries the send id', async () => {
		fakes.fcm.on(tokens.fcm(3), { kind: 'error', status: 404, code: 'UNREGISTERED' });
		fakes.fcm.on(tokens.fcm(4), { kind: 'error', status: 503, code: 'UNAVAILABLE' });
		fakes.apns.on(tokens.apns(2), { kind: 'error', status: 400, code: 'BadDeviceToken' });
		const summary = await campaign();
		const r = await report();
		expect(r).toMatchObject({
			sendId: 'spring',
			title: 'Spring sale',
			targeted: FCM + APNS,
			sent: accepted(),
			deliveryUnknown: 0,
			failed: 3,
			removed: 2,
			opened: 0,
			openRate: 0,
			failedByOutcome: { 'invalid-token': 2, retry: 1 },
			failedByCode: { fcm: { UNREGISTERED: 1, UNAVAILABLE: 1 }, apns: { BadDeviceToken: 1 } },
			byProvider: { fcm: { targeted: FCM, sent: FCM - 2, deliveryUnknown: 0, failed: 2 }, apns: { targeted: APNS, sent: APNS - 1, deliveryUnknown: 0, failed: 1 } },
			byPlatform: { android: { targeted: FCM, sent: FCM - 2 }, ios: { targeted: APNS, sent: APNS - 1 } },
		});
		expect(r.sent).toBe(summary.delivered);
		expect(r.sent).toBe(FCM + APNS - 3);
		expect(r.timeline).toEqual([{ minute: r.startedAt, sent: r.sent, opened: 0 }]);
		// The payloads carry the send id for the app's open report.
		expect(fakes.fcm.received.every((m) => (m.body as { message: { data: Record<string, string> } }).message.data.push_send_id === 'spring')).toBe(true);
		expect(fakes.apns.received.every((m) => (m.body as Record<string, unknown>).push_send_id === 'spring')).toBe(true);
		// A handful of rows, whatever the audience.
		const rows = await t.store.engine.db.selectFrom('send_report_counts').select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
		expect(Number(rows.n)).toBeLessThan(30);
	});

	it('reruns of a send id add up and never count a device twice: a failure a rerun reaches moves to sent', async () => {
		// (firebase-admin retries a 503 itself: a 500 is ours to retry)
		fakes.fcm.on(tokens.fcm(4), { kind: 'error', status: 500, code: 'INTERNAL' }, { kind: 'error', status: 500, code: 'INTERNAL' }, { kind: 'ok' });
		fakes.apns.on(tokens.apns(2), { kind: 'error', status: 500, code: 'InternalServerError' }, { kind: 'error', status: 500, code: 'InternalServerError' }, { kind: 'error', status: 410, code: 'Unregistered' });
		await campaign();
		expect(await report()).toMatchObject({ targeted: FCM + APNS, sent: FCM + APNS - 2, failed: 2, failedByOutcome: { retry: 2 } });
		t.clock.advance(5 * 60_000);
		await campaign(); // fcm 4 delivered now, apns 2 dead now; the others skipped
		const r = await report();
		expect(r).toMatchObject({ targeted: FCM + APNS, sent: FCM + APNS - 1, failed: 1, removed: 1, failedByOutcome: { 'invalid-token': 1 }, failedByCode: { apns: { Unregistered: 1 } } });
		expect(r.sent).toBe([...fakes.fcm.delivered.keys(), ...fakes.apns.delivered.keys()].length);
		expect(Math.max(...fakes.fcm.delivered.values(), ...fakes.apns.delivered.values())).toBe(1); // each device reached once
		expect(r.timeline.map((m) => [m.minute.getTime() - r.startedAt.getTime(), m.sent])).toEqual([
			[0, FCM + APNS - 2],
			[5 * 60_000, 1],
		]);
		expect(r.skipped).toEqual({});
		// A third run finds everything reached: nothing changes but the latest census.
		await t.store.recordSkipped('spring', { unsubscribed: 2, alreadyReached: FCM + APNS - 1 });
		await t.store.recordSkipped('spring', { unsubscribed: 3, alreadyReached: FCM + APNS - 1 });
		await campaign();
		expect(await report()).toMatchObject({ targeted: FCM + APNS, sent: FCM + APNS - 1, failed: 1, skipped: { unsubscribed: 3, alreadyReached: FCM + APNS - 1 } });
	});

	it('with faults injected at a seeded rate, the report equals what the providers accepted, run after run', async () => {
		fakes.fcm.faults = { rate: 0.5, seed: 7, kinds: ['rate-limit', 'server-error', 'unavailable'], retryAfterSeconds: 0 };
		fakes.apns.faults = { rate: 0.5, seed: 7, kinds: ['server-error', 'unavailable'] };
		for (let run = 1; run <= 4; run++) {
			const summary = await campaign();
			const r = await report();
			expect([run, r.sent]).toEqual([run, accepted()]);
			expect(r.targeted).toBe(FCM + APNS);
			expect(r.sent + r.failed + r.deliveryUnknown).toBe(FCM + APNS);
			expect(r.failed).toBe(run === 1 ? summary.failed : r.failed);
			expect(Object.values(r.failedByOutcome).reduce((a, b) => a + (b ?? 0), 0)).toBe(r.failed);
		}
		expect(Math.max(...fakes.fcm.delivered.values(), ...fakes.apns.delivered.values())).toBe(1);
	});

	it('a push sent, its answer lost, counts as delivery unknown once, and a rerun does not send it again', async () => {
		let calls = 0;
		const lossy = new Sender(t.store, {
			fcm: {
				provider: 'fcm',
				send: async (devices) => devices.map(() => (calls++ === 0 ? { outcome: 'retry' as const, reason: 'connection lost', deliveryUnknown: true } : { outcome: 'delivered' as const, reason: 'ok' })),
				close: async () => undefined,
			},
		});
		const devices = [(await t.store.getDevice(APP, tokens.fcm(0)))!, (await t.store.getDevice(APP, tokens.fcm(1)))!];
		await lossy.send(devices, message, { sendId: 'lossy', record: true });
		await lossy.send(devices, message, { sendId: 'lossy', record: true });
		expect(await report('lossy')).toMatchObject({ targeted: 2, sent: 1, deliveryUnknown: 1, failed: 0 });
		expect(calls).toBe(2);
	});

	it('opens count once per device, by token or device id; unknown ones and devices not reached are ignored with a reason', async () => {
		fakes.fcm.on(tokens.fcm(4), { kind: 'error', status: 404, code: 'UNREGISTERED' });
		await campaign();
		t.clock.advance(3 * 60_000);
		expect(await t.store.recordOpen({ appId: APP, sendId: 'spring', token: tokens.fcm(1) })).toEqual({ counted: true });
		expect(await t.store.recordOpen({ appId: APP, sendId: 'spring', deviceId: 'android-2' })).toEqual({ counted: true });
		expect(await t.store.recordOpen({ appId: APP, sendId: 'spring', token: tokens.apns(1), openedAt: new Date(t.clock.now - 60_000).toISOString() })).toEqual({ counted: true });
		expect(await t.store.recordOpen({ appId: APP, sendId: 'spring', deviceId: 'android-1' })).toEqual({ counted: false, reason: 'already counted: an open counts once per device' });
		expect(await t.store.recordOpen({ appId: APP, sendId: 'spring', token: tokens.fcm(4) })).toEqual({ counted: false, reason: 'this send id did not reach that device' });
		expect(await t.store.recordOpen({ appId: APP, sendId: 'spring', token: tokens.fcm(999) })).toEqual({ counted: false, reason: 'this send id did not reach that device' });
		expect(await t.store.recordOpen({ appId: APP, sendId: 'spring', deviceId: 'nobody' })).toEqual({ counted: false, reason: 'no device of this app has that device id' });
		expect((await t.store.recordOpen({ appId: APP, sendId: 'autumn', token: tokens.fcm(1) })).reason).toMatch(/^no report for this send id/);
		await expect(t.store.recordOpen({ appId: APP, sendId: 'spring' })).rejects.toThrow('open: field "token": expected a token or a deviceId to find the device');
		await expect(t.store.recordOpen({ appId: APP, sendId: 'spring', token: tokens.fcm(1), openedAt: 'yesterday' })).rejects.toThrow('openedAt');
		const r = await report();
		expect(r).toMatchObject({ sent: FCM + APNS - 1, opened: 3, openRate: Math.round((3 / (FCM + APNS - 1)) * 10_000) / 10_000 });
		expect(r.timeline.map((m) => [(m.minute.getTime() - r.startedAt.getTime()) / 60_000, m.sent, m.opened])).toEqual([
			[0, FCM + APNS - 1, 0],
			[2, 0, 1],
			[3, 0, 2],
		]);
	});

	it('the retention removes the send log, not the report; an open after it is ignored with a reason', async () => {
		await campaign();
		await t.store.recordOpen({ appId: APP, sendId: 'spring', token: tokens.fcm(1) });
		const before = await report();
		t.clock.advanceDays(31);
		expect((await t.store.cleanup({})).prunedSendLogRows).toBe(FCM + APNS);
		expect(await t.store.recordOpen({ appId: APP, sendId: 'spring', token: tokens.fcm(2) })).toEqual({ counted: false, reason: 'the send log of this send id was removed by the retention: opens are no longer counted' });
		expect(await report()).toEqual(before);
	});

	it('lists sends newest first between two dates with their headline figures; the ids Send Push makes keep no report', async () => {
		const start = t.clock.now;
		await campaign('first');
		t.clock.advanceDays(1);
		await campaign('second');
		const devices = [(await t.store.getDevice(APP, tokens.fcm(0)))!];
		await sender.send(devices, message, { sendId: 'n8n:42:node:0:0', record: true });
		expect((fakes.fcm.received.at(-1)!.body as { message: { data?: Record<string, string> } }).message.data?.push_send_id).toBeUndefined();
		expect(await t.store.sendReport('n8n:42:node:0:0')).toBeNull();
		const all = await t.store.listSends({ from: start, to: t.clock.now + 1 });
		expect(all.map((s) => [s.sendId, s.targeted, s.sent, s.failed, s.opened])).toEqual([
			['second', FCM + APNS, FCM + APNS, 0, 0],
			['first', FCM + APNS, FCM + APNS, 0, 0],
		]);
		expect((await t.store.listSends({ from: new Date(start + 86_400_000).toISOString() })).map((s) => s.sendId)).toEqual(['second']);
		expect((await t.store.listSends({ to: start + 1 })).map((s) => s.sendId)).toEqual(['first']);
		expect(await t.store.listSends({ limit: 1 })).toHaveLength(1);
		await expect(t.store.listSends({ limit: 0 })).rejects.toThrow('send list: field "limit": expected a limit of 1 or more');
	});
});

describe.each(ENGINES)('[%s] opens through the app endpoint', (engine) => {
	let t: TestStore;
	beforeAll(async () => {
		t = await openTestStore(engine);
	});
	afterAll(() => t.close());

	it('POST /opened counts an open once, answers 200 with the reason when it does not, and 400 naming a bad field', async () => {
		const endpoint = new AppEndpoint(t.store, new EndpointAuth({ appKey: 'key', verification: 'none' }), null, { appId: APP, logoutMode: 'anonymous', maxBodyBytes: 64 * 1024, maxBatch: 500 });
		const call = (body: Record<string, unknown>) => endpoint.handle({ route: 'opened', body, bytes: JSON.stringify(body).length, appKey: 'key', client: '203.0.113.7' });
		await t.store.register({ appId: APP, platform: 'android', token: tokens.fcm(1), deviceId: 'aid-1' });
		const sender = new Sender(t.store, { fcm: { provider: 'fcm', send: async (devices) => devices.map(() => ({ outcome: 'delivered' as const, reason: 'ok' })), close: async () => undefined } });
		await sender.send([(await t.store.getDevice(APP, tokens.fcm(1)))!], message, { sendId: 'welcome' });
		expect(await call({ sendId: 'welcome', deviceId: 'aid-1' })).toMatchObject({ status: 200, body: { counted: true } });
		expect(await call({ sendId: 'welcome', token: tokens.fcm(1) })).toMatchObject({ status: 200, body: { counted: false, reason: 'already counted: an open counts once per device' } });
		expect(await call({ sendId: 'nope', token: tokens.fcm(1) })).toMatchObject({ status: 200, body: { counted: false } });
		expect(await call({ sendId: 'welcome', token: tokens.fcm(1), openedAt: 'soon' })).toMatchObject({ status: 400, body: { error: expect.stringContaining('openedAt') } });
		expect(await call({ token: tokens.fcm(1) })).toMatchObject({ status: 400, body: { error: expect.stringContaining('sendId') } });
		expect((await t.store.sendReport('welcome'))!.opened).toBe(1);
	});
});
