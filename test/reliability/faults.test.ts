/**
 * Provider faults (issue 6, item 3): campaigns through the real libraries (firebase-admin, apns2,
 * web-push) to the fake providers while they inject 20% faults — 429 with Retry-After, 500, 503,
 * connection resets, HTTP/2 GOAWAY (FCM and APNs), answers slower than the client waits — plus a
 * few tokens the provider says are dead. The store is a real SQLite file, the send goes through
 * the sender in audience mode with a send id.
 *
 * What is asserted, per provider:
 *   - every device is either delivered exactly once (the fake counts what it accepted per token)
 *     or reported failed with a reason — never twice;
 *   - no token is removed or suppressed because of a transient error: the store after the send is
 *     the store before minus exactly the tokens the fake answered as dead;
 *   - APNs: the provider token (JWT) expires in the middle of the campaign (403
 *     ExpiredProviderToken): apns2 signs a new one and the pushes are retried.
 *
 * The faults here are injected *before* the fake processes a request (the fake's default): the
 * honest "not delivered" case, which the product promises to retry without duplicates. A reset
 * *after* processing (the answer lost) is the case no provider deduplicates (apns-id and FCM's
 * message name are not idempotency keys): the last test shows what the product does then (it
 * retries: the device gets it twice), as its send log comment says.
 *
 * Figures are printed (FAULTS_REPORT lines): messages, faults by kind, retries, duplicates, time.
 */
import '../fakes/network-edge.cjs';
import webpush from 'web-push';
import { ApnsTransport, FcmTransport, PushMessage, Sender, WebPushTransport, type Transport } from '../../nodes/core';
import { FAULT_KINDS, startFakes, type FakeSubscription, type FaultKind, type Fakes } from '../fakes/providers';
import { openTestStore, tokens, type TestStore } from '../support/stores';

const APP = 'com.example.app';
const SEED = Number(process.env.PUSH_TOKENS_FAULT_SEED ?? 6);
const N = { fcm: Number(process.env.PUSH_TOKENS_FAULT_N ?? 10_000), apns: Number(process.env.PUSH_TOKENS_FAULT_N ?? 10_000), webpush: Number(process.env.PUSH_TOKENS_FAULT_WEBPUSH_N ?? 2_000) };
/**
 * FCM and APNs: 429, 500, 503 and slow answers. Connection faults (reset, GOAWAY) on their
 * HTTP/2 connections are in the `failing` cases at the end: they produce duplicates today.
 */
const ANSWER_FAULTS: FaultKind[] = ['rate-limit', 'server-error', 'unavailable', 'slow'];
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

/** Every device of the app: token → last status. */
async function snapshot(): Promise<Map<string, string>> {
	const rows = await t.store.engine.db.selectFrom('devices').select(['token', 'last_status']).where('app_id', '=', APP).execute();
	return new Map(rows.map((r) => [r.token, r.last_status]));
}

interface Case {
	provider: 'fcm' | 'apns' | 'webpush';
	n: number;
	kinds: FaultKind[];
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
		kinds: ANSWER_FAULTS,
		transport: fcmTransport,
		rows: async (n) => Array.from({ length: n }, (_, i) => ({ appId: APP, platform: 'android', token: tokens.fcm(i) })),
		// firebase-admin waits a fixed 15 s for an answer: two slow answers, not hundreds.
		slowMs: 15_500,
		limits: { slow: 2 },
	},
	{
		provider: 'apns',
		n: N.apns,
		kinds: ANSWER_FAULTS,
		transport: apnsTransport,
		rows: async (n) => Array.from({ length: n }, (_, i) => ({ appId: APP, platform: 'ios', token: (i + 1).toString(16).padStart(64, '0') })),
		slowMs: 2_000, // well past the 500 ms client timeout, so a loaded event loop cannot blur the two
		// The provider token expires in the middle of the campaign.
		prepare: () => (fakes.apns.expireProviderTokenAfter = Math.floor(N.apns / 3)),
	},
	{
		provider: 'webpush',
		n: N.webpush,
		kinds: FAULT_KINDS.filter((k) => k !== 'goaway'), // HTTP/1.1: no GOAWAY
		transport: webPushTransport,
		rows: async (n) => Array.from({ length: n }, (_, i): { appId: string; platform: string; token: FakeSubscription } => ({ appId: APP, platform: 'web', token: fakes.webpush.subscribe(`s${i}`) })),
		slowMs: 2_000, // well past the 500 ms client timeout, so a loaded event loop cannot blur the two
	},
];

