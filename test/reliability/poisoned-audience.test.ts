/**
 * Issue 22, items 1 and 3, on both engines: one attacker must not stop a campaign.
 *
 * A register webhook is public, so a Web Push subscription's endpoint is anyone's input: it may
 * name a host that resolves to a private address (refused by our guard) or a server that answers
 * 403 to everything. 2,000 such registrations, made in a burst (UUIDv7 ids: the first two pages
 * of the audience), used to come back all 'config-error' and stop every campaign at page one.
 * Now a refusal by a device's own push service is judged by what else the credential reached:
 *   - every good device is reached, and the poisoned ones bounce, then are suppressed at the
 *     second campaign (with the refusal as the reason);
 *   - a VAPID key refused everywhere still stops the send, says so, and changes no token.
 * Item 3: a tombstoned endpoint does not come back with a trailing dot.
 *
 * Nothing leaves the machine: names resolve through the resolver given to the transport, the
 * fake push service and the refusing server listen on 127.0.0.1 (the network edge routes them).
 */
import '../fakes/network-edge.cjs';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import type { LookupAddress } from 'node:dns';
import webpush from 'web-push';
import { PushMessage, Sender, SendConfigError, WebPushTransport } from '../../nodes/core';
import { startFakes, type Fakes } from '../fakes/providers';
import { ENGINES, openTestStore, tokens, type TestStore } from '../support/stores';

const APP = 'com.example.web';
const GOOD = Number(process.env.PUSH_TOKENS_POISON_GOOD ?? 10_000);
const POISONED = 2_000;
const vapid = webpush.generateVAPIDKeys();
const message = PushMessage.parse({ title: 'Sale', body: 'Everything -20%' });

jest.setTimeout(300_000);

let fakes: Fakes;
/** A push service an attacker runs: it refuses every push (as a real one refuses a key it does not know). */
let refusing: Server;
let refused = 0;

beforeAll(async () => {
	fakes = await startFakes();
	fakes.webpush.vapidPublicKey = vapid.publicKey;
	const certs = join(__dirname, '../fakes/certs');
	refusing = createServer({ key: readFileSync(join(certs, 'server.key')), cert: readFileSync(join(certs, 'server.crt')) }, (req, res) => {
		refused++;
		req.resume();
		res.writeHead(403).end('the VAPID credentials do not correspond to the credentials used to create the subscription');
	});
	await new Promise<void>((done) => refusing.listen(0, '127.0.0.1', done));
	process.env.PUSH_TOKENS_FAKE_ROUTES = JSON.stringify({ ...fakes.routes, localhost: `127.0.0.1:${(refusing.address() as { port: number }).port}` });
});
afterAll(async () => {
	await fakes.close();
	await new Promise((done) => refusing.close(done));
});

/** The names of this test: the fake push service and "localhost" (the refusing server) are as if public; evil.example resolves to a private address. */
const resolve = async (host: string): Promise<LookupAddress[]> => [{ address: host === 'evil.example' ? '10.20.30.40' : '127.0.0.1', family: 4 }];

function transport(publicKey = vapid.publicKey, privateKey = vapid.privateKey): WebPushTransport {
	return new WebPushTransport({ subject: 'mailto:ops@example.com', publicKey, privateKey, allowedPrivateHosts: [fakes.webpush.host, 'localhost'], timeoutMs: 5_000 }, { resolve });
}

/** Half aimed at a private address, half at the refusing server; the keys are a browser's. */
const poisoned = (i: number) => ({ endpoint: i % 2 ? `https://evil.example/push/${i}` : `https://localhost/push/${i}`, keys: tokens.webpush(i).keys });
const isPoisoned = (token: string) => /^https:\/\/(evil\.example|localhost)\//.test(token);

