/**
 * FCM addresses of both kinds: registration tokens and Firebase Installation IDs (FIDs), on a real
 * store (SQLite and PostgreSQL), sent through firebase-admin to the fake FCM, which serves
 * `message.fid` as the FCM v1 API does.
 */
import '../fakes/network-edge.cjs';
import { FcmTransport, PushMessage, Sender, ValidationError } from '../../nodes/core';
import { startFakes, type Fakes } from '../fakes/providers';
import { ENGINES, openTestStore, tokens, type TestStore } from '../support/stores';

const APP = 'com.example.app';
let fakes: Fakes;
let fcm: FcmTransport;

beforeAll(async () => {
	fakes = await startFakes();
	process.env.PUSH_TOKENS_FAKE_ROUTES = JSON.stringify(fakes.routes);
	const sa = fakes.fcm.serviceAccount;
	fcm = new FcmTransport({ projectId: sa.project_id, clientEmail: sa.client_email, privateKey: sa.private_key });
});
afterAll(async () => {
	await fcm.close();
	await fakes.close();
});

describe.each(ENGINES)('[%s] FCM installation ids', (engine) => {
	let t: TestStore;
	beforeEach(async () => {
		fakes.reset();
		t = await openTestStore(engine);
	});
	afterEach(() => t.close());

	it('tells the kind from the shape, records it, and Get Profile shows it', async () => {
		const fid = await t.store.register({ appId: APP, platform: 'android', token: tokens.fid(1), userId: 'kim' });
		const token = await t.store.register({ appId: APP, platform: 'android', token: tokens.fcm(2), userId: 'kim' });
		const apns = await t.store.register({ appId: APP, platform: 'ios', token: tokens.apns(3), userId: 'kim' });
		expect([fid.device?.tokenKind, token.device?.tokenKind, apns.device?.tokenKind]).toEqual(['fid', 'registration-token', 'device-token']);
		const profile = await t.store.getProfile({ userId: 'kim' });
		expect(Object.fromEntries(profile!.push_tokens.map((p) => [p.token, p.token_kind]))).toEqual({ [tokens.fid(1)]: 'fid', [tokens.fcm(2)]: 'registration-token', [tokens.apns(3)]: 'device-token' });
	});

	it('a declared kind is checked: an FID that is not one, or a kind the provider does not have, is refused naming the field', async () => {
		const refused = (input: object) => t.store.register({ appId: APP, platform: 'android', ...input }).then(() => null, (e: unknown) => e);
		const notFid = await refused({ token: tokens.fcm(1), tokenKind: 'fid' });
		expect(notFid).toBeInstanceOf(ValidationError);
		expect((notFid as ValidationError).issues).toEqual([{ field: 'token', message: expect.stringContaining('expected a Firebase Installation ID') }]);
		const unknownKind = await refused({ token: tokens.fcm(1), tokenKind: 'device-token' });
		expect((unknownKind as ValidationError).issues).toEqual([{ field: 'tokenKind', message: 'expected tokenKind registration-token or fid for provider fcm, got "device-token"' }]);
		// declared registration-token wins over the shape
		expect((await t.store.register({ appId: APP, platform: 'android', token: tokens.fid(9), tokenKind: 'registration-token' })).device?.tokenKind).toBe('registration-token');
	});

	it("moving to FIDs: the device's FID supersedes its registration token, the changelog says so, the token is not tombstoned", async () => {
		await t.store.register({ appId: APP, platform: 'android', token: tokens.fcm(1), deviceId: 'pixel-1', userId: 'kim' });
		const moved = await t.store.register({ appId: APP, platform: 'android', token: tokens.fid(1), deviceId: 'pixel-1' });
		expect(moved).toMatchObject({ action: 'registered', supersededToken: tokens.fcm(1), userId: 'kim', device: { tokenKind: 'fid', deviceId: 'pixel-1' } });
		const events = await t.store.changelog({ appId: APP, token: tokens.fcm(1) });
		expect(events.at(-1)).toMatchObject({ type: 'superseded', reason: 'the device moved from its FCM registration token to its Firebase Installation ID' });
		const dead = await t.store.engine.db.selectFrom('dead_tokens').selectAll().execute();
		expect(dead).toEqual([]);
		// The replaced token was not dead: it may register again (on another device id), and is not refused.
		expect((await t.store.register({ appId: APP, platform: 'android', token: tokens.fcm(1), deviceId: 'pixel-2' })).action).toBe('registered');
	});

	it('Import reads a kind column, or tells the kind from the shape', async () => {
		const summary = await t.store.importTokens([
			{ appId: APP, platform: 'android', token: tokens.fid(1) },
			{ appId: APP, platform: 'android', token: tokens.fcm(2) },
			{ appId: APP, platform: 'android', token: tokens.fid(3), tokenKind: 'registration-token' },
			{ appId: APP, platform: 'android', token: tokens.fcm(4), tokenKind: 'fid' },
		]);
		expect(summary).toMatchObject({ imported: 3, invalid: 1, invalidRows: [{ row: 4, issues: [{ field: 'token', message: expect.stringContaining('Firebase Installation ID') }] }] });
		const kinds = await t.store.engine.db.selectFrom('devices').select(['token', 'token_kind']).orderBy('token').execute();
		expect(kinds).toEqual([
			{ token: tokens.fid(1), token_kind: 'fid' },
			{ token: tokens.fid(3), token_kind: 'registration-token' },
			{ token: tokens.fcm(2), token_kind: 'registration-token' },
		].sort((a, b) => (a.token < b.token ? -1 : 1)));
	});

	it('Send Push addresses an FID as `fid` and a registration token as `token`; an unregistered FID is UNREGISTERED_FID, removed and tombstoned', async () => {
		for (const [i, token] of [tokens.fid(1), tokens.fcm(2), tokens.fid(3)].entries()) await t.store.register({ appId: APP, platform: 'android', token, userId: `u${i}` });
		fakes.fcm.on(tokens.fid(3), { kind: 'error', status: 404, code: 'UNREGISTERED' });
		const devices = [...(await t.store.devicesOfUsers(['u0', 'u1', 'u2'], { appId: APP })).values()].flatMap((d) => d ?? []);
		const results = await new Sender(t.store, { fcm }).send(devices, PushMessage.parse({ title: 'Hi' }), { record: true });
		expect(fakes.fcm.received.map((r) => [r.token, r.target])).toEqual(expect.arrayContaining([[tokens.fid(1), 'fid'], [tokens.fcm(2), 'token'], [tokens.fid(3), 'fid']]));
		// exactly one target per message, as firebase-admin's validation and FCM v1 require
		for (const r of fakes.fcm.received) expect(Object.keys((r.body as { message: object }).message).filter((k) => k === 'token' || k === 'fid')).toEqual([r.target]);
		const byToken = Object.fromEntries(results.map((r) => [r.token, r]));
		expect(byToken[tokens.fid(1)]).toMatchObject({ outcome: 'delivered' });
		expect(byToken[tokens.fcm(2)]).toMatchObject({ outcome: 'delivered' });
		expect(byToken[tokens.fid(3)]).toMatchObject({ outcome: 'invalid-token', code: 'UNREGISTERED_FID', action: 'removed' });
		const dead = await t.store.engine.db.selectFrom('dead_tokens').select('token').execute();
		expect(dead.map((d) => d.token)).toEqual([tokens.fid(3)]);
	});
});
