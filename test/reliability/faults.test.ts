/**
 * Provider faults (issue 6, item 3): campaigns through the real libraries (firebase-admin, apns2,
 * web-push, expo-server-sdk) to the fake providers while they inject 20% faults — 429 with
 * Retry-After, 500, 503, connection resets, HTTP/2 GOAWAY (FCM and APNs), answers slower than the
 * client waits — plus a few tokens the provider says are dead. Expo answers up to 100 devices a
 * request and a fault fails the whole request, as Expo's do: its rate per device is lower, so
 * about a third of its requests fail. The store is a real SQLite file, the send goes through
 * the sender in audience mode with a send id.
 *
 * What is asserted, per provider:
 *   - no device is pushed twice (the fake counts what it accepted per token);
 *   - every device is delivered once or reported failed with a reason: a device reported
 *     delivered was accepted exactly once; one reported failed after a certain non-delivery (429,
 *     5xx, a stream refused above a GOAWAY's last stream id) was not accepted; one reported
 *     failed with its delivery unknown (a reset or a timeout after the push went out) was accepted
 *     at most once, and is still claimed by the send id;
 *   - a GOAWAY loses nothing: the streams below its last stream id are answered, those above it
 *     are refused and resent, so no device fails because of a GOAWAY alone;
 *   - no token is removed or suppressed because of a transient error: the store after the send is
 *     the store before minus exactly the tokens the fake answered as dead;
 *   - APNs: the provider token (JWT) expires in the middle of the campaign (403
 *     ExpiredProviderToken): apns2 signs a new one and the pushes are retried.
 * The faults are injected *before* the fake processes a request; a reset also loses the answers
 * of that connection's requests in flight, processed or not — the ambiguous case. The last tests
 * show the product on an answer lost *after* the provider processed the request.
 *
 * Figures are printed (FAULTS_REPORT lines): devices, delivered, failed by reason, faults by
 * kind, retries, duplicates, wrongly removed, time.
 */
import '../fakes/network-edge.cjs';
import { connect, createServer, type AddressInfo } from 'node:net';
import webpush from 'web-push';
import { ApnsTransport, FcmTransport, PushMessage, Sender, WebPushTransport, type Transport } from '../../nodes/core';
import { ExpoTransport } from '../../nodes/core/providers/expo';
import { FAULT_KINDS, startFakes, type FakeSubscription, type FaultKind, type Fakes } from '../fakes/providers';
import { openTestStore, tokens, type TestStore } from '../support/stores';

const APP = 'com.example.app';
const SEED = Number(process.env.PUSH_TOKENS_FAULT_SEED ?? 6);
const N = {
	fcm: Number(process.env.PUSH_TOKENS_FAULT_N ?? 10_000),
	apns: Number(process.env.PUSH_TOKENS_FAULT_N ?? 10_000),
	webpush: Number(process.env.PUSH_TOKENS_FAULT_WEBPUSH_N ?? 1_000),
	expo: Number(process.env.PUSH_TOKENS_FAULT_N ?? 10_000) / 2,
};
const message = PushMessage.parse({ title: 'Sale', body: 'Everything must go' });
const vapid = webpush.generateVAPIDKeys();

let fakes: Fakes;
let t: TestStore;
const transports: Transport[] = [];

jest.setTimeout(240_000);

beforeAll(async () => {
	fakes = await startFakes();
	process.env.PUSH_TOKENS_FAKE_ROUTES = JSON.stringify(fakes.routes);
	fakes.webpush.vapidPublicKey = vapid.publicKey;
});
afterAll(async () => {
	await Promise.all(transports.map((tr) => tr.close()));
	await fakes.close();
});
beforeEach(async () => {
	fakes.reset();
	t = await openTestStore('sqlite');
});
afterEach(() => t.close());

