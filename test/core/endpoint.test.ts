/**
 * The app endpoint's core on a real store (SQLite and PostgreSQL): the ownership rule
 * (lifecycle/claims.ts) case by case, the proofs (HMAC; JWT with RS256, ES256 and HS256 through
 * jose), the answers that carry only what was proved, and the rate limits in memory and on a
 * real Redis shared by two endpoints (two webhook processes).
 */
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { AppEndpoint, CallLimiter, closeRedisClients, EndpointAuth, ForbiddenError, type Call, type EndpointAuthConfig } from '../../nodes/core';
import { ensureRedis, type Redis } from '../support/redis';
import { ENGINES, openTestStore, tokens, type TestStore } from '../support/stores';

const APP = 'com.example.app';
const SECRET = 'an-hmac-secret-of-32-characters!';
const hmac = (userId: string) => createHmac('sha256', SECRET).update(userId).digest('hex');
const settings = { appId: APP, logoutMode: 'anonymous' as const, maxBodyBytes: 64 * 1024, maxBatch: 500 };
const auth = (over: Partial<EndpointAuthConfig> = {}) => new EndpointAuth({ appKey: 'key', verification: 'hmac', hmacSecret: SECRET, ...over });

describe.each(ENGINES)('[%s] the app endpoint core', (engine) => {
	let t: TestStore;
	let endpoint: AppEndpoint;
	const call = (route: string, body: unknown, over: Partial<Call> = {}) => endpoint.handle({ route, body, bytes: JSON.stringify(body).length, appKey: 'key', client: '203.0.113.7', ...over });
	beforeAll(async () => {
		t = await openTestStore(engine);
		endpoint = new AppEndpoint(t.store, auth(), null, settings);
	});
	afterAll(() => t.close());

	describe('who may change a device (the store rule, with a caller)', () => {
		it('a device id alone never takes an identified user\'s device: supersede, move and logout refused, nothing written', async () => {
			await t.store.register({ appId: APP, platform: 'ios', token: tokens.apns(1), deviceId: 'idfv-1', userId: 'ann' });
			const before = await t.store.getProfile({ userId: 'ann' });
			const refusals = [
				() => t.store.register({ appId: APP, platform: 'ios', token: tokens.apns(2), deviceId: 'idfv-1' }, { userId: null }),
				() => t.store.register({ appId: APP, platform: 'ios', token: tokens.apns(2), deviceId: 'idfv-1', userId: 'mallory' }, { userId: 'mallory' }),
				() => t.store.identify({ appId: APP, deviceId: 'idfv-1', userId: 'mallory' }, { userId: 'mallory' }),
				() => t.store.clearIdentify({ appId: APP, deviceId: 'idfv-1' }, { userId: 'mallory' }),
				() => t.store.clearIdentify({ appId: APP, token: tokens.apns(1) }, { userId: null }),
			];
			for (const refused of refusals) await expect(refused()).rejects.toBeInstanceOf(ForbiddenError);
			expect(await t.store.getProfile({ userId: 'ann' })).toEqual(before);
			expect(await t.store.getProfile({ userId: 'mallory' })).toBeNull();
		});

		it('the owner\'s proof, or the device\'s own token, may: a new token, a login on the device, a logout', async () => {
			expect(await t.store.register({ appId: APP, platform: 'ios', token: tokens.apns(3), deviceId: 'idfv-1', userId: 'ann' }, { userId: 'ann' })).toMatchObject({ action: 'registered', supersededToken: tokens.apns(1) });
			expect(await t.store.identify({ appId: APP, token: tokens.apns(3), userId: 'bob' }, { userId: 'bob' })).toMatchObject({ action: 'moved', fromUserId: 'ann' });
			await expect(t.store.clearIdentify({ appId: APP, token: tokens.apns(3) }, { userId: 'ann' })).rejects.toBeInstanceOf(ForbiddenError);
			expect(await t.store.clearIdentify({ appId: APP, token: tokens.apns(3) }, { userId: 'bob' })).toMatchObject({ action: 'anonymized' });
			// an anonymous device is nobody's: its device id may take it
			expect(await t.store.register({ appId: APP, platform: 'ios', token: tokens.apns(4), deviceId: 'idfv-1' }, { userId: null })).toMatchObject({ action: 'registered' });
		});

		it('a workflow (no caller) is trusted, as before', async () => {
			await t.store.register({ appId: APP, platform: 'ios', token: tokens.apns(5), deviceId: 'idfv-5', userId: 'cy' });
			expect(await t.store.identify({ appId: APP, deviceId: 'idfv-5', userId: 'dee' })).toMatchObject({ action: 'moved' });
		});
	});

	describe('answers', () => {
		it('register answers the caller\'s own device and its user only when proven; never the old token or the former owner', async () => {
			await call('register', { platform: 'android', token: tokens.fcm(1), deviceId: 'aid-1', userId: 'eve', userProof: hmac('eve') });
			const answer = await call('register', { platform: 'android', token: tokens.fcm(2), deviceId: 'aid-1', userId: 'eve', userProof: hmac('eve') });
			expect(answer.status).toBe(200);
			expect(Object.keys(answer.body).sort()).toEqual(['action', 'appId', 'changed', 'deviceId', 'platform', 'provider', 'token', 'tokenKind', 'userId']);
			const open = await call('register', { platform: 'android', token: tokens.fcm(2) });
			expect(open.body).toMatchObject({ action: 'refreshed', token: tokens.fcm(2) });
			expect(open.body).not.toHaveProperty('userId');
		});

		it('events name what happened for the workflow', async () => {
			const first = await call('register', { platform: 'android', token: tokens.fcm(3) });
			expect(first.events).toEqual([expect.objectContaining({ event: 'registered', token: tokens.fcm(3), userId: null })]);
			const login = await call('identify', { token: tokens.fcm(3), userId: 'fay', userProof: hmac('fay') });
			expect(login.events).toEqual([]); // from an anonymous profile: not another user's
			const other = await call('identify', { token: tokens.fcm(3), userId: 'gus', userProof: hmac('gus') });
			expect(other.events).toEqual([expect.objectContaining({ event: 'moved', userId: 'gus', fromUserId: 'fay' })]);
			expect((await call('register', { platform: 'android', token: tokens.fcm(3) })).events).toEqual([]);
		});

		it('a route is one handler: an unknown one is 404, a body over the limit 413 before anything is read', async () => {
			expect(await call('unsubscribe', {})).toMatchObject({ status: 404, body: { error: 'no route "unsubscribe": use register, identify, logout, opened, batch' } });
			expect(await call('register', { platform: 'android', token: tokens.fcm(4) }, { bytes: 64 * 1024 + 1, appKey: 'wrong' })).toMatchObject({ status: 413 });
			expect(await call('constructor', {})).toMatchObject({ status: 404 });
		});

		it('register and batch take timeZone and language (400 naming a bad one); the answer keeps its shape', async () => {
			const answer = await call('register', { platform: 'android', token: tokens.fcm(20), timeZone: 'europe/paris', language: 'fr-ca' });
			expect(answer).toMatchObject({ status: 200, body: { action: 'registered' } });
			expect(Object.keys(answer.body).sort()).toEqual(['action', 'appId', 'changed', 'deviceId', 'platform', 'provider', 'token', 'tokenKind']);
			expect(await t.store.getDevice(APP, tokens.fcm(20))).toMatchObject({ timeZone: 'Europe/Paris', language: 'fr-CA' });
			const batch = await call('batch', {
				registrations: [
					{ platform: 'android', token: tokens.fcm(20), timeZone: 'Asia/Tokyo' },
					{ platform: 'android', token: tokens.fcm(21), language: 'en_US' },
				],
			});
			expect(batch.body.results).toEqual([
				expect.objectContaining({ status: 200, action: 'refreshed', changed: ['timeZone'] }),
				{ status: 400, error: 'field "language": expected language as a BCP 47 language tag such as fr or pt-BR, got "en_US"' },
			]);
			expect(await t.store.getDevice(APP, tokens.fcm(20))).toMatchObject({ timeZone: 'Asia/Tokyo', language: 'fr-CA' });
			expect(await t.store.getDevice(APP, tokens.fcm(21))).toBeNull();
		});
	});

	describe('proofs', () => {
		const claim = (a: EndpointAuth, proof: unknown, userId = 'hal') => a.proveUser(userId, proof).then(
			() => 'ok',
			(e: Error) => e.message,
		);
		it('HMAC: hex of the user id, in any case; nothing else', async () => {
			const a = auth();
			expect(await claim(a, hmac('hal'))).toBe('ok');
			expect(await claim(a, hmac('hal').toUpperCase())).toBe('ok');
			expect(await claim(a, hmac('hal2'))).toBe('the user proof does not match the user id');
			expect(await claim(a, undefined)).toMatch(/^no proof of the user/);
			expect(await claim(a, { proof: hmac('hal') })).toMatch(/^no proof of the user/);
		});

		it.each(['RS256', 'ES256', 'HS256'] as const)('JWT %s: sub, exp and the algorithm are checked; a leeway for clocks', async (alg) => {
			const pair = alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : null;
			const secret = Buffer.from('a-shared-secret-of-enough-length!!');
			const key = pair ? pair.publicKey.export({ type: 'spki', format: 'pem' }).toString() : secret.toString();
			const a = auth({ verification: 'jwt', jwtAlgorithm: alg, jwtKey: key, leewaySeconds: 30 });
			const sign = (claims: { sub?: string; exp?: number }, header = alg) => {
				const jwt = new SignJWT({}).setProtectedHeader({ alg: header });
				if (claims.sub) jwt.setSubject(claims.sub);
				if (claims.exp) jwt.setExpirationTime(claims.exp);
				return jwt.sign(pair ? pair.privateKey : secret);
			};
			const now = Math.floor(Date.now() / 1000);
			expect(await claim(a, await sign({ sub: 'hal', exp: now + 60 }))).toBe('ok');
			expect(await claim(a, await sign({ sub: 'hal', exp: now - 10 }))).toBe('ok'); // within the leeway
			expect(await claim(a, await sign({ sub: 'hal', exp: now - 60 }))).toBe('the user proof is not a valid JWT: it has expired');
			expect(await claim(a, await sign({ sub: 'ian', exp: now + 60 }))).toBe('the user proof is for another user id');
			expect(await claim(a, await sign({ sub: 'hal' }))).toBe('the user proof is not a valid JWT: claim exp is missing');
			expect(await claim(a, 'not.a.jwt')).toBe('the user proof is not a valid JWT: it cannot be read');
		});

		it('a bad key or secret is refused when read, naming the field', () => {
			expect(() => auth({ hmacSecret: 'short' })).toThrow(/hmacSecret/);
			expect(() => auth({ verification: 'jwt', jwtAlgorithm: 'RS256', jwtKey: 'not a key' })).toThrow('the JWT public key is not a PEM public key');
		});
	});
});

