/**
 * Sending through the real libraries (firebase-admin, apns2, web-push) to fake providers on
 * 127.0.0.1 that speak the real protocols; only the network edge (where the hostnames lead) is
 * replaced. The store is a real SQLite file.
 */
import '../fakes/network-edge.cjs';
import webpush from 'web-push';
import {
	ApnsTransport,
	checkSizes,
	FcmTransport,
	PushMessage,
	Sender,
	WebPushTransport,
	type Transports,
} from '../../nodes/core';
import { startFakes, type Fakes } from '../fakes/providers';
import { openTestStore, tokens, type TestStore } from '../support/stores';

const APP = 'com.example.app';
let fakes: Fakes;
let t: TestStore;
let transports: Transports;
let waits: number[];
let sender: Sender;
const vapid = webpush.generateVAPIDKeys();
const message = (fields: object = {}) => PushMessage.parse({ title: 'Hello', body: 'World', ...fields });
const noWait = async (ms: number) => {
	waits.push(ms);
};

beforeAll(async () => {
	fakes = await startFakes();
	process.env.PUSH_TOKENS_FAKE_ROUTES = JSON.stringify(fakes.routes);
	fakes.webpush.vapidPublicKey = vapid.publicKey;
	const sa = fakes.fcm.serviceAccount;
	transports = {
		fcm: new FcmTransport({ projectId: sa.project_id, clientEmail: sa.client_email, privateKey: sa.private_key }),
		apns: new ApnsTransport({ teamId: fakes.apns.teamId, keyId: fakes.apns.keyId, signingKey: fakes.apns.signingKey, bundleId: fakes.apns.bundleId }),
		webpush: new WebPushTransport({ subject: 'mailto:ops@example.com', publicKey: vapid.publicKey, privateKey: vapid.privateKey, allowedPrivateHosts: [fakes.webpush.host] }),
	};
});
afterAll(async () => {
	await Promise.all(Object.values(transports).map((tr) => tr!.close()));
	await fakes.close();
});
beforeEach(async () => {
	fakes.reset();
	waits = [];
	t = await openTestStore('sqlite');
	sender = new Sender(t.store, transports);
});
afterEach(() => t.close());

async function device(platform: 'ios' | 'android' | 'web', token: unknown, userId = 'kim') {
	const result = await t.store.register({ appId: APP, platform, token, userId });
	if (result.action === 'refused') throw new Error('refused');
	return { ...result.device, userId };
}

