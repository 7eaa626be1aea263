/**
 * Issue 10, items 5–8, on both engines: inputs the store must refuse or read as one key.
 *   5. NUL (and other control characters) is refused by the model, on SQLite as on PostgreSQL,
 *      where it used to surface as a raw DatabaseError 22021 and abort an import midway;
 *   6. one normalisation per kind of key, used by every entry point: an APNs token in capitals,
 *      a Web Push endpoint spelled seven ways, app and user ids with spaces around them;
 *   7. a Web Push failure before the request left is "certainly not sent": a bad subscription
 *      key is a dead token, a TLS handshake that never completed is released for a rerun;
 *   8. a provider reason over 500 characters is cut, not refused; lone surrogates are refused.
 */
import { createServer, type Server } from 'node:net';
import webpush from 'web-push';
import { PushMessage, Sender, ValidationError, WebPushTransport } from '../../nodes/core';
import { ENGINES, openTestStore, tokens, type TestStore } from '../support/stores';

const APP = 'com.example.app';
const vapid = webpush.generateVAPIDKeys();

describe.each(ENGINES)('[%s] inputs the store must refuse or read as one key', (engine) => {
	let t: TestStore;
	beforeAll(async () => {
		t = await openTestStore(engine);
	});
	afterAll(async () => {
		await t.close();
	});
	const counts = async () => {
		const count = async (table: 'devices' | 'profiles' | 'token_events' | 'dead_tokens') => Number((await t.store.engine.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
		return { devices: await count('devices'), profiles: await count('profiles'), events: await count('token_events'), dead: await count('dead_tokens') };
	};

	describe('5. NUL and control characters', () => {
		const fcm = tokens.fcm(1);
		const cases: Array<[string, () => Promise<unknown>, RegExp]> = [
			['register: token', () => t.store.register({ appId: APP, platform: 'android', token: `${fcm}\u0000` }), /field "token": expected an FCM registration token \(visible ASCII characters, no spaces\)/],
			['register: app id', () => t.store.register({ appId: `a\u0000b`, platform: 'android', token: fcm }), /field "appId": expected an app id without control characters \(such as NUL\)/],
			['register: user id', () => t.store.register({ appId: APP, platform: 'android', token: fcm, userId: 'kim\u0000' }), /field "userId": expected a user id without control characters/],
			['register: device id', () => t.store.register({ appId: APP, platform: 'android', token: fcm, deviceId: 'd\u0000' }), /field "deviceId": expected a device id without control characters/],
			['identify: user id', () => t.store.identify({ appId: APP, token: fcm, userId: 'kim\u0000' }), /field "userId"/],
			['identify: token', () => t.store.identify({ appId: APP, token: `${fcm}\u0000`, userId: 'kim' }), /field "token": expected a token without control characters/],
			['clear identify: device id', () => t.store.clearIdentify({ appId: APP, deviceId: 'd\u0000' }), /field "deviceId"/],
			['outcome: token', () => t.store.recordOutcome({ appId: APP, token: `${fcm}\u0000`, outcome: 'invalid-token' }), /field "token": expected a token without control characters/],
			['subscription: user id', () => t.store.setSubscription({ userId: 'kim\u0000', unsubscribed: true }), /field "userId"/],
			['profile: user id', () => t.store.getProfile({ userId: 'kim\u0000' }), /field "userId"/],
			['changelog: token', () => t.store.changelog({ appId: APP, token: `${fcm}\u0000` }), /field "token"/],
			['send: send id', () => new Sender(t.store, {}).send([], PushMessage.parse({ title: 'x' }), { sendId: 'campaign\u0000' }), /send: field "sendId": expected a send id without control characters/],
		];
		it.each(cases)('%s: a ValidationError naming the field, nothing written', async (_, call, message) => {
			const before = await counts();
			const error = await call().catch((e: unknown) => e);
			expect(error).toBeInstanceOf(ValidationError);
			expect((error as Error).message).toMatch(message);
			expect(await counts()).toEqual(before);
		});

		it('an import with a NUL in row 2,500 of 5,000 imports the other 4,999 and counts that row invalid', async () => {
			const rows = Array.from({ length: 5000 }, (_, i) => ({ appId: APP, platform: 'android', token: `fcm-nul-${i}:APA91b`, userId: i === 2499 ? 'kim\u0000' : `nul-user-${i % 10}` }));
			const summary = await t.store.importTokens(rows);
			expect(summary).toMatchObject({ rows: 5000, imported: 4999, invalid: 1 });
			expect(summary.invalidRows).toEqual([{ row: 2500, issues: [{ field: 'userId', message: 'expected a user id without control characters (such as NUL)' }] }]);
		});

		it('a provider reason with NUL and control characters is kept, with spaces in their place', async () => {
			await t.store.register({ appId: APP, platform: 'android', token: tokens.fcm(2) });
			const result = await t.store.recordOutcome({ appId: APP, token: tokens.fcm(2), outcome: 'invalid-token', reason: 'UNREGISTERED\u0000\u001b[0m' });
			expect(result.action).toBe('removed');
			const dead = await t.store.engine.db.selectFrom('dead_tokens').select('reason').where('token', '=', tokens.fcm(2)).executeTakeFirstOrThrow();
			expect(dead.reason).toBe('UNREGISTERED  [0m');
		});
	});

	describe('6. one key per token, app and user, whoever gives it', () => {
		it('an APNs token in capitals is the same token: its invalid-token outcome removes the device, and it stays refused', async () => {
			const token = 'ab'.repeat(32);
			await t.store.register({ appId: APP, platform: 'ios', token, userId: 'apns-user' });
			expect((await t.store.getDevice(APP, token.toUpperCase()))?.token).toBe(token);
			expect(await t.store.changelog({ appId: `  ${APP} `, token: token.toUpperCase() })).toHaveLength(1);
			const result = await t.store.recordOutcome({ appId: APP, token: token.toUpperCase(), outcome: 'invalid-token', reason: 'Unregistered' });
			expect(result.action).toBe('removed');
			expect(await t.store.getDevice(APP, token)).toBeNull();
			for (const spelling of [token, token.toUpperCase(), ` ${token} `]) {
				expect((await t.store.register({ appId: APP, platform: 'ios', token: spelling })).action).toBe('refused');
			}
			expect(await t.store.importTokens([{ appId: APP, platform: 'ios', token: token.toUpperCase() }])).toMatchObject({ imported: 0, skippedDead: 1 });
		});

		it('seven spellings of one Web Push subscription are one device; a tombstoned endpoint is refused in every spelling', async () => {
			const keys = tokens.webpush(3).keys;
			const spellings = [
				'https://push.example.net/send/abc1',
				'  https://push.example.net/send/abc1\t',
				'https://PUSH.Example.NET/send/abc1',
				'https://push.example.net:443/send/abc1',
				'https://push.example.net/send/abc%31',
				'https://push.example.net/send/%61bc1#fragment',
				'https:push.example.net/send/abc1',
			];
			const actions = [];
			for (const endpoint of spellings) actions.push((await t.store.register({ appId: APP, platform: 'web', token: { endpoint, keys } })).action);
			expect(actions).toEqual(['registered', ...Array(6).fill('refreshed')]);
			const rows = await t.store.engine.db.selectFrom('devices').select('token').where('token', 'like', '%push.example.net%').execute();
			expect(rows.map((r) => r.token)).toEqual(['https://push.example.net/send/abc1']);
			expect((await t.store.identify({ appId: APP, token: 'https://PUSH.example.net:443/send/abc1', userId: 'web-user' })).action).toBe('moved');
			await t.store.recordOutcome({ appId: APP, token: 'https://push.example.net:443/send/%61bc1', outcome: 'invalid-token', reason: '410' });
			expect(await t.store.getDevice(APP, 'https://push.example.net/send/abc1')).toBeNull();
			for (const endpoint of spellings) expect((await t.store.register({ appId: APP, platform: 'web', token: { endpoint, keys } })).action).toBe('refused');
			const summary = await t.store.importTokens(spellings.map((endpoint) => ({ appId: APP, platform: 'web', token: { endpoint, keys } })));
			expect(summary).toMatchObject({ imported: 0, skippedDead: 7 });
		});

		it('app and user ids are trimmed in lookups as they are on write', async () => {
			await t.store.register({ appId: `  ${APP}  `, platform: 'android', token: tokens.fcm(30), userId: '  trim-user  ' });
			expect((await t.store.getDevice(` ${APP} `, ` ${tokens.fcm(30)} `))?.appId).toBe(APP);
			expect(await t.store.changelog({ userId: ' trim-user ' })).toHaveLength(1);
			expect((await t.store.devicesOfUser(' trim-user ', { appId: ` ${APP}` })).map((d) => d.token)).toEqual([tokens.fcm(30)]);
			expect((await t.store.getProfile({ userId: 'trim-user ' }))?.userId).toBe('trim-user');
		});
	});

	describe('7. a Web Push failure before the request left is certainly not sent', () => {
		let listener: Server;
		let port: number;
		let hellos = 0;
		beforeAll(async () => {
			// Hangs up on every ClientHello: the TLS handshake never completes.
			listener = createServer((socket) => {
				hellos++;
				socket.destroy();
			});
			await new Promise<void>((done) => listener.listen(0, '127.0.0.1', done));
			port = (listener.address() as { port: number }).port;
		});
		afterAll(async () => {
			await new Promise((done) => listener.close(done));
		});
		const transport = () => new WebPushTransport({ subject: 'mailto:ops@example.com', publicKey: vapid.publicKey, privateKey: vapid.privateKey, allowedPrivateHosts: [`127.0.0.1:${port}`], timeoutMs: 2000 });
		const message = PushMessage.parse({ title: 'Hello' });

		it('a handshake that never completed is retried, reported failed without delivery unknown, and released for a rerun of its send id', async () => {
			const endpoint = `https://127.0.0.1:${port}/push/handshake`;
			await t.store.register({ appId: APP, platform: 'web', token: { endpoint, keys: tokens.webpush(4).keys } });
			const device = (await t.store.getDevice(APP, endpoint))!;
			const tr = transport();
			const sender = new Sender(t.store, { webpush: tr });
			hellos = 0;
			const [first] = await sender.send([device], message, { sendId: `handshake-${engine}`, maxAttempts: 2, wait: async () => undefined, record: true });
			expect(first).toMatchObject({ outcome: 'retry', attempts: 2, action: 'unchanged', reason: expect.stringContaining('not sent (safe to retry)') });
			expect(first.deliveryUnknown).toBeUndefined();
			expect(hellos).toBe(2);
			const [rerun] = await sender.send([device], message, { sendId: `handshake-${engine}`, maxAttempts: 1, record: true });
			await tr.close();
			expect(rerun.action).not.toBe('skipped');
			expect(hellos).toBe(3);
			expect(await t.store.getDevice(APP, endpoint)).not.toBeNull();
		});

		it('a subscription key that cannot encrypt (stored before keys were checked) is a dead token, not a lost answer', async () => {
			const endpoint = `https://127.0.0.1:${port}/push/bad-key`;
			await t.store.register({ appId: APP, platform: 'web', token: { endpoint, keys: tokens.webpush(5).keys } });
			// p256dh not a point of the curve, as a store written before the check may hold
			const offCurve = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]).toString('base64url');
			await t.store.engine.db.updateTable('devices').set({ address_data: JSON.stringify({ ...tokens.webpush(5).keys, p256dh: offCurve }) }).where('token', '=', endpoint).execute();
			const device = (await t.store.getDevice(APP, endpoint))!;
			const tr = transport();
			hellos = 0;
			const [result] = await new Sender(t.store, { webpush: tr }).send([device], message, { sendId: `bad-key-${engine}`, record: true });
			await tr.close();
			expect(result).toMatchObject({ outcome: 'invalid-token', action: 'removed', attempts: 1, reason: expect.stringContaining('the subscription keys are invalid') });
			expect(result.deliveryUnknown).toBeUndefined();
			expect(hellos).toBe(0);
		});
	});

	describe('8. long reasons and lone surrogates', () => {
		it('a reason over 500 characters is cut to 500, and the dead token is removed and tombstoned', async () => {
			await t.store.register({ appId: APP, platform: 'android', token: tokens.fcm(40) });
			const result = await t.store.recordOutcome({ appId: APP, token: tokens.fcm(40), outcome: 'invalid-token', reason: `UNREGISTERED ${'x'.repeat(5000)}` });
			expect(result.action).toBe('removed');
			const dead = await t.store.engine.db.selectFrom('dead_tokens').select('reason').where('token', '=', tokens.fcm(40)).executeTakeFirstOrThrow();
			expect(dead.reason).toHaveLength(500);
			expect(dead.reason.startsWith('UNREGISTERED x')).toBe(true);
		});

		it("'u\\ud800' and 'u\\udbff' are refused, not merged into one profile; a real pair is a user id like any other", async () => {
			for (const userId of ['u\ud800', 'u\udbff']) {
				await expect(t.store.setSubscription({ userId, unsubscribed: true })).rejects.toThrow(/field "userId": expected a user id of well-formed Unicode, got a lone surrogate/);
			}
			const a = await t.store.setSubscription({ userId: 'u\ud83d\ude00', unsubscribed: true });
			const b = await t.store.setSubscription({ userId: 'u\ud83d\ude01', unsubscribed: true });
			expect(a.id).not.toBe(b.id);
			expect((await t.store.getProfile({ userId: 'u\ud83d\ude00' }))?.userId).toBe('u\ud83d\ude00');
		});
	});
});