describe.each(ENGINES)('[%s] a campaign an attacker cannot stop', (engine) => {
	let t: TestStore;
	beforeAll(async () => {
		t = await openTestStore(engine);
	});
	afterAll(() => t.close());

	const statuses = async () => {
		const rows = await t.store.engine.db.selectFrom('devices').select(['token', 'last_status', 'consecutive_bounces']).execute();
		const of = (poison: boolean) => rows.filter((r) => isPoisoned(r.token) === poison);
		const count = (list: typeof rows) => list.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.last_status]: (acc[r.last_status] ?? 0) + 1 }), {});
		return { good: count(of(false)), poisoned: count(of(true)) };
	};

	it(`${POISONED} poisoned registrations before ${GOOD} good ones: every good device is reached, the poisoned are suppressed by the second campaign`, async () => {
		// The attacker registers first, in a burst, under one user id: the audience's first pages are theirs.
		const attack = await t.store.importTokens(Array.from({ length: POISONED }, (_, i) => ({ appId: APP, platform: 'web', token: poisoned(i), userId: 'attacker' })));
		expect(attack).toMatchObject({ imported: POISONED, invalid: 0 });
		const good = await t.store.importTokens(Array.from({ length: GOOD }, (_, i) => ({ appId: APP, platform: 'web', token: fakes.webpush.subscribe(`g${i}`), userId: `user-${i}` })));
		expect(good).toMatchObject({ imported: GOOD, invalid: 0 });
		const firstPage = await t.store.engine.db.selectFrom('devices').select('token').orderBy('id').limit(1000).execute();
		expect(firstPage.every((d) => isPoisoned(d.token))).toBe(true);

		const tr = transport();
		try {
			refused = 0;
			const summary = await new Sender(t.store, { webpush: tr }).sendAudience({ appId: APP, pageSize: 1000 }, message, { record: true, sendId: 'campaign-1', failureLimit: 10 });
			expect(summary).toMatchObject({ devices: GOOD + POISONED, delivered: GOOD, configError: 0, failed: POISONED, invalidToken: 0 });
			expect(fakes.webpush.delivered.size).toBe(GOOD);
			expect(refused).toBe(POISONED / 2); // the private address was never connected to
			expect(summary.failures[0]).toMatchObject({ outcome: 'bounced', action: 'bounced' });
			expect(await statuses()).toEqual({ good: { sent: GOOD }, poisoned: { bounced: POISONED } });

			const second = await new Sender(t.store, { webpush: tr }).sendAudience({ appId: APP, pageSize: 1000 }, message, { record: true, sendId: 'campaign-2', failureLimit: POISONED });
			expect(second).toMatchObject({ delivered: GOOD, configError: 0, failed: POISONED });
			expect(await statuses()).toEqual({ good: { sent: GOOD }, poisoned: { suppressed: POISONED } });
			const reasons = new Set(second.failures.map((f) => f.reason.replace(/\d+\.\d+\.\d+\.\d+|\/push\/\d+/g, '…')));
			expect([...reasons].sort()).toEqual([
				"HTTP 403 from localhost (other devices were reached with the same credential: this device's own failure)",
				"endpoint host evil.example resolves to …, a special-purpose address (private-use): not posted to; allow the host in the credential to send there (other devices were reached with the same credential: this device's own failure)",
			]);

			// The next campaign sends to none of them.
			expect(await t.store.audienceCensus({ appId: APP })).toMatchObject({ providers: ['webpush'], excluded: { suppressed: POISONED } });
		} finally {
			await tr.close();
		}
	});

	it('a VAPID key refused everywhere stops the send, says so, and changes no token', async () => {
		const before = await statuses();
		const other = webpush.generateVAPIDKeys();
		const tr = transport(other.publicKey, other.privateKey);
		try {
			const error = await new Sender(t.store, { webpush: tr }).sendAudience({ appId: APP, pageSize: 1000 }, message, { record: true, sendId: 'wrong-key' }).catch((e: unknown) => e);
			expect(error).toBeInstanceOf(SendConfigError);
			expect((error as SendConfigError).message).toMatch(/no device was reached and every push service refused: HTTP 403 from webpush\.fake\.test/);
			expect((error as SendConfigError).summary).toMatchObject({ delivered: 0, configError: GOOD });
			expect(await statuses()).toEqual(before);
		} finally {
			await tr.close();
		}
	});

	it('3. a tombstoned Web Push endpoint does not come back with a trailing dot', async () => {
		const sub = tokens.webpush(1);
		await t.store.register({ appId: APP, platform: 'web', token: sub });
		await t.store.recordOutcome({ appId: APP, token: sub.endpoint, outcome: 'invalid-token', reason: 'HTTP 410' });
		for (const endpoint of ['https://push.example.com./send/1', 'https://PUSH.example.com.:443/send/1']) {
			expect(await t.store.register({ appId: APP, platform: 'web', token: { ...sub, endpoint } })).toMatchObject({ action: 'refused', reason: expect.stringMatching(/^the token is dead \(HTTP 410/) });
		}
		await expect(t.store.register({ appId: APP, platform: 'web', token: { ...sub, endpoint: 'https://push.example.com../send/1' } })).rejects.toThrow(/field "token\.endpoint": expected an https:\/\/ endpoint URL/);
	});
});