const run = (c: Case) => async () => {
		const fake = fakes[c.provider];
		const imported = await t.store.importTokens(await c.rows(c.n), { anonymousOnly: true });
		expect(imported).toMatchObject({ imported: c.n, invalid: 0 });
		const before = await snapshot();
		fake.faults = { rate: 0.2, seed: SEED, kinds: c.kinds, slowMs: c.slowMs, retryAfterSeconds: 1, limits: c.limits, deadRate: 0.002 };
		c.prepare?.();

		const sender = new Sender(t.store, { [c.provider]: c.transport() });
		const started = Date.now();
		const summary = await sender.sendAudience({ appId: APP, pageSize: 5000 }, message, { record: true, sendId: `faults-${c.provider}`, maxAttempts: 6, maxWaitSeconds: 2, failureLimit: c.n });
		const seconds = (Date.now() - started) / 1000;

		const all = [...before.keys()];
		const dead = new Set(all.filter((token) => fake.isDead(token)));
		const failed = new Map(summary.failures.map((f) => [f.token, f]));
		// Exactly once or failed with a reason, never twice.
		expect(fake.duplicates().map((token) => [token, fake.faultsOf.get(token)])).toEqual([]);
		for (const token of all) {
			const n = fake.delivered.get(token) ?? 0;
			if (n === 1) expect(failed.has(token)).toBe(false);
			else {
				expect([token, n, failed.get(token)?.reason]).toEqual([token, 0, expect.any(String)]);
				expect(failed.get(token)!.reason.length).toBeGreaterThan(0);
			}
		}
		expect(summary).toMatchObject({ devices: c.n, skipped: 0, configError: 0, invalidToken: dead.size, removed: dead.size });
		expect(summary.delivered).toBe(all.filter((token) => fake.delivered.get(token) === 1).length);
		expect(summary.delivered + summary.failed + summary.invalidToken).toBe(c.n);
		// The dead tokens are removed and tombstoned; every other token is still there, never bounced or suppressed.
		const after = await snapshot();
		expect([...after.keys()].sort()).toEqual(all.filter((token) => !dead.has(token)).sort());
		for (const [token, status] of after) expect([token, status]).toEqual([token, fake.delivered.get(token) === 1 ? 'sent' : before.get(token)]);
		for (const token of dead) expect(failed.get(token)).toMatchObject({ outcome: 'invalid-token', action: 'removed' });
		// Each kind of fault was injected.
		for (const kind of c.kinds) expect([kind, fake.injected[kind]]).toEqual([kind, expect.any(Number)]);
		for (const kind of c.kinds) expect(fake.injected[kind]).toBeGreaterThan(0);
		if (c.provider === 'apns') {
			expect(fakes.apns.expiredJwts.size).toBe(1);
			expect(fakes.apns.jwts.size).toBeGreaterThanOrEqual(2); // re-signed after ExpiredProviderToken
		}

		const requests = fake.received.length;
		const figures = {
			provider: c.provider,
			devices: c.n,
			delivered: summary.delivered,
			failed: summary.failed,
			dead: dead.size,
			requests,
			retries: requests - c.n,
			faults: { ...fake.injected, expiredProviderToken: c.provider === 'apns' ? [...fakes.apns.expiredJwts].length : undefined },
			duplicates: fake.duplicates().length,
			wronglyRemoved: all.filter((token) => !dead.has(token) && !after.has(token)).length,
			seconds,
		};
		process.stdout.write(`FAULTS_REPORT ${JSON.stringify(figures)}\n`);
};

describe.each(CASES)('[sqlite] $provider campaign with 20% provider faults', (c) => {
	it(`${c.provider}: every device delivered once or reported failed with a reason; only dead tokens removed`, run(c));
});

/**
 * Known bug, kept as `failing` tests so they turn red once fixed: with connection resets and
 * GOAWAY on the HTTP/2 connections, devices the fake accepted get the push again. Seen at
 * 10,000 devices: ~400 duplicates on FCM, ~50 on APNs, most of them on devices whose own
 * requests met no fault — answers lost with the connection, then retried. Undici (apns2)
 * destroys the socket on GOAWAY, dropping answers to streams the server already processed;
 * firebase-admin 13 never settles a request whose stream was still queued when the connection
 * was reset (sendEach then hangs: these cases use GOAWAY only on FCM).
 */
describe('[sqlite] HTTP/2 connection faults (known bug: duplicates)', () => {
	const small = (c: Case, kinds: FaultKind[]): Case => ({ ...c, n: 2000, kinds, prepare: undefined });
	it.failing('fcm with GOAWAY: every device delivered once', run(small(CASES[0], ['goaway', 'rate-limit'])));
	it.failing('apns with resets and GOAWAY: every device delivered once', run(small(CASES[1], ['reset', 'goaway'])));
});

describe('[sqlite] an answer lost after the provider processed the request', () => {
	it('is retried (transient): the device gets the push twice — neither APNs nor FCM deduplicates a resent request', async () => {
		await t.store.importTokens([{ appId: APP, platform: 'ios', token: tokens.apns(1) }], { anonymousOnly: true });
		// Every first request for the token is processed and then its connection reset; the second succeeds.
		fakes.apns.faults = { rate: 1, seed: SEED, kinds: ['reset'], point: 'after', limits: { reset: 1 } };
		const sender = new Sender(t.store, { apns: apnsTransport() });
		const summary = await sender.sendAudience({ appId: APP }, message, { record: true, sendId: 'lost-answer', wait: async () => undefined });
		expect(summary).toMatchObject({ devices: 1, delivered: 1 });
		expect(fakes.apns.injected.reset).toBe(1);
		expect(fakes.apns.delivered.get(tokens.apns(1))).toBe(2);
	});
});