function fcmTransport() {
	const sa = fakes.fcm.serviceAccount;
	const tr = new FcmTransport({ projectId: sa.project_id, clientEmail: sa.client_email, privateKey: sa.private_key });
	transports.push(tr);
	return tr;
}
function apnsTransport() {
	// A short client timeout so the slow answers (past it) cost little time.
	const tr = new ApnsTransport({ teamId: fakes.apns.teamId, keyId: fakes.apns.keyId, signingKey: fakes.apns.signingKey, bundleId: fakes.apns.bundleId, requestTimeoutMs: 500 });
	transports.push(tr);
	return tr;
}
function webPushTransport() {
	const tr = new WebPushTransport({ subject: 'mailto:ops@example.com', publicKey: vapid.publicKey, privateKey: vapid.privateKey, allowedPrivateHosts: [fakes.webpush.host], timeoutMs: 500 });
	transports.push(tr);
	return tr;
}
function expoTransport() {
	// The SDK's own 429 retries after 1 ms (its wait is a second, then two); a slow answer gives up after 500 ms.
	const tr = new ExpoTransport({ retryMinTimeoutMs: 1, requestTimeoutMs: 500 });
	transports.push(tr);
	return tr;
}

/** Every device of the app: token → last status. */
async function snapshot(): Promise<Map<string, string>> {
	const rows = await t.store.engine.db.selectFrom('devices').select(['token', 'last_status']).where('app_id', '=', APP).execute();
	return new Map(rows.map((r) => [r.token, r.last_status]));
}

interface Case {
	provider: 'fcm' | 'apns' | 'webpush' | 'expo';
	n: number;
	/** Share of a device's requests faulted. */
	rate?: number;
	kinds: FaultKind[];
	/** HTTP/2: GOAWAY and refused streams. */
	http2: boolean;
	transport: () => Transport;
	rows: (n: number) => Promise<object[]>;
	slowMs: number;
	limits?: Partial<Record<FaultKind, number>>;
	prepare?: () => void;
}

const CASES: Case[] = [
	{
		provider: 'fcm',
		n: N.fcm,
		kinds: FAULT_KINDS,
		http2: true,
		transport: fcmTransport,
		rows: async (n) => Array.from({ length: n }, (_, i) => ({ appId: APP, platform: 'android', token: tokens.fcm(i) })),
		// firebase-admin waits a fixed 15 s for an answer: one slow answer, not hundreds (each costs a 15 s round).
		slowMs: 15_500,
		limits: { slow: 1 },
	},
	{
		provider: 'apns',
		n: N.apns,
		kinds: FAULT_KINDS,
		http2: true,
		transport: apnsTransport,
		rows: async (n) => Array.from({ length: n }, (_, i) => ({ appId: APP, platform: 'ios', token: (i + 1).toString(16).padStart(64, '0') })),
		slowMs: 2_000, // well past the 500 ms client timeout, so a loaded event loop cannot blur the two
		// The provider token expires in the middle of the campaign.
		prepare: () => (fakes.apns.expireProviderTokenAfter = Math.floor(N.apns / 10)),
	},
	{
		provider: 'webpush',
		n: N.webpush,
		kinds: FAULT_KINDS.filter((k) => k !== 'goaway'), // HTTP/1.1: no GOAWAY
		http2: false,
		transport: webPushTransport,
		rows: async (n) => Array.from({ length: n }, (_, i): { appId: string; platform: string; token: FakeSubscription } => ({ appId: APP, platform: 'web', token: fakes.webpush.subscribe(`s${i}`) })),
		slowMs: 2_000, // well past the 500 ms client timeout, so a loaded event loop cannot blur the two
	},
	{
		provider: 'expo',
		n: N.expo,
		rate: 0.004, // 1 - 0.996^100: a third of the requests of 100
		kinds: FAULT_KINDS.filter((k) => k !== 'goaway'), // HTTP/1.1: no GOAWAY
		http2: false,
		transport: expoTransport,
		rows: async (n) => Array.from({ length: n }, (_, i) => ({ appId: APP, platform: i % 2 ? 'ios' : 'android', token: `ExponentPushToken[${String(i).padStart(22, 'x')}]` })),
		slowMs: 2_000,
	},
];

