/**
 * Issue 22, items 1–3, on both engines: keys both engines can index, ids that look like what they
 * are, and custom data every provider delivers alike.
 *   1. every key has a limit both engines index (PostgreSQL's btree holds 2,704 bytes an entry):
 *      a 3,000-character FCM token passed the model and then failed on PostgreSQL alone (and
 *      stopped an import after committing part of it); now it is refused alike, on register, on
 *      every lookup and in an import (counted invalid), and the longest key of each kind fits;
 *   2. zero-width, soft-hyphen and bidirectional-control characters are refused in ids
 *      (`us\u200ber` and `user` were two profiles that look alike in every panel);
 *   3. a custom data key `__proto__` (APNs dropped it, FCM and Web Push sent it), `constructor`
 *      or `prototype` is refused, naming the field, before anything is sent.
 */
import '../fakes/network-edge.cjs';
import { createHash } from 'node:crypto';
import webpush from 'web-push';
import { type IDataObject } from 'n8n-workflow';
import { closeAllStores, PushMessage, Sender, ValidationError } from '../../nodes/core';
import { SendPush } from '../../nodes/SendPush/SendPush.node';
import { startFakes, type Fakes } from '../fakes/providers';
import { ENGINES, openTestStore, tokens, type TestStore } from '../support/stores';
import { execute } from './support-input-context';

const APP = 'com.example.app';
const vapid = webpush.generateVAPIDKeys();

/**
 * n base64url characters that do not repeat: PostgreSQL compresses a long index entry, so a key of
 * one repeated letter would fit where a real (random) one of its length does not.
 */
const noise = (n: number, seed: string) => {
	let out = '';
	for (let i = 0; out.length < n; i++) out += createHash('sha256').update(`${seed}:${i}`).digest('base64url');
	return out.slice(0, n);
};
/** An FCM registration token of exactly n characters. */
const fcmToken = (n: number, seed = '') => `fcm:APA91b${noise(n - 10, `fcm${n}${seed}`)}`;
/** A Web Push endpoint of exactly n characters. */
const endpoint = (n: number) => `https://push.example.com/${noise(n - 25, `endpoint${n}`)}`;
const subscription = (url: string) => ({ endpoint: url, keys: tokens.webpush(1).keys });
/** 255 UTF-16 units of three UTF-8 bytes each (CJK ideographs, none repeated): the most bytes an id holds, 765. */
const longestId = (tail: string) => {
	const seed = [...tail].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 20000, 7);
	return Array.from({ length: 255 - tail.length }, (_, i) => String.fromCharCode(0x4e00 + ((seed + i * 7919) % 20000))).join('') + tail;
};

let fakes: Fakes;
beforeAll(async () => {
	fakes = await startFakes();
	process.env.PUSH_TOKENS_FAKE_ROUTES = JSON.stringify(fakes.routes);
	fakes.webpush.vapidPublicKey = vapid.publicKey;
});
afterAll(async () => {
	await fakes.close();
});