describe('[sqlite] send through the real libraries to fake providers', () => {
	it('delivers to FCM, APNs and Web Push, each payload where its platform expects it', async () => {
		const sub = fakes.webpush.subscribe();
		const devices = [await device('android', tokens.fcm(1)), await device('ios', tokens.apns(2)), await device('web', sub)];
		const results = await sender.send(devices, message({ data: { order: { id: 7 }, kind: 'receipt' }, deepLink: 'app://orders/7', badge: 3 }), { record: true });

		expect(results.map((r) => [r.provider, r.outcome, r.action])).toEqual([
			['fcm', 'delivered', 'sent'],
			['apns', 'delivered', 'sent'],
			['webpush', 'delivered', 'sent'],
		]);
		const fcm = fakes.fcm.received[0].body as { message: { token: string; notification: object; data: Record<string, string> } };
		expect(fcm.message).toMatchObject({ token: tokens.fcm(1), notification: { title: 'Hello', body: 'World' }, data: { order: '{"id":7}', kind: 'receipt', deep_link: 'app://orders/7' } });
		const apns = fakes.apns.received[0];
		expect(apns.headers['apns-topic']).toBe(fakes.apns.bundleId);
		expect(apns.headers['apns-push-type']).toBe('alert');
		expect(apns.body).toEqual({ aps: { alert: { title: 'Hello', body: 'World' }, badge: 3 }, order: { id: 7 }, kind: 'receipt', deep_link: 'app://orders/7' });
		expect(fakes.webpush.received[0].body).toMatchObject({ title: 'Hello', body: 'World', badge: 3, data: { order: { id: 7 }, kind: 'receipt' } });
		for (const d of devices) expect((await t.store.getDevice(APP, d.token))!.lastStatus).toBe('sent');
		expect(fakes.fcm.tokensIssued).toBeGreaterThanOrEqual(1); // the service-account JWT was exchanged at the fake token endpoint
	});

	it('flattens nested pairs for legacy receivers, and sends a silent push as background', async () => {
		const devices = [await device('android', tokens.fcm(1)), await device('ios', tokens.apns(2))];
		await sender.send(devices, message({ data: { order: { id: 7, lines: [1] } }, flatten: true, silent: true }));
		expect((fakes.fcm.received[0].body as { message: object }).message).toMatchObject({ data: { 'order.id': '7', 'order.lines': '[1]' } });
		expect((fakes.fcm.received[0].body as { message: object }).message).not.toHaveProperty('notification');
		expect(fakes.apns.received[0].headers['apns-push-type']).toBe('background');
		expect(fakes.apns.received[0].headers['apns-priority']).toBe('5');
		expect(fakes.apns.received[0].body).toEqual({ aps: { 'content-available': 1 }, 'order.id': 7, 'order.lines': [1] });
	});

	it('removes and tombstones dead tokens: FCM UNREGISTERED, APNs 410 Unregistered, Web Push 410', async () => {
		const sub = fakes.webpush.subscribe();
		const devices = [await device('android', tokens.fcm(1)), await device('ios', tokens.apns(2)), await device('web', sub)];
		fakes.fcm.on(tokens.fcm(1), { kind: 'error', status: 404, code: 'UNREGISTERED', message: 'Requested entity was not found.' });
		fakes.apns.on(tokens.apns(2), { kind: 'error', status: 410, code: 'Unregistered' });
		fakes.webpush.on(sub.endpoint, { kind: 'error', status: 410, code: 'gone' });
		const results = await sender.send(devices, message(), { record: true });
		expect(results.map((r) => [r.outcome, r.action])).toEqual([
			['invalid-token', 'removed'],
			['invalid-token', 'removed'],
			['invalid-token', 'removed'],
		]);
		// the provider's own code, beside the outcome, and the reason the token is tombstoned with (as through Handle Push Feedback)
		expect(results.map((r) => [r.code, r.reason])).toEqual([
			['UNREGISTERED', 'UNREGISTERED'],
			['Unregistered', 'Unregistered'],
			['410', 'HTTP 410'],
		]);
		const dead = await t.store.engine.db.selectFrom('dead_tokens').select(['token', 'reason']).execute();
		expect(Object.fromEntries(dead.map((d) => [d.token, d.reason]))).toMatchObject({ [tokens.fcm(1)]: 'UNREGISTERED', [tokens.apns(2)]: 'Unregistered', [sub.endpoint]: 'HTTP 410' });
		for (const d of devices) expect(await t.store.getDevice(APP, d.token)).toBeNull();
		expect((await t.store.register({ appId: APP, platform: 'ios', token: tokens.apns(2) })).action).toBe('refused');
	});

	it('retries transient answers with backoff, honouring Retry-After, and each device gets it once', async () => {
		const sub = fakes.webpush.subscribe();
		const devices = [await device('android', tokens.fcm(1)), await device('ios', tokens.apns(2)), await device('web', sub)];
		// (firebase-admin retries a 503 by itself; a 429 it leaves to us)
		fakes.fcm.on(tokens.fcm(1), { kind: 'error', status: 429, code: 'QUOTA_EXCEEDED' }, { kind: 'ok' });
		fakes.apns.on(tokens.apns(2), { kind: 'error', status: 429, code: 'TooManyRequests' }, { kind: 'ok' });
		fakes.webpush.on(sub.endpoint, { kind: 'error', status: 429, code: 'slow down', retryAfter: 2 }, { kind: 'ok' });
		const results = await sender.send(devices, message(), { record: true, wait: noWait });
		expect(results.map((r) => [r.outcome, r.attempts])).toEqual([
			['delivered', 2],
			['delivered', 2],
			['delivered', 2],
		]);
		// Web Push's Retry-After: 2 is honoured (apns2 and firebase-admin do not expose the header: backoff applies)
		expect(waits.some((ms) => ms >= 2000)).toBe(true);
		expect(fakes.fcm.countFor(tokens.fcm(1))).toBe(2);
		expect(fakes.apns.countFor(tokens.apns(2))).toBe(2);
		expect(fakes.webpush.countFor(sub.endpoint)).toBe(2);
	});

	it('a transient error that outlasts the attempts changes no token', async () => {
		const devices = [await device('ios', tokens.apns(2)), await device('android', tokens.fcm(3))];
		fakes.apns.on(tokens.apns(2), { kind: 'error', status: 503, code: 'ServiceUnavailable' });
		fakes.fcm.on(tokens.fcm(3), { kind: 'error', status: 429, code: 'QUOTA_EXCEEDED' });
		const results = await sender.send(devices, message(), { record: true, wait: noWait, maxAttempts: 3 });
		expect(results.map((r) => [r.outcome, r.attempts, r.action, r.deliveryUnknown])).toEqual([
			['retry', 3, 'unchanged', undefined],
			['retry', 3, 'unchanged', undefined],
		]);
		expect(fakes.apns.countFor(tokens.apns(2))).toBe(3);
		expect(await t.store.getDevice(APP, tokens.apns(2))).toMatchObject({ lastStatus: 'unused' });
		expect(await t.store.getDevice(APP, tokens.fcm(3))).toMatchObject({ lastStatus: 'unused' });
	});

	it('a push refused by a GOAWAY (above its last stream id) is resent; one whose connection is lost after sending is reported failed, delivery unknown, never resent', async () => {
		const devices = [await device('ios', tokens.apns(2)), await device('ios', tokens.apns(3)), await device('android', tokens.fcm(4)), await device('android', tokens.fcm(5))];
		fakes.apns.on(tokens.apns(2), { kind: 'goaway' }, { kind: 'ok' });
		fakes.apns.on(tokens.apns(3), { kind: 'reset' }, { kind: 'ok' });
		fakes.fcm.on(tokens.fcm(4), { kind: 'goaway' }, { kind: 'ok' });
		fakes.fcm.on(tokens.fcm(5), { kind: 'reset' }, { kind: 'ok' });
		// (the GOAWAY ones first: a reset on the same connection would cut them off too)
		const refused = await sender.send([devices[0], devices[2]], message(), { record: true, wait: noWait, maxAttempts: 3, sendId: 'lost' });
		const lost = await sender.send([devices[1], devices[3]], message(), { record: true, wait: noWait, maxAttempts: 3, sendId: 'lost' });
		const results = [refused[0], lost[0], refused[1], lost[1]];
		expect(results.map((r) => [r.token, r.outcome, r.attempts, r.deliveryUnknown ?? false])).toEqual([
			[tokens.apns(2), 'delivered', 2, false],
			[tokens.apns(3), 'retry', 1, true],
			[tokens.fcm(4), 'delivered', 2, false],
			[tokens.fcm(5), 'retry', 1, true],
		]);
		for (const r of [results[1], results[3]]) expect(r.reason).toMatch(/^connection lost after the push was sent: delivery unknown, not retried so it is never pushed twice \(.+\)$/);
		// The refused ones were not processed the first time: each device got its push once.
		expect([fakes.apns.delivered.get(tokens.apns(2)), fakes.fcm.delivered.get(tokens.fcm(4))]).toEqual([1, 1]);
		expect(fakes.apns.goaways.length + fakes.fcm.goaways.length).toBe(2);
		expect(fakes.apns.refusedStreams + fakes.fcm.refusedStreams).toBe(2);
		// The lost ones were sent once, and stay claimed by the send id: a rerun does not push them again.
		expect([fakes.apns.countFor(tokens.apns(3)), fakes.fcm.countFor(tokens.fcm(5))]).toEqual([1, 1]);
		const rerun = await sender.send(devices, message(), { wait: noWait, sendId: 'lost' });
		expect(rerun.map((r) => r.action)).toEqual(['skipped', 'skipped', 'skipped', 'skipped']);
		expect([fakes.apns.countFor(tokens.apns(3)), fakes.fcm.countFor(tokens.fcm(5))]).toEqual([1, 1]);
		// No token changed because of it.
		for (const d of [tokens.apns(3), tokens.fcm(5)]) expect(await t.store.getDevice(APP, d)).toMatchObject({ lastStatus: 'unused' });
	});

	it('Web Push in the declarative form (Safari 18.4+): shown by the browser, opening the deep link', async () => {
		const sub = fakes.webpush.subscribe();
		const d = await device('web', sub);
		const declarative = message({ deepLink: 'https://shop.example/sale', badge: 2, data: { campaign: 'spring' }, webpush: { declarative: true } });
		const [result] = await sender.send([d], declarative, { wait: noWait });
		expect(result.outcome).toBe('delivered');
		expect(fakes.webpush.received[0].body).toEqual({
			web_push: 8030,
			notification: { title: 'Hello', body: 'World', navigate: 'https://shop.example/sale', data: { campaign: 'spring', deep_link: 'https://shop.example/sale' } },
			app_badge: 2,
		});
		// What the browser needs to show it, named before anything is sent.
		const refused = PushMessage.safeParse({ body: 'World', deepLink: 'app://orders/7', silent: true, webpush: { declarative: true } });
		expect(refused.success).toBe(false);
		expect(refused.error!.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
			['deepLink', 'expected deepLink as an https:// URL: a declarative Web Push opens it when the notification is clicked'],
			['title', 'expected a title (in every language given): a declarative Web Push always shows a notification'],
			['silent', 'expected silent off: a declarative Web Push always shows a notification'],
		]);
	});

	it("APNs keys limited to one environment: each device's environment picks its key", async () => {
		const production = fakes.apns.addKey('PRODKEY001', 'production');
		const sandbox = fakes.apns.addKey('SANDKEY001', 'sandbox');
		const base = { teamId: fakes.apns.teamId, bundleId: fakes.apns.bundleId };
		const two = new ApnsTransport({ ...base, keyId: 'PRODKEY001', signingKey: production, keyEnvironment: 'production', secondKeyId: 'SANDKEY001', secondSigningKey: sandbox });
		const one = new ApnsTransport({ ...base, keyId: 'PRODKEY001', signingKey: production, keyEnvironment: 'production' });
		// The key limited to production, said to serve both: the sandbox refuses it, as Apple does.
		const unlimited = new ApnsTransport({ ...base, keyId: 'PRODKEY001', signingKey: production });
		try {
			const prod = await device('ios', tokens.apns(2));
			const dev = { ...(await t.store.register({ appId: APP, platform: 'ios', token: tokens.apns(3), userId: 'kim', environment: 'sandbox' })), userId: 'kim' };
			if (dev.action === 'refused') throw new Error('refused');
			const both = [prod, { ...dev.device, userId: 'kim' }];

			const withTwo = await new Sender(t.store, { apns: two }).send(both, message(), { wait: noWait });
			expect(withTwo.map((r) => r.outcome)).toEqual(['delivered', 'delivered']);
			const kids = fakes.apns.received.map((r) => [r.token, JSON.parse(Buffer.from(String(r.headers.authorization).split(' ')[1].split('.')[0], 'base64url').toString()).kid]);
			expect(kids).toEqual([
				[tokens.apns(2), 'PRODKEY001'],
				[tokens.apns(3), 'SANDKEY001'],
			]);

			const withOne = await new Sender(t.store, { apns: one }).send(both, message(), { wait: noWait });
			expect(withOne.map((r) => r.outcome)).toEqual(['delivered', 'config-error']);
			expect(withOne[1].reason).toBe('the APNs credential has no key for the sandbox environment: its key is limited to production; add a second key for sandbox');
			expect(fakes.apns.countFor(tokens.apns(3))).toBe(1); // nothing sent without a key

			const [, refused] = await new Sender(t.store, { apns: unlimited }).send(both, message(), { wait: noWait });
			expect(refused).toMatchObject({ outcome: 'config-error', reason: expect.stringContaining('InvalidProviderToken') });
		} finally {
			await Promise.all([two.close(), one.close(), unlimited.close()]);
		}
	});

	it('a push that outlasts the timeout is reported failed, delivery unknown, never resent', async () => {
		const quick = new ApnsTransport({ teamId: fakes.apns.teamId, keyId: fakes.apns.keyId, signingKey: fakes.apns.signingKey, bundleId: fakes.apns.bundleId, requestTimeoutMs: 200 });
		try {
			const d = await device('ios', tokens.apns(2));
			fakes.apns.on(tokens.apns(2), { kind: 'slow', ms: 1000 }, { kind: 'ok' });
			const [result] = await new Sender(t.store, { apns: quick }).send([d], message(), { wait: noWait });
			expect(result).toMatchObject({ outcome: 'retry', attempts: 1, deliveryUnknown: true, reason: expect.stringContaining('no answer within 200 ms') });
			expect(fakes.apns.countFor(tokens.apns(2))).toBe(1);
		} finally {
			await quick.close();
		}
	});

	it('a provider that cannot be reached is retried: nothing was sent', async () => {
		const closed = new FcmTransport({ projectId: fakes.fcm.serviceAccount.project_id, clientEmail: fakes.fcm.serviceAccount.client_email, privateKey: fakes.fcm.serviceAccount.private_key });
		const routes = process.env.PUSH_TOKENS_FAKE_ROUTES!;
		try {
			const d = await device('android', tokens.fcm(2));
			await closed.accessToken(); // (the token endpoint is the same fake: get the token first)
			process.env.PUSH_TOKENS_FAKE_ROUTES = JSON.stringify({ ...fakes.routes, 'fcm.googleapis.com': '127.0.0.1:1' });
			const [result] = await new Sender(t.store, { fcm: closed }).send([d], message(), { wait: noWait, maxAttempts: 2 });
			expect(result).toMatchObject({ outcome: 'retry', attempts: 2, reason: expect.stringMatching(/^not sent \(safe to retry\)/) });
			expect(result.deliveryUnknown).toBeUndefined();
		} finally {
			process.env.PUSH_TOKENS_FAKE_ROUTES = routes;
			await closed.close();
		}
	});

	it('re-signs an expired APNs provider token and retries', async () => {
		const [d] = [await device('ios', tokens.apns(2))];
		fakes.apns.on(tokens.apns(2), { kind: 'error', status: 403, code: 'ExpiredProviderToken' }, { kind: 'ok' });
		const [result] = await sender.send([d], message(), { wait: noWait });
		expect(result).toMatchObject({ outcome: 'delivered', attempts: 2 });
		expect(fakes.apns.jwts.size).toBeGreaterThanOrEqual(2);
	});

	it('a test send changes no token, even when the provider says it is dead', async () => {
		const d = await device('android', tokens.fcm(1));
		fakes.fcm.on(tokens.fcm(1), { kind: 'error', status: 404, code: 'UNREGISTERED' });
		const [result] = await sender.send([d], message(), { record: true, test: true });
		expect(result).toMatchObject({ outcome: 'invalid-token', action: 'unchanged', test: true });
		expect(await t.store.getDevice(APP, tokens.fcm(1))).not.toBeNull();
	});

	it('a rerun of the same send id reaches no device twice', async () => {
		const devices = [await device('android', tokens.fcm(1)), await device('android', tokens.fcm(2)), await device('ios', tokens.apns(3))];
		fakes.fcm.on(tokens.fcm(2), { kind: 'error', status: 429, code: 'QUOTA_EXCEEDED' });
		await sender.send(devices, message(), { sendId: 'campaign-42', wait: noWait, maxAttempts: 1 });
		const before = fakes.fcm.received.length + fakes.apns.received.length;
		fakes.fcm.on(tokens.fcm(2), { kind: 'ok' });
		const rerun = await sender.send(devices, message(), { sendId: 'campaign-42', wait: noWait });
		expect(rerun.map((r) => (r.action === 'skipped' ? 'skipped' : r.outcome))).toEqual(['skipped', 'delivered', 'skipped']);
		expect(fakes.fcm.received.length + fakes.apns.received.length - before).toBe(1);
	});

	it('refuses a Web Push endpoint on a private or loopback address unless the credential allows it', async () => {
		const sub = { ...fakes.webpush.subscribe(), endpoint: `https://127.0.0.1:${fakes.webpush.port}/push/x` };
		const d = await device('web', sub);
		const [result] = await sender.send([d], message(), { record: true });
		expect(result).toMatchObject({ outcome: 'config-error', reason: expect.stringContaining('a special-purpose address (loopback)') });
		expect(fakes.webpush.received).toHaveLength(0);
		expect(await t.store.getDevice(APP, sub.endpoint)).not.toBeNull();
	});

	it('checks the payload against each provider limit before sending', () => {
		const big = message({ body: 'x'.repeat(3990) });
		expect(checkSizes(big, ['fcm'])).toBeNull();
		expect(checkSizes(big, ['webpush'])).toMatch(/^the webpush payload is \d+ bytes, over its 3993-byte limit$/);
		expect(checkSizes(message({ data: { blob: 'y'.repeat(4100) } }), ['apns'])).toMatch(/apns payload is \d+ bytes, over its 4096-byte limit/);
	});

	it('a campaign streams the audience in pages and sends each device once', async () => {
		await t.store.importTokens(Array.from({ length: 2500 }, (_, i) => ({ appId: APP, platform: 'android', token: tokens.fcm(1000 + i) })));
		await t.store.importTokens([{ appId: APP, platform: 'ios', token: tokens.apns(9) }]);
		fakes.fcm.on(tokens.fcm(1000), { kind: 'error', status: 404, code: 'UNREGISTERED' });
		const summary = await sender.sendAudience({ appId: APP, pageSize: 700 }, message(), { record: true, failureLimit: 5, sendId: 'c1' });
		expect(summary).toMatchObject({ devices: 2501, delivered: 2500, invalidToken: 1, removed: 1, failed: 0, byProvider: { fcm: { devices: 2500, delivered: 2499 }, apns: { devices: 1, delivered: 1 } } });
		expect(summary.failures).toHaveLength(1);
		expect(new Set(fakes.fcm.received.map((r) => r.token)).size).toBe(fakes.fcm.received.length);
		const again = await sender.sendAudience({ appId: APP, pageSize: 700 }, message(), { sendId: 'c1' });
		expect(again).toMatchObject({ devices: 2500, skipped: 2500, delivered: 0 });
	});
});