const run = (c: Case) => async () => {
		const fake = fakes[c.provider];
		const imported = await t.store.importTokens(await c.rows(c.n), { anonymousOnly: true });
		expect(imported).toMatchObject({ imported: c.n, invalid: 0 });
		const before = await snapshot();
		fake.faults = { rate: c.rate ?? 0.2, seed: SEED, kinds: c.kinds, slowMs: c.slowMs, retryAfterSeconds: 1, limits: c.limits, deadRate: 0.002 };
		c.prepare?.();

		const sender = new Sender(t.store, { [c.provider]: c.transport() });
		const started = Date.now();
		const summary = await sender.sendAudience({ appId: APP, pageSize: 5000 }, message, { record: true, sendId: `faults-${c.provider}`, maxAttempts: 6, maxWaitSeconds: 2, failureLimit: c.n });
		const seconds = (Date.now() - started) / 1000;

		const all = [...before.keys()];
		const failed = new Map(summary.failures.map((f) => [f.token, f]));
		// Only tokens the fake holds dead are reported dead (and removed); a dead token that is not was never
		// answered: each of its requests was refused, cut off or lost, so it failed as a retry.
		const dead = new Set(summary.failures.filter((f) => f.outcome === 'invalid-token').map((f) => f.token));
		expect([...dead].filter((token) => !fake.isDead(token))).toEqual([]);
		expect(all.filter((token) => fake.isDead(token) && !dead.has(token) && failed.get(token)?.outcome !== 'retry')).toEqual([]);
		const after = await snapshot();
		const byReason: Record<string, number> = {};
		for (const f of summary.failures) {
			const key = f.deliveryUnknown ? 'delivery unknown' : f.outcome === 'invalid-token' ? 'dead token' : f.reason.replace(/\d+/g, 'N').slice(0, 60);
			byReason[key] = (byReason[key] ?? 0) + 1;
		}
		const requests = fake.received.length;
		const figures = {
			provider: c.provider,
			devices: c.n,
			delivered: summary.delivered,
			failed: summary.failed,
			deliveryUnknown: summary.deliveryUnknown,
			failedByReason: byReason,
			dead: dead.size,
			requests,
			retries: requests - new Set(fake.received.map((r) => r.token)).size, // requests the fake received again for a token
			faults: { ...fake.injected, expiredProviderToken: c.provider === 'apns' ? [...fakes.apns.expiredJwts].length : undefined },
			goawayRefusedStreams: c.http2 ? fake.refusedStreams : undefined,
			duplicates: fake.duplicates().length,
			wronglyRemoved: all.filter((token) => !after.has(token) && failed.get(token)?.outcome !== 'invalid-token').length,
			seconds,
		};
		process.stdout.write(`FAULTS_REPORT ${JSON.stringify(figures)}\n`);
		// Never twice.
		expect(fake.duplicates().map((token) => [token, fake.faultsOf.get(token)])).toEqual([]);
		// Delivered once, or failed with a reason: certainly not delivered, or (delivery unknown) at most once.
		const wrong: unknown[] = [];
		for (const token of all) {
			const n = fake.delivered.get(token) ?? 0;
			const f = failed.get(token);
			if (!f) {
				if (n !== 1) wrong.push({ token, accepted: n, reported: 'delivered' });
			} else if (!f.reason) wrong.push({ token, accepted: n, reported: f });
			else if (f.deliveryUnknown) {
				if (n > 1 || !/^connection lost after the push was sent: delivery unknown, not retried so it is never pushed twice \(.+\)$/.test(f.reason)) wrong.push({ token, accepted: n, reported: f });
			} else if (n !== 0) wrong.push({ token, accepted: n, reported: f });
		}
		expect(wrong).toEqual([]);
		expect(summary).toMatchObject({ devices: c.n, skipped: 0, configError: 0, invalidToken: dead.size, removed: dead.size });
		expect(summary.delivered).toBe(all.length - failed.size);
		expect(summary.delivered + summary.failed + summary.invalidToken).toBe(c.n);
		expect(summary.deliveryUnknown).toBe(summary.failures.filter((f) => f.deliveryUnknown).length);
		// The dead tokens are removed and tombstoned; every other token is still there, never bounced or suppressed.
		expect([...after.keys()].sort()).toEqual(all.filter((token) => !dead.has(token)).sort());
		for (const [token, status] of after) expect([token, status]).toEqual([token, failed.has(token) ? before.get(token) : 'sent']);
		for (const token of dead) expect(failed.get(token)).toMatchObject({ outcome: 'invalid-token', action: 'removed' });
		// Each kind of fault was injected.
		for (const kind of c.kinds) expect([kind, fake.injected[kind]]).toEqual([kind, expect.any(Number)]);
		for (const kind of c.kinds) expect(fake.injected[kind]).toBeGreaterThan(0);
		if (c.http2) {
			// A GOAWAY refuses the streams above its last stream id (resent) and answers those below: it loses nothing.
			// (a GOAWAY fault on a connection already going away sends no second one)
			expect(fake.goaways.length).toBeGreaterThan(0);
			expect(fake.goaways.length).toBeLessThanOrEqual(fake.injected.goaway);
			expect(fake.refusedStreams).toBeGreaterThanOrEqual(fake.goaways.length);
		}
		// Only a device whose push went out and met a connection fault or a timeout can be unknown; the others were retried to the end.
		const unknown = summary.failures.filter((f) => f.deliveryUnknown);
		for (const f of summary.failures.filter((x) => x.outcome === 'retry' && !x.deliveryUnknown)) expect([f.token, f.attempts]).toEqual([f.token, 6]);
		for (const f of unknown) expect([f.token, f.attempts]).toEqual([f.token, expect.any(Number)]);
		// The ambiguous ones stay claimed by the send id: a rerun (faults over) skips them, and reaches only the ones certainly not delivered.
		const certain = summary.failures.filter((f) => f.outcome === 'retry' && !f.deliveryUnknown).length;
		fake.faults = null;
		const rerun = await sender.sendAudience({ appId: APP, pageSize: 5000 }, message, { sendId: `faults-${c.provider}`, failureLimit: 10 });
		expect(rerun).toMatchObject({ devices: c.n - dead.size, skipped: c.n - dead.size - certain, delivered: certain, failed: 0 });
		// Still never twice (a request the client gave up on may reach a backlogged fake after the summary: at most once)
		expect(fake.duplicates()).toEqual([]);
		if (c.provider === 'apns') {
			expect(fakes.apns.expiredJwts.size).toBe(1);
			expect(fakes.apns.jwts.size).toBeGreaterThanOrEqual(2); // re-signed after ExpiredProviderToken
		}

};