describe.each(ENGINES)('[%s] keys both engines index, ids that look like what they are, data every provider delivers', (engine) => {
	let t: TestStore;
	beforeAll(async () => {
		t = await openTestStore(engine);
	});
	afterAll(async () => {
		await closeAllStores();
		await t.close();
	});
	const count = async (table: 'devices' | 'profiles' | 'token_events' | 'dead_tokens' | 'sends') =>
		Number((await t.store.engine.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
	const counts = async () => ({ devices: await count('devices'), profiles: await count('profiles'), events: await count('token_events'), dead: await count('dead_tokens'), sends: await count('sends') });
	/** The error a call ends with (it must end with one). */
	const failure = async (call: () => Promise<unknown>) => {
		const error = await call().then(
			() => new Error('expected an error, the call succeeded'),
			(e: unknown) => e,
		);
		return error as Error;
	};

	describe('1. every key fits what both engines index', () => {
		const TOO_LONG: Array<[string, { platform: string; token: unknown; tokenKind?: string }, string, string]> = [
			['an FCM registration token of 1,025 characters', { platform: 'android', token: fcmToken(1025) }, 'token', 'expected an FCM registration token of at most 1024 characters, got a 1025-character string'],
			['an FCM registration token of 3,000 characters', { platform: 'android', token: fcmToken(3000) }, 'token', 'expected an FCM registration token of at most 1024 characters, got a 3000-character string'],
			['an FCM installation id of 23 characters', { platform: 'android', token: `c${'a'.repeat(22)}`, tokenKind: 'fid' }, 'token', 'expected a Firebase Installation ID (22 characters of base64url starting with c, d, e or f), got "caaaaaaaaaaaaaaaaaaaaaa"'],
			['an APNs device token of 66 hex', { platform: 'ios', token: 'a'.repeat(66) }, 'token', 'expected an APNs device token of 64 hexadecimal characters, got a 66-character string'],
			['a Web Push endpoint of 1,025 characters', { platform: 'web', token: subscription(endpoint(1025)) }, 'token.endpoint', 'expected an endpoint URL of at most 1024 characters as stored, got 1025'],
			['a Web Push endpoint of 2,048 characters', { platform: 'web', token: subscription(endpoint(2048)) }, 'token.endpoint', 'expected an endpoint URL of at most 1024 characters as stored, got 2048'],
			// 1,000 characters as given; each é is six once escaped, as the endpoint is stored
			['a Web Push endpoint of 1,000 characters and 1,050 as stored', { platform: 'web', token: subscription(`${endpoint(990)}${'é'.repeat(10)}`) }, 'token.endpoint', 'expected an endpoint URL of at most 1024 characters as stored, got 1050'],
		];

		it.each(TOO_LONG)('register: %s is a ValidationError naming the field and the limit, nothing written', async (_, record, field, message) => {
			const before = await counts();
			const error = await failure(() => t.store.register({ appId: APP, ...record }));
			expect(error).toBeInstanceOf(ValidationError);
			expect(error.message).toBe(`register: field "${field}": ${message}`);
			expect(await counts()).toEqual(before);
		});

		it.each(TOO_LONG)('import: %s is counted invalid, the rows around it are imported and the summary returned', async (_, record, field, message) => {
			const rows = Array.from({ length: 10 }, (_, i) => (i === 4 ? { appId: APP, ...record } : { appId: APP, platform: 'android', token: fcmToken(100, String(i)) }));
			const summary = await t.store.importTokens(rows);
			expect(summary).toMatchObject({ rows: 10, invalid: 1, invalidRows: [{ row: 5, issues: [{ field, message }] }] });
			expect(summary.imported + summary.skippedExisting).toBe(9);
			for (const i of [0, 9]) expect(await t.store.getDevice(APP, fcmToken(100, String(i)))).not.toBeNull();
		});

		// A lookup names any kind of token: its limit is the longest any provider stores, in bytes as stored (what is indexed).
		const LOOKUPS: Array<[string, unknown, string]> = [
			['an FCM token of 3,000 characters', fcmToken(3000), 'expected a token of at most 1024 bytes as stored'],
			['an FCM token of 1,025 characters', fcmToken(1025), 'expected a token of at most 1024 bytes as stored'],
			['a Web Push endpoint of 1,025 characters', endpoint(1025), 'expected a token of at most 1024 bytes as stored'],
			['a Web Push endpoint of 1,000 characters and 1,050 as stored', `${endpoint(990)}${'é'.repeat(10)}`, 'expected a token of at most 1024 bytes as stored'],
			['a token of 1,000 characters and 3,000 bytes', '€'.repeat(1000), 'expected a token of at most 1024 bytes as stored'],
		];
		it.each(LOOKUPS)('identify, clear identify, an outcome, the changelog and a lookup: %s is refused alike, nothing written', async (_, token, message) => {
			const before = await counts();
			const calls: Array<[string, () => Promise<unknown>]> = [
				['identify', () => t.store.identify({ appId: APP, token, userId: 'kim' })],
				['identify', () => t.store.identify({ appId: APP, token: typeof token === 'string' && token.startsWith('https:') ? subscription(token) : token, userId: 'kim' })],
				['clear identify', () => t.store.clearIdentify({ appId: APP, token })],
				['outcome', () => t.store.recordOutcome({ appId: APP, token, outcome: 'invalid-token', reason: 'Unregistered' })],
				['changelog filter', () => t.store.changelog({ appId: APP, token: token as string })],
				['device lookup', () => t.store.getDevice(APP, token as string)],
			];
			for (const [what, call] of calls) {
				const error = await failure(call);
				expect(error).toBeInstanceOf(ValidationError);
				expect(error.message).toBe(`${what}: field "token": ${message}`);
			}
			expect(await counts()).toEqual(before);
		});

		it('the longest key of each kind, with the longest ids, is registered, moved, logged, tombstoned and claimed (it fits the index)', async () => {
			const longest: Array<{ platform: string; token: unknown; tokenKind?: string; stored: string }> = [
				{ platform: 'android', token: fcmToken(1024), stored: fcmToken(1024) },
				{ platform: 'android', token: tokens.fid(7), tokenKind: 'fid', stored: tokens.fid(7) },
				{ platform: 'ios', token: 'f'.repeat(64), stored: 'f'.repeat(64) },
				{ platform: 'web', token: subscription(endpoint(1024)), stored: endpoint(1024) },
			];
			const appId = longestId('');
			for (const [i, { stored: _, ...record }] of longest.entries()) {
				const result = await t.store.register({ appId, ...record, deviceId: longestId(`d${i}`), userId: longestId('u') });
				expect(result.action).toBe('registered');
			}
			const sendId = longestId('s');
			for (const [i, { stored }] of longest.entries()) {
				expect((await t.store.identify({ appId, token: stored, userId: longestId(`v${i}`) })).action).toBe('moved');
				expect(await t.store.changelog({ appId, token: stored })).toHaveLength(2);
				expect((await t.store.claimSends([{ sendId, appId, token: stored }])).size).toBe(1);
				expect((await t.store.recordOutcome({ appId, token: stored, outcome: 'invalid-token', reason: 'Unregistered' })).action).toBe('removed');
			}
			// and one over each limit is refused (the limits are these)
			expect(await t.store.importTokens(longest.map(({ stored: _, ...record }) => ({ appId, ...record })))).toMatchObject({ imported: 0, skippedDead: 4 });
			for (const record of [{ platform: 'android', token: fcmToken(1025) }, { platform: 'web', token: subscription(endpoint(1025)) }]) {
				expect(await failure(() => t.store.register({ appId, ...record }))).toBeInstanceOf(ValidationError);
			}
			expect((await failure(() => t.store.register({ appId: `${appId}中`, platform: 'ios', token: 'f'.repeat(64) }))).message).toBe('register: field "appId": expected an app id of at most 255 characters');
		});
	});

	describe('2. invisible characters in ids', () => {
		// zero-width space, non-joiner, joiner; LRM, RLM; LRE, RLE, PDF, LRO, RLO; word joiner; LRI, RLI, FSI, PDI; BOM; soft hyphen; Arabic letter mark
		const INVISIBLE = ['\u200b', '\u200c', '\u200d', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2060', '\u2066', '\u2067', '\u2068', '\u2069', '\ufeff', '\u00ad', '\u061c'];
		const hex = (c: string) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
		const expected = (what: string, c: string) => `expected ${what} without invisible characters (zero-width, soft hyphen, bidirectional controls), got ${hex(c)}`;

		it.each(INVISIBLE.map((c) => [hex(c), c]))('%s in an app, user, device, send or profile id: a ValidationError naming the field and the character, nothing written', async (_, c) => {
			const before = await counts();
			const fcm = tokens.fcm(300);
			const calls: Array<[() => Promise<unknown>, string]> = [
				[() => t.store.register({ appId: `com.ex${c}ample.app`, platform: 'android', token: fcm }), `register: field "appId": ${expected('an app id', c)}`],
				[() => t.store.register({ appId: APP, platform: 'android', token: fcm, userId: `us${c}er` }), `register: field "userId": ${expected('a user id', c)}`],
				[() => t.store.register({ appId: APP, platform: 'android', token: fcm, deviceId: `dev${c}ice` }), `register: field "deviceId": ${expected('a device id', c)}`],
				[() => t.store.identify({ appId: APP, token: fcm, userId: `us${c}er` }), `identify: field "userId": ${expected('a user id', c)}`],
				[() => t.store.clearIdentify({ appId: APP, token: fcm, deviceId: `dev${c}ice` }), `clear identify: field "deviceId": ${expected('a device id', c)}`],
				[() => t.store.setSubscription({ userId: `us${c}er`, unsubscribed: true }), `subscription: field "userId": ${expected('a user id', c)}`],
				[() => t.store.getProfile({ profileId: `pro${c}file` }), `profile: field "profileId": ${expected('a profile id', c)}`],
				[() => new Sender(t.store, {}).send([], PushMessage.parse({ title: 'x' }), { sendId: `camp${c}aign` }), `send: field "sendId": ${expected('a send id', c)}`],
			];
			for (const [call, message] of calls) {
				const error = await failure(call);
				expect(error).toBeInstanceOf(ValidationError);
				expect(error.message).toBe(message);
			}
			const summary = await t.store.importTokens([{ appId: APP, platform: 'android', token: fcm, userId: `us${c}er` }]);
			expect(summary).toMatchObject({ imported: 0, invalid: 1, invalidRows: [{ row: 1, issues: [{ field: 'userId', message: expected('a user id', c) }] }] });
			expect(await counts()).toEqual(before);
		});

		it('visible ids of any script stay ids (and a BOM at either end is trimmed, as spaces are)', async () => {
			for (const userId of ['müller', 'ユーザー', 'مستخدم', 'u\ud83d\ude00', 'a-b_c.d@example.com']) {
				expect((await t.store.setSubscription({ userId, unsubscribed: false })).userId).toBe(userId);
			}
			expect((await t.store.setSubscription({ userId: '\ufeffmüller', unsubscribed: false })).userId).toBe('müller');
		});
	});

	describe('3. custom data keys every provider delivers alike', () => {
		const sub = () => fakes.webpush.subscribe();
		const credentials = (): Record<string, IDataObject> => {
			const sa = fakes.fcm.serviceAccount;
			const store = t.config.engine === 'sqlite' ? { engine: 'sqlite', path: t.config.path } : { engine: 'postgres', connection: 'url', url: t.config.connectionString };
			return {
				pushTokenStoreApi: store,
				fcmServiceAccountApi: { serviceAccountJson: JSON.stringify({ ...sa, token_uri: 'https://oauth2.googleapis.com/token' }) },
				apnsApi: { teamId: fakes.apns.teamId, keyId: fakes.apns.keyId, signingKey: fakes.apns.signingKey, bundleId: fakes.apns.bundleId, environment: 'production' },
				webPushVapidApi: { subject: 'mailto:ops@example.com', publicKey: vapid.publicKey, privateKey: vapid.privateKey, allowedPrivateHosts: fakes.webpush.host },
			};
		};
		const TARGETS: Array<[string, () => { platform: string; token: string }]> = [
			['FCM', () => ({ platform: 'android', token: tokens.fcm(400) })],
			['APNs', () => ({ platform: 'ios', token: tokens.apns(400) })],
			['Web Push', () => ({ platform: 'web', token: JSON.stringify(sub()) })],
		];
		const sendPush = (target: { platform: string; token: string }, data: { dataJson?: string; pairs?: Array<{ key: string; value: string }> }) =>
			execute(new SendPush(), {
				params: {
					target: 'token',
					appId: APP,
					...target,
					userId: '',
					lastActiveOnly: false,
					title: 'Hello',
					body: 'World',
					customData: data.pairs ? { pairs: data.pairs } : {},
					message: data.dataJson ? { dataJson: data.dataJson } : {},
					options: { updateStore: false, maxAttempts: 1 },
				},
				credentials: credentials(),
			});
		const received = () => fakes.fcm.received.length + fakes.apns.received.length + fakes.webpush.received.length;

		it.each(TARGETS)('%s: a key named otherwise is delivered (the control)', async (_, target) => {
			fakes.reset();
			const [out] = await sendPush(target(), { dataJson: '{"proto": {"x": 1}}', pairs: [{ key: 'prototypes', value: '2' }] });
			expect(out[0].json).toMatchObject({ outcome: 'delivered' });
			expect(received()).toBe(1);
		});

		const BAD: Array<[string, { dataJson?: string; pairs?: Array<{ key: string; value: string }> }, string]> = [
			['a JSON key __proto__', { dataJson: '{"__proto__": {"admin": true}}' }, 'data.__proto__'],
			['a pair keyed __proto__', { pairs: [{ key: '__proto__', value: 'x' }] }, 'data.__proto__'],
			['a JSON key constructor', { dataJson: '{"constructor": {"prototype": {"admin": true}}}' }, 'data.constructor'],
			['a pair keyed prototype', { pairs: [{ key: 'prototype', value: 'x' }] }, 'data.prototype'],
			['a nested JSON key __proto__', { dataJson: '{"order": {"items": [{"__proto__": 1}]}}' }, 'data.order.items.0.__proto__'],
		];
		const cases = TARGETS.flatMap(([provider, target]) => BAD.map(([name, data, field]) => [provider, name, target, data, field] as const));
		it.each(cases)('%s, %s: the item fails naming the field, and nothing is sent', async (_, __, target, data, field) => {
			fakes.reset();
			const before = await counts();
			const error = await failure(() => sendPush(target(), data));
			expect(error.message).toContain(`field "${field}": expected no key named __proto__, constructor or prototype in data (JavaScript gives these names a meaning on every object)`);
			expect(received()).toBe(0);
			expect(await counts()).toEqual(before);
		});

		it('the core refuses them as the node does, from JSON and from a null-prototype object', () => {
			const bad = [JSON.parse('{"a": 1, "__proto__": 2}') as object, Object.assign(Object.create(null) as object, { constructor: 'x' })];
			for (const data of bad) {
				const parsed = PushMessage.safeParse({ title: 'x', data });
				expect(parsed.success).toBe(false);
			}
		});
	});
});
