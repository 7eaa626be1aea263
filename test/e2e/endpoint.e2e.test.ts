/**
 * The Push Token Endpoint in a real n8n 2.41.1 (`n8n start`), on SQLite and on PostgreSQL: every
 * answer code, the three hijacks of issue 18 refused with nothing written, the JWT's refusals, and
 * the workflow run only for the events ticked (each run registers a marker token in the store,
 * so the test counts runs there).
 */
import { generateKeyPairSync, createHmac, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { PushMessage, Sender } from '../../nodes/core';
import { ENGINES, tokens } from '../support/stores';
import { example, line, node, N8nHarness, PACKAGE, type NodeSpec } from './harness';

jest.setTimeout(600_000);

const APP = 'com.example.app';
const APP_KEY = 'app-key-0123456789';
const HMAC_SECRET = 'hmac-secret-0123456789abcdef';
const AUTH = { id: 'endpointAuth0001', name: 'Endpoint Auth' };
/** A store credential whose PostgreSQL nobody serves. */
const AWAY = { id: 'storeAway0000001', name: 'Store away' };
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const proof = (userId: string) => createHmac('sha256', HMAC_SECRET).update(userId).digest('hex');
const jwt = (sub: string, expiresIn: string | number = '5m') => new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setSubject(sub).setIssuedAt().setExpirationTime(expiresIn).sign(privateKey);
const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

function endpoint(name: string, webhookId: string, parameters: Record<string, unknown>): NodeSpec {
	return { name, type: `${PACKAGE}.pushTokenEndpoint`, typeVersion: 2, parameters, store: true, credentials: { pushTokenEndpointAuthApi: AUTH }, webhookId };
}
/** What a ticked event runs: a marker token per run, in an app of its own. */
const marker = node.register('Marker', { appId: 'events.log', platform: 'android', token: '={{ "marker:" + $json.event + ":" + $execution.id }}', userId: '={{ $json.event }}' });

describe.each(ENGINES)('[%s] Push Token Endpoint in a real n8n', (engine) => {
	let n8n: N8nHarness;
	let base: string;
	const hmacId = randomUUID();
	const jwtId = randomUUID();
	const awayId = randomUUID();
	const call = async (route: string, body: unknown, headers: Record<string, string> = { 'x-app-key': APP_KEY }, id: string = hmacId) => {
		const response = await fetch(`${base}/webhook/${id}/${route}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
		return { status: response.status, body: (await response.json().catch(() => null)) as Record<string, unknown> & { error?: string }, retryAfter: response.headers.get('retry-after') };
	};
	/** Runs the event workflow made: one marker device per run. */
	const runs = async (event: string) => (await n8n.store.engine.db.selectFrom('devices').select('token').where('app_id', '=', 'events.log').execute()).filter((d) => d.token.startsWith(`marker:${event}:`)).length;
	const devices = async () => (await n8n.store.engine.db.selectFrom('devices').innerJoin('profiles', 'profiles.id', 'devices.profile_id').select(['devices.token', 'devices.device_id', 'profiles.external_id']).where('devices.app_id', '=', APP).orderBy('devices.token').execute());

	beforeAll(async () => {
		n8n = await N8nHarness.create(engine);
		await n8n.importCredentials([
			{ ...AUTH, type: 'pushTokenEndpointAuthApi', data: { appKey: APP_KEY, hmacSecret: HMAC_SECRET, jwtAlgorithm: 'RS256', jwtKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(), leewaySeconds: 5 } },
		]);
		const events = ['registered', 'moved', 'loggedOut', 'deadTokenRefused'];
		await n8n.importWorkflow({ ...line('endpoint hmac', endpoint('Endpoint', hmacId, { appId: APP, verification: 'hmac', events, options: { perClient: 0, perDevice: 8, maxBodyKb: 16 } }), marker), active: true }, true);
		await n8n.importWorkflow({ ...line('endpoint jwt', endpoint('Endpoint', jwtId, { appId: APP, verification: 'jwt', options: { perClient: 0, perDevice: 0 } })), active: true }, true);
		await n8n.importCredentials([{ ...AWAY, type: 'pushTokenStoreApi', data: { engine: 'postgres', connection: 'url', url: 'postgres://postgres@127.0.0.1:1/nowhere' } }]);
		const away = line('endpoint away', endpoint('Endpoint', awayId, { appId: APP, verification: 'hmac' }));
		(away.nodes as Array<{ credentials: Record<string, unknown> }>)[0].credentials.pushTokenStoreApi = AWAY;
		await n8n.importWorkflow({ ...away, active: true }, true);
		// The two examples as shipped, under the credential id they name.
		await n8n.importCredentials([{ id: 'pushEndpointAuth1', name: 'Push Token Endpoint Auth', type: 'pushTokenEndpointAuthApi', data: { appKey: APP_KEY, hmacSecret: HMAC_SECRET } }]);
		for (const name of ['register-token-webhook', 'login-logout-webhooks']) await n8n.importWorkflow({ ...example(name, n8n.folder), active: true }, true);
		base = await n8n.start();
		await n8n.postWhenLive(base, `${hmacId}/register`, { platform: 'android', token: tokens.fcm(900) }, { 'x-app-key': APP_KEY });
	});
	afterAll(async () => {
		await n8n?.dispose();
	});

	it('an app open registers, answers 200, and runs the workflow once for the new device; a routine open runs nothing', async () => {
		const token = tokens.fcm(1);
		const first = await call('register', { platform: 'android', token, deviceId: 'device-1' });
		expect(first).toMatchObject({ status: 200, body: { action: 'registered', appId: APP, token, deviceId: 'device-1', provider: 'fcm' } });
		expect(first.body).not.toHaveProperty('userId');
		const again = await call('register', { platform: 'android', token, deviceId: 'device-1' });
		expect(again).toMatchObject({ status: 200, body: { action: 'refreshed', changed: [] } });
		// the warm-up's device and this one: two runs; the refresh none
		await waitForRuns(() => runs('registered'), 2);
	});

	it('401 without the app key or with a wrong one; nothing written', async () => {
		const before = await devices();
		expect(await call('register', { platform: 'android', token: tokens.fcm(2) }, {})).toMatchObject({ status: 401, body: { error: 'no app key: send it in the X-App-Key header' } });
		expect(await call('register', { platform: 'android', token: tokens.fcm(2) }, { 'x-app-key': `${APP_KEY}x` })).toMatchObject({ status: 401, body: { error: 'wrong app key' } });
		expect(await devices()).toEqual(before);
	});

	it('400 naming the field; 404 for an unknown route or device', async () => {
		expect(await call('register', { platform: 'android', token: 'has spaces in it' })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^field "token": expected an FCM registration token/) } });
		expect(await call('register', '[1,2]')).toMatchObject({ status: 400, body: { error: 'expected the body to be a JSON object' } });
		expect(await call('identify', { token: tokens.fcm(404), userId: 'kim', userProof: proof('kim') })).toMatchObject({ status: 404 });
	});

	it('a user is named only with its proof: 403 without it, with a wrong one, or with the proof of another user', async () => {
		const token = tokens.fcm(3);
		const before = await devices();
		for (const userProof of [undefined, 'f'.repeat(64), proof('mallory')]) {
			const answer = await call('register', { platform: 'android', token, userId: 'victim', ...(userProof ? { userProof } : {}) });
			expect(answer.status).toBe(403);
		}
		expect(await devices()).toEqual(before);
		expect(await call('register', { platform: 'android', token: tokens.fcm(4), deviceId: 'victim-phone', userId: 'victim', userProof: proof('victim') })).toMatchObject({ status: 200, body: { action: 'registered', userId: 'victim' } });
	});

	it('the three hijacks answer 403 and write nothing', async () => {
		const before = await devices();
		// 1. my own token under the victim's user id, without the victim's proof
		expect((await call('register', { platform: 'android', token: tokens.fcm(5), userId: 'victim' })).status).toBe(403);
		// 2. my token with the victim's device id: would supersede the victim's token (with my own valid proof, or none)
		const hijack = await call('register', { platform: 'android', token: tokens.fcm(6), deviceId: 'victim-phone', userId: 'mallory', userProof: proof('mallory') });
		expect(hijack).toMatchObject({ status: 403, body: { error: 'a new token for this device id needs the proof of the user it belongs to' } });
		expect(JSON.stringify(hijack.body)).not.toContain('victim');
		expect((await call('register', { platform: 'android', token: tokens.fcm(6), deviceId: 'victim-phone' })).status).toBe(403);
		// 3. identify with only the victim's device id
		expect(await call('identify', { deviceId: 'victim-phone', userId: 'mallory', userProof: proof('mallory') })).toMatchObject({ status: 403, body: { error: 'moving this device needs the proof of the user it belongs to' } });
		expect(await devices()).toEqual(before);
		expect(before.find((d) => d.device_id === 'victim-phone')).toMatchObject({ token: tokens.fcm(4), external_id: 'victim' });
	});

	it('a login with the token moves it (one run), a logout needs the owner\'s proof (403, then 200 and one run)', async () => {
		const token = tokens.fcm(7);
		await call('register', { platform: 'android', token, userId: 'ann', userProof: proof('ann') });
		const login = await call('identify', { token, userId: 'bob', userProof: proof('bob') });
		expect(login).toMatchObject({ status: 200, body: { action: 'moved', userId: 'bob' } });
		expect(login.body).not.toHaveProperty('fromUserId');
		await waitForRuns(() => runs('moved'), 1);
		expect((await call('logout', { token })).status).toBe(403);
		expect((await call('logout', { token, userId: 'ann', userProof: proof('ann') })).status).toBe(403);
		expect(await call('logout', { token, userId: 'bob', userProof: proof('bob') })).toMatchObject({ status: 200, body: { action: 'anonymized' } });
		await waitForRuns(() => runs('loggedOut'), 1);
	});

	it('409 for a dead token (one run), 413 for a body over the limit, 429 with Retry-After past the device limit', async () => {
		const dead = tokens.fcm(8);
		await call('register', { platform: 'android', token: dead });
		await n8n.store.recordOutcome({ appId: APP, token: dead, outcome: 'invalid-token', reason: 'UNREGISTERED' });
		expect(await call('register', { platform: 'android', token: dead })).toMatchObject({ status: 409, body: { action: 'refused', error: expect.stringMatching(/^the token is dead \(UNREGISTERED/) } });
		await waitForRuns(() => runs('deadTokenRefused'), 1);

		expect(await call('register', { platform: 'android', token: tokens.fcm(9), padding: 'x'.repeat(17 * 1024) })).toMatchObject({ status: 413, body: { error: expect.stringMatching(/over the 16384-byte limit/) } });

		const token = tokens.fcm(10);
		const statuses: number[] = [];
		let retryAfter: string | null = null;
		for (let i = 0; i < 9; i++) {
			const answer = await call('register', { platform: 'android', token });
			statuses.push(answer.status);
			retryAfter ??= answer.retryAfter;
		}
		expect(statuses).toEqual([...Array(8).fill(200), 429]);
		expect(Number(retryAfter)).toBeGreaterThan(0);
	});

	it('batch: each registration answered in order, proofs checked one by one', async () => {
		const answer = await call('batch', {
			registrations: [
				{ platform: 'android', token: tokens.fcm(11) },
				{ platform: 'android', token: 'bad token' },
				{ platform: 'android', token: tokens.fcm(12), userId: 'carol' },
				{ platform: 'android', token: tokens.fcm(13), userId: 'carol', userProof: proof('carol') },
			],
		});
		expect(answer.status).toBe(200);
		expect((answer.body.results as Array<{ status: number }>).map((r) => r.status)).toEqual([200, 400, 403, 200]);
		for (const registrations of [[], Array.from({ length: 501 }, () => ({}))]) {
			expect(await call('batch', { registrations })).toMatchObject({ status: 400, body: { error: 'field "registrations": expected an array of 1 to 500 registrations' } });
		}
	});

	it('opened: a push opened counts once in its send report, answered 200 either way', async () => {
		const token = tokens.fcm(15);
		await call('register', { platform: 'android', token, deviceId: 'device-15' });
		const sender = new Sender(n8n.store, { fcm: { provider: 'fcm', send: async (list) => list.map(() => ({ outcome: 'delivered' as const, reason: 'ok' })), close: async () => undefined } });
		await sender.send([(await n8n.store.getDevice(APP, token))!], PushMessage.parse({ title: 'Hi', body: 'there' }), { sendId: 'e2e-opened' });
		expect(await call('opened', { sendId: 'e2e-opened', deviceId: 'device-15' })).toMatchObject({ status: 200, body: { counted: true } });
		expect(await call('opened', { sendId: 'e2e-opened', token })).toMatchObject({ status: 200, body: { counted: false, reason: 'already counted: an open counts once per device' } });
		expect(await call('opened', { sendId: 'e2e-opened' })).toMatchObject({ status: 400, body: { error: 'field "token": expected a token or a deviceId to find the device' } });
		expect((await n8n.store.sendReport('e2e-opened'))!.opened).toBe(1);
	});

	it('JWT: a valid RS256 token proves its sub; expired, alg none, HS256 with the public key, another sub and a wrong key are refused', async () => {
		const token = tokens.fcm(14);
		const ok = await call('register', { platform: 'android', token, userId: 'dana', userProof: await jwt('dana') }, { 'x-app-key': APP_KEY }, jwtId);
		expect(ok).toMatchObject({ status: 200, body: { userId: 'dana' } });
		const before = await devices();
		const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
		const refusals: Array<[string, string, RegExp]> = [
			['expired', await jwt('erin', Math.floor(Date.now() / 1000) - 60), /has expired/],
			['alg none', `${base64url({ alg: 'none' })}.${base64url({ sub: 'erin', exp: Math.floor(Date.now() / 1000) + 300 })}.`, /algorithm|cannot be read/],
			['HS256 signed with the public key', await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('erin').setExpirationTime('5m').sign(Buffer.from(publicKey.export({ type: 'spki', format: 'pem' }).toString())), /algorithm/],
			['another sub', await jwt('dana'), /for another user id/],
			['a wrong key', await new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setSubject('erin').setExpirationTime('5m').sign(other), /signature does not verify/],
			['no exp', await new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setSubject('erin').sign(privateKey), /claim exp is missing|"exp" claim/],
		];
		for (const [what, userProof, reason] of refusals) {
			const answer = await call('register', { platform: 'android', token: tokens.fcm(15), userId: 'erin', userProof }, { 'x-app-key': APP_KEY }, jwtId);
			expect([what, answer.status]).toEqual([what, 403]);
			expect(answer.body.error).toMatch(reason);
		}
		expect(await devices()).toEqual(before);
	});

	it('503 with Retry-After when the store is unreachable, nothing written', async () => {
		const answer = await call('register', { platform: 'android', token: tokens.fcm(17) }, { 'x-app-key': APP_KEY }, awayId);
		expect(answer).toMatchObject({ status: 503, retryAfter: '5', body: { error: 'the token store is unreachable or the endpoint is not configured; nothing was changed' } });
		expect(JSON.stringify(answer.body)).not.toContain('127.0.0.1');
	});

	it('the shipped examples answer the app: register, login, logout', async () => {
		const [register, login] = ['3c6b9e21-5d47-4a8f-b2e0-91f7c4d8a6b3', '6f0d2a51-3c8e-4b7a-9d15-2e6c8b4f7a90'];
		const token = tokens.fcm(18);
		expect(await call('register', { platform: 'android', token, deviceId: 'ex-1' }, undefined, register)).toMatchObject({ status: 200, body: { action: 'registered', appId: APP } });
		expect(await call('identify', { token, userId: 'fern', userProof: proof('fern') }, undefined, login)).toMatchObject({ status: 200, body: { action: 'moved', userId: 'fern' } });
		expect(await call('logout', { token, userId: 'fern', userProof: proof('fern') }, undefined, login)).toMatchObject({ status: 200, body: { action: 'anonymized' } });
	});

	it('no secret in any answer', async () => {
		const answers = [await call('register', { platform: 'android', token: tokens.fcm(16), userId: 'x', userProof: 'nope' }), await call('register', {}, { 'x-app-key': 'nope' })];
		for (const a of answers) for (const secret of [APP_KEY, HMAC_SECRET]) expect(JSON.stringify(a.body)).not.toContain(secret);
	});
});

/** The event workflow runs after the answer: wait for its runs to land. */
async function waitForRuns(count: () => Promise<number>, expected: number): Promise<void> {
	const deadline = Date.now() + 60_000;
	let seen = await count();
	while (seen < expected && Date.now() < deadline) {
		await new Promise((done) => setTimeout(done, 250));
		seen = await count();
	}
	// and no more than that, a moment later
	await new Promise((done) => setTimeout(done, 500));
	expect(await count()).toBe(expected);
}