describe.each(CASES)('[sqlite] $provider campaign with 20% provider faults', (c) => {
	it(`${c.provider}: every device delivered once or reported failed with a reason; only dead tokens removed`, run(c));
});

/** One device of a provider, for the tests of a single lost answer. */
const ONE = {
	apns: { platform: 'ios', token: tokens.apns(1), transport: apnsTransport },
	fcm: { platform: 'android', token: tokens.fcm(1), transport: fcmTransport },
	expo: { platform: 'ios', token: `ExponentPushToken[${'1'.padStart(22, 'x')}]`, transport: expoTransport },
};

describe('[sqlite] an answer lost after the provider processed the request', () => {
	it.each(['apns', 'fcm', 'expo'] as const)('%s: reported failed with its delivery unknown, not retried, kept claimed: the device gets it once', async (provider) => {
		const { platform, token, transport } = ONE[provider];
		await t.store.importTokens([{ appId: APP, platform, token }], { anonymousOnly: true });
		// Every first request for the token is processed and then its connection reset; a second one would succeed.
		fakes[provider].faults = { rate: 1, seed: SEED, kinds: ['reset'], point: 'after', limits: { reset: 1 } };
		const sender = new Sender(t.store, { [provider]: transport() });
		const summary = await sender.sendAudience({ appId: APP }, message, { record: true, sendId: 'lost-answer', failureLimit: 1, wait: async () => undefined });
		expect(summary).toMatchObject({ devices: 1, delivered: 0, failed: 1, deliveryUnknown: 1 });
		expect(summary.failures[0]).toMatchObject({ attempts: 1, deliveryUnknown: true, reason: expect.stringContaining('delivery unknown') });
		expect(fakes[provider].injected.reset).toBe(1);
		expect(fakes[provider].delivered.get(token)).toBe(1);
		// A rerun of the send id skips it: it may have been delivered.
		const again = await sender.sendAudience({ appId: APP }, message, { sendId: 'lost-answer' });
		expect(again).toMatchObject({ devices: 1, skipped: 1 });
		expect(fakes[provider].delivered.get(token)).toBe(1);
		expect(await t.store.getDevice(APP, token)).toMatchObject({ lastStatus: 'unused' });
	});

	it('apns: a request waits for its connection before its timeout starts: made in 300 ms and answered in 300 ms, within 500 ms, it is delivered once', async () => {
		const token = tokens.apns(1);
		await t.store.importTokens([{ appId: APP, platform: 'ios', token }], { anonymousOnly: true });
		// Every connection reaches the fake 300 ms late; the fake answers 300 ms after a request.
		const proxy = createServer((client) => {
			const held: Buffer[] = [];
			client.on('data', (chunk) => held.push(chunk));
			client.on('error', () => undefined);
			setTimeout(() => {
				const upstream = connect(fakes.apns.port, '127.0.0.1', () => {
					client.removeAllListeners('data');
					for (const chunk of held) upstream.write(chunk);
					client.pipe(upstream).pipe(client);
				});
				upstream.on('error', () => client.destroy());
				client.on('close', () => upstream.destroy());
			}, 300);
		});
		await new Promise<void>((done) => proxy.listen(0, '127.0.0.1', done));
		const routes = process.env.PUSH_TOKENS_FAKE_ROUTES;
		process.env.PUSH_TOKENS_FAKE_ROUTES = JSON.stringify({ ...fakes.routes, 'api.push.apple.com': `127.0.0.1:${(proxy.address() as AddressInfo).port}` });
		fakes.apns.latencyMs = 300;
		try {
			const sender = new Sender(t.store, { apns: apnsTransport() });
			const summary = await sender.sendAudience({ appId: APP }, message, { record: true, sendId: 'slow-connection', wait: async () => undefined });
			expect(summary).toMatchObject({ devices: 1, delivered: 1, failed: 0 });
			expect(fakes.apns.delivered.get(token)).toBe(1);
		} finally {
			fakes.apns.latencyMs = 0;
			process.env.PUSH_TOKENS_FAKE_ROUTES = routes;
			proxy.close();
		}
	});

	it.each(['apns', 'fcm', 'expo'] as const)('%s, with Resend Lost Answers (at least once): resent and delivered; the device got it twice', async (provider) => {
		const { platform, token, transport } = ONE[provider];
		await t.store.importTokens([{ appId: APP, platform, token }], { anonymousOnly: true });
		fakes[provider].faults = { rate: 1, seed: SEED, kinds: ['reset'], point: 'after', limits: { reset: 1 } };
		const sender = new Sender(t.store, { [provider]: transport() });
		const summary = await sender.sendAudience({ appId: APP }, message, { record: true, sendId: 'at-least-once', resendLostAnswers: true, wait: async () => undefined });
		expect(summary).toMatchObject({ devices: 1, delivered: 1, failed: 0, deliveryUnknown: 0 });
		expect(fakes[provider].delivered.get(token)).toBe(2);
		// The send id still holds it: a rerun does not push a third time.
		expect(await sender.sendAudience({ appId: APP }, message, { sendId: 'at-least-once' })).toMatchObject({ skipped: 1 });
		expect(fakes[provider].delivered.get(token)).toBe(2);
	});
});