describe('[sqlite] batches and the event loop', () => {
	it('a batch lets the event loop turn while it runs: SQLite\'s statements are synchronous, and n8n must go on answering', async () => {
		const t = await openTestStore('sqlite');
		try {
			const e = new AppEndpoint(t.store, auth(), null, { ...settings, maxBodyBytes: 1024 * 1024 });
			let turns = 0;
			const timer = setInterval(() => turns++, 5);
			const answers = await Promise.all(
				[0, 1, 2, 3].map((b) => e.handle({ route: 'batch', body: { registrations: Array.from({ length: 500 }, (_, i) => ({ platform: 'android', token: tokens.fcm(100_000 + b * 1000 + i) })) }, bytes: 1000, appKey: 'key', client: '203.0.113.9' })),
			);
			clearInterval(timer);
			expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
			expect(turns).toBeGreaterThan(0); // (it was 0: four batches, 2,000 registrations, ran as one chain of microtasks)
		} finally {
			await t.close();
		}
	});
});

describe('rate limits', () => {
	const call = (e: AppEndpoint, token: string, client = '198.51.100.1') => e.handle({ route: 'register', body: { platform: 'android', token }, bytes: 10, appKey: 'key', client });

	it('in memory: per client and per device, 429 with Retry-After past them', async () => {
		const t = await openTestStore('sqlite');
		try {
			const e = new AppEndpoint(t.store, auth(), new CallLimiter({ perClient: 5, perDevice: 2 }, 'memory-test', null), settings);
			expect([await call(e, tokens.fcm(1)), await call(e, tokens.fcm(1)), await call(e, tokens.fcm(1))].map((a) => a.status)).toEqual([200, 200, 429]);
			expect([await call(e, tokens.fcm(2)), await call(e, tokens.fcm(3)), await call(e, tokens.fcm(4))].map((a) => a.status)).toEqual([200, 200, 429]);
			const refused = await call(e, tokens.fcm(5));
			expect(refused).toMatchObject({ status: 429, body: { error: expect.stringMatching(/^too many calls from this client: try again in \d+ s$/) } });
			expect(Number(refused.headers?.['Retry-After'])).toBeGreaterThanOrEqual(1);
			expect((await call(e, tokens.fcm(5), '198.51.100.2')).status).toBe(200);
		} finally {
			await t.close();
		}
	});

	it('with Redis away, each process limits on its own (the insurance limiter): calls are still answered', async () => {
		const t = await openTestStore('sqlite');
		try {
			const e = new AppEndpoint(t.store, auth(), new CallLimiter({ perClient: 2, perDevice: 0 }, 'away-test', { host: '127.0.0.1', port: 1 }), settings);
			const statuses = [];
			for (let i = 0; i < 3; i++) statuses.push((await call(e, tokens.fcm(20 + i))).status);
			expect(statuses).toEqual([200, 200, 429]);
		} finally {
			await closeRedisClients();
			await t.close();
		}
	});

	it('on Redis: two endpoints (two webhook processes) spend one budget', async () => {
		const redis: Redis = await ensureRedis();
		const t = await openTestStore('sqlite');
		const prefix = `endpoint-test-${process.pid}-${Date.now()}`;
		try {
			const options = { host: redis.host, port: redis.port };
			const [a, b] = [0, 1].map(() => new AppEndpoint(t.store, auth(), new CallLimiter({ perClient: 4, perDevice: 0 }, prefix, options), settings));
			const statuses = [];
			for (let i = 0; i < 6; i++) statuses.push((await call(i % 2 ? b : a, tokens.fcm(10 + i))).status);
			expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
		} finally {
			await closeRedisClients();
			await t.close();
			await redis.dispose(`push-tokens:${prefix}`);
		}
	});
});
