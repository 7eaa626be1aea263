/**
 * The store contract: every rule, run against each engine on a real store (a SQLite file and a
 * PostgreSQL database). Test names start with the engine.
 */
import { NotFoundError, ValidationError, type TokenStore } from '../../nodes/core';
import { ENGINES, openTestStore, tokens, type TestStore } from '../support/stores';

const APP = 'com.example.app';

async function count(store: TokenStore, table: 'devices' | 'profiles' | 'token_events' | 'dead_tokens' | 'send_log'): Promise<number> {
	const row = await store.engine.db
		.selectFrom(table)
		.select(({ fn }) => fn.countAll<number>().as('n'))
		.executeTakeFirstOrThrow();
	return Number(row.n);
}

async function snapshot(store: TokenStore) {
	return {
		devices: await count(store, 'devices'),
		profiles: await count(store, 'profiles'),
		events: await count(store, 'token_events'),
		dead: await count(store, 'dead_tokens'),
	};
}

describe.each(ENGINES)('[%s] token store', (engine) => {
	let t: TestStore;
	let store: TokenStore;
	beforeEach(async () => {
		t = await openTestStore(engine);
		store = t.store;
	});
	afterEach(() => t.close());

	describe('register', () => {
		it('registers a new token on an anonymous profile and records how it may be used', async () => {
			const result = await store.register({ appId: APP, platform: 'ios', token: tokens.apns(1).toUpperCase(), deviceId: 'dev-1', environment: 'sandbox', provisional: true, pushEnabled: false });
			expect(result.action).toBe('registered');
			if (result.action === 'refused') throw new Error('refused');
			expect(result.device).toMatchObject({ token: tokens.apns(1), provider: 'apns', environment: 'sandbox', provisional: true, pushEnabled: false, foreground: true, lastStatus: 'unused' });
			expect(result.userId).toBeNull();
			const profile = await store.getProfile({ profileId: result.device.profileId });
			expect(profile).toMatchObject({ kind: 'anonymous', userId: null });
			expect(profile!.push_tokens).toHaveLength(1);
			const log = await store.changelog({ appId: APP, token: tokens.apns(1) });
			expect(log.map((e) => e.type)).toEqual(['registered']);
		});

		it('refreshes last_seen on every open and keeps what the call did not say', async () => {
			const first = await store.register({ appId: APP, platform: 'android', token: tokens.fcm(1), deviceId: 'dev-1', foreground: false, pushEnabled: true });
			t.clock.advanceDays(3);
			const again = await store.register({ appId: APP, platform: 'android', token: tokens.fcm(1) });
			expect(again.action).toBe('refreshed');
			if (again.action === 'refused' || first.action === 'refused') throw new Error('refused');
			expect(again.device.id).toBe(first.device.id);
			expect(again.device.registeredAt).toEqual(first.device.registeredAt);
			expect(again.device.lastSeenAt.getTime()).toBe(first.device.lastSeenAt.getTime() + 3 * 86_400_000);
			expect(again.device).toMatchObject({ foreground: false, pushEnabled: true, deviceId: 'dev-1' });
			// An open that changes nothing is no changelog row; one that changes a flag is.
			expect((await store.changelog({ appId: APP, token: tokens.fcm(1) })).map((e) => e.type)).toEqual(['registered']);
			await store.register({ appId: APP, platform: 'android', token: tokens.fcm(1), foreground: true });
			const log = await store.changelog({ appId: APP, token: tokens.fcm(1) });
			expect(log.map((e) => [e.type, e.reason])).toEqual([
				['registered', null],
				['refreshed', 'app open: foreground 0 → 1'],
			]);
		});

		it('supersedes the old token of the same device, and the device keeps its user', async () => {
			await store.register({ appId: APP, platform: 'android', token: tokens.fcm(1), deviceId: 'dev-1', userId: 'kim' });
			const result = await store.register({ appId: APP, platform: 'android', token: tokens.fcm(2), deviceId: 'dev-1' });
			expect(result).toMatchObject({ action: 'registered', supersededToken: tokens.fcm(1), userId: 'kim' });
			expect(await store.getDevice(APP, tokens.fcm(1))).toBeNull();
			const kim = await store.getProfile({ userId: 'kim' });
			expect(kim!.push_tokens.map((p) => p.token)).toEqual([tokens.fcm(2)]);
			const old = await store.changelog({ appId: APP, token: tokens.fcm(1) });
			expect(old.map((e) => e.type)).toEqual(['registered', 'superseded']);
			expect(old[1]).toMatchObject({ fromUserId: 'kim', reason: expect.stringContaining('new token') });
		});

		it('refuses a token known dead, with the reason, and writes nothing', async () => {
			await store.register({ appId: APP, platform: 'android', token: tokens.fcm(1) });
			await store.recordOutcome({ appId: APP, token: tokens.fcm(1), outcome: 'invalid-token', reason: 'UNREGISTERED' });
			const before = await snapshot(store);
			const result = await store.register({ appId: APP, platform: 'android', token: tokens.fcm(1) });
			expect(result).toMatchObject({ action: 'refused', reason: expect.stringContaining('UNREGISTERED') });
			expect(await snapshot(store)).toEqual(before);
		});

		it('stores a Web Push subscription by its endpoint, given as an object or as JSON text', async () => {
			const sub = tokens.webpush(1);
			const result = await store.register({ appId: APP, platform: 'web', token: JSON.stringify(sub) });
			if (result.action === 'refused') throw new Error('refused');
			expect(result.device).toMatchObject({ provider: 'webpush', token: sub.endpoint, webPushKeys: sub.keys });
			expect((await store.register({ appId: APP, platform: 'web', token: sub })).action).toBe('refreshed');
		});

		it.each([
			['an APNs token of 63 hex characters', { platform: 'ios', token: 'a'.repeat(63) }, 'token', '64 hexadecimal'],
			['an APNs token that is not hex', { platform: 'ios', token: 'z'.repeat(64) }, 'token', '64 hexadecimal'],
			['an empty FCM token', { platform: 'android', token: '' }, 'token', 'FCM registration token'],
			['an FCM token with spaces', { platform: 'android', token: 'abc def' }, 'token', 'FCM registration token'],
			['an FCM token that is a number', { platform: 'android', token: 42 }, 'token', 'as a string'],
			['a web subscription with an http endpoint', { platform: 'web', token: { ...tokens.webpush(1), endpoint: 'http://push.example.com/x' } }, 'token.endpoint', 'https://'],
			['a web subscription without keys', { platform: 'web', token: { endpoint: 'https://push.example.com/x' } }, 'token.keys', 'keys'],
			['a web subscription with a short p256dh', { platform: 'web', token: { ...tokens.webpush(1), keys: { p256dh: 'AAAA', auth: tokens.webpush(1).keys.auth } } }, 'token.keys.p256dh', '65 bytes'],
			['an unknown platform', { platform: 'windows', token: 'x' }, 'platform', 'ios, android, web'],
			['an Android token through APNs', { platform: 'android', provider: 'apns', token: tokens.apns(1) }, 'provider', 'fcm'],
			['an empty app id', { appId: ' ', platform: 'android', token: tokens.fcm(1) }, 'appId', 'app id'],
			['foreground as a string', { platform: 'android', token: tokens.fcm(1), foreground: 'yes' }, 'foreground', 'true or false'],
		])('rejects %s, naming the field, and writes nothing', async (_name, fields, field, expected) => {
			const error = await store.register({ appId: APP, ...fields }).catch((e: unknown) => e);
			expect(error).toBeInstanceOf(ValidationError);
			const issue = (error as ValidationError).issues.find((i) => i.field === field);
			expect(issue?.message).toContain(expected);
			expect((error as Error).message).toMatch(/^register: field "/);
			expect(await snapshot(store)).toEqual({ devices: 0, profiles: 0, events: 0, dead: 0 });
		});

		it('with a user id, moves an existing token to that user', async () => {
			await store.register({ appId: APP, platform: 'android', token: tokens.fcm(1), userId: 'charlie' });
			const result = await store.register({ appId: APP, platform: 'android', token: tokens.fcm(1), userId: 'kim' });
			expect(result).toMatchObject({ action: 'refreshed', userId: 'kim', movedFromUserId: 'charlie' });
			expect((await store.changelog({ appId: APP, token: tokens.fcm(1) })).map((e) => e.type)).toEqual(['registered', 'moved']);
		});
	});

	describe('identify and clear identify', () => {
		it('moves an anonymous token to the user, deletes the empty anonymous profile, and logs the move', async () => {
			await store.register({ appId: APP, platform: 'ios', token: tokens.apns(1), deviceId: 'phone' });
			const profilesBefore = await count(store, 'profiles');
			const result = await store.identify({ appId: APP, token: tokens.apns(1), userId: 'charlie' });
			expect(result).toMatchObject({ action: 'moved', userId: 'charlie', fromUserId: null });
			expect(await count(store, 'profiles')).toBe(profilesBefore); // anonymous gone, charlie created
			const charlie = await store.getProfile({ userId: 'charlie' });
			expect(charlie).toMatchObject({ kind: 'identified', push_registered_for: [APP] });
			expect(charlie!.push_tokens[0]).toMatchObject({ token: tokens.apns(1), registration: 'foreground', last_status: 'unused' });
		});

		it('gives the token to the last user who logged in on the device; the previous one is no longer push registered', async () => {
			await store.register({ appId: APP, platform: 'ios', token: tokens.apns(1), deviceId: 'phone' });
			await store.identify({ appId: APP, token: tokens.apns(1), userId: 'charlie' });
			const result = await store.identify({ appId: APP, deviceId: 'phone', userId: 'kim' });
			expect(result).toMatchObject({ action: 'moved', fromUserId: 'charlie', userId: 'kim' });
			const charlie = await store.getProfile({ userId: 'charlie' });
			expect(charlie).toMatchObject({ push_tokens: [], push_registered_for: [] });
			expect((await store.getProfile({ userId: 'kim' }))!.push_tokens).toHaveLength(1);
			const log = await store.changelog({ userId: 'charlie' });
			expect(log.map((e) => [e.type, e.fromUserId, e.toUserId])).toEqual([
				['moved', null, 'charlie'],
				['moved', 'charlie', 'kim'],
			]);
		});

		it('identify clears bounced and suppressed back to unused', async () => {
			await store.register({ appId: APP, platform: 'android', token: tokens.fcm(1), userId: 'kim' });
			await store.recordOutcome({ appId: APP, token: tokens.fcm(1), outcome: 'bounced' });
			await store.recordOutcome({ appId: APP, token: tokens.fcm(1), outcome: 'bounced' });
			expect((await store.getDevice(APP, tokens.fcm(1)))!.lastStatus).toBe('suppressed');
			const result = await store.identify({ appId: APP, token: tokens.fcm(1), userId: 'kim' });
			expect(result).toMatchObject({ action: 'unchanged', statusReset: true });
			expect(await store.getDevice(APP, tokens.fcm(1))).toMatchObject({ lastStatus: 'unused', consecutiveBounces: 0 });
		});

		it('fails clearly for a device that was never registered', async () => {
			await expect(store.identify({ appId: APP, token: tokens.fcm(9), userId: 'kim' })).rejects.toThrow(NotFoundError);
			await expect(store.identify({ appId: APP, userId: 'kim' })).rejects.toThrow(/field "token": expected a token or a deviceId/);
			expect(await count(store, 'profiles')).toBe(0);
		});

		it('logout makes the token anonymous again by default', async () => {
			await store.register({ appId: APP, platform: 'android', token: tokens.fcm(1), userId: 'kim' });
			const result = await store.clearIdentify({ appId: APP, token: tokens.fcm(1) });
			expect(result).toMatchObject({ action: 'anonymized', fromUserId: 'kim' });
			expect((await store.getProfile({ userId: 'kim' }))!.push_tokens).toEqual([]);
			const device = await store.getDevice(APP, tokens.fcm(1));
			expect((await store.getProfile({ profileId: device!.profileId }))!.kind).toBe('anonymous');
			expect((await store.clearIdentify({ appId: APP, token: tokens.fcm(1) })).action).toBe('unchanged');
			const last = (await store.changelog({ appId: APP, token: tokens.fcm(1) })).at(-1)!;
			expect(last).toMatchObject({ type: 'cleared', fromUserId: 'kim', toProfileId: device!.profileId });
		});

		it('logout can remove the token instead; the app may register it again', async () => {
			await store.register({ appId: APP, platform: 'android', token: tokens.fcm(1), userId: 'kim' });
			expect(await store.clearIdentify({ appId: APP, token: tokens.fcm(1), mode: 'remove' })).toMatchObject({ action: 'removed', fromUserId: 'kim' });
			expect(await store.getDevice(APP, tokens.fcm(1))).toBeNull();
			expect((await store.register({ appId: APP, platform: 'android', token: tokens.fcm(1) })).action).toBe('registered');
		});
	});

	describe('import (push_token_import)', () => {
		const rows = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ appId: APP, platform: 'android', token: tokens.fcm(from + i), deviceId: `imp-${from + i}` }));

		it('gives each token its own temporary imported profile, and a re-import changes nothing', async () => {
			const summary = await store.importTokens(rows(2500), { batchSize: 1000 });
			expect(summary).toMatchObject({ rows: 2500, imported: 2500, skippedExisting: 0, skippedDead: 0, invalid: 0 });
			expect(await snapshot(store)).toEqual({ devices: 2500, profiles: 2500, events: 2500, dead: 0 });
			const device = await store.getDevice(APP, tokens.fcm(7));
			expect(await store.getProfile({ profileId: device!.profileId })).toMatchObject({ kind: 'imported', userId: null });

			const before = await snapshot(store);
			const again = await store.importTokens(rows(2500), { batchSize: 700 });
			expect(again).toMatchObject({ imported: 0, skippedExisting: 2500 });
			expect(await snapshot(store)).toEqual(before);
		});

		it('skips dead tokens and duplicates, and reports invalid rows with their number, field and reason', async () => {
			await store.recordOutcome({ appId: APP, token: tokens.fcm(3), outcome: 'invalid-token', reason: 'UNREGISTERED' });
			const input = [...rows(5), { appId: APP, platform: 'ios', token: 'short' }, rows(1)[0], { appId: APP, platform: 'mars', token: 'x' }];
			const summary = await store.importTokens(input);
			expect(summary).toMatchObject({ rows: 8, imported: 4, skippedDead: 1, skippedExisting: 1, invalid: 2 });
			expect(summary.invalidRows).toEqual([
				{ row: 6, issues: [{ field: 'token', message: expect.stringContaining('64 hexadecimal') }] },
				{ row: 8, issues: [{ field: 'platform', message: expect.stringContaining('one of ios, android, web') }] },
			]);
		});

		it('attaches rows with a user id to that user', async () => {
			const summary = await store.importTokens([
				{ appId: APP, platform: 'android', token: tokens.fcm(1), userId: 'kim' },
				{ appId: APP, platform: 'ios', token: tokens.apns(2), userId: 'kim' },
				{ appId: APP, platform: 'web', token: tokens.webpush(3), userId: 'charlie' },
			]);
			expect(summary.imported).toBe(3);
			expect((await store.getProfile({ userId: 'kim' }))!.push_tokens).toHaveLength(2);
			expect((await store.changelog({ userId: 'charlie' }))[0]).toMatchObject({ type: 'imported', toUserId: 'charlie' });
		});

		it('creates a new user once, with the first of their tokens that goes in, whatever came before it in the batch', async () => {
			await store.register({ appId: APP, platform: 'android', token: tokens.fcm(1) });
			const summary = await store.importTokens([
				{ appId: APP, platform: 'android', token: tokens.fcm(1), userId: 'dana' }, // held already: skipped
				{ appId: APP, platform: 'android', token: tokens.fcm(2), userId: 'dana' },
				{ appId: APP, platform: 'android', token: tokens.fcm(2), userId: 'dana' }, // the same row twice in one batch
				{ appId: APP, platform: 'android', token: tokens.fcm(3), userId: 'dana' },
				{ appId: APP, platform: 'android', token: tokens.fcm(4), userId: 'eve' },
				{ appId: APP, platform: 'android', token: tokens.fcm(5), userId: 'fay' },
			]);
			expect(summary).toMatchObject({ imported: 4, skippedExisting: 2 });
			expect((await store.getProfile({ userId: 'dana' }))!.push_tokens.map((t) => t.token).sort()).toEqual([tokens.fcm(2), tokens.fcm(3)].sort());
			const profiles = await store.engine.db.selectFrom('profiles').select(['kind', 'external_id']).execute();
			expect(profiles.map((p) => `${p.kind}:${p.external_id}`).sort()).toEqual(['anonymous:null', 'identified:dana', 'identified:eve', 'identified:fay']);
		});

		it('a dry run reports exactly what the import then does, by platform and provider, and writes nothing', async () => {
			await store.register({ appId: APP, platform: 'android', token: tokens.fcm(1) });
			await store.recordOutcome({ appId: APP, token: tokens.apns(2), outcome: 'invalid-token', reason: 'Unregistered' });
			const input = [
				...rows(4),
				{ appId: APP, platform: 'ios', token: tokens.apns(1) },
				{ appId: APP, platform: 'ios', token: tokens.apns(2) },
				{ appId: APP, platform: 'web', token: tokens.webpush(3) },
				{ appId: APP, platform: 'ios', token: 'short' },
				rows(1)[0],
			];
			const before = await snapshot(store);
			const dry = await store.importTokens(input, { dryRun: true });
			expect(await snapshot(store)).toEqual(before);
			expect(dry).toMatchObject({
				rows: 9, imported: 5, skippedExisting: 2, skippedDead: 1, invalid: 1, dryRun: true,
				byPlatform: {
					'android/fcm': { imported: 3, skippedExisting: 2, skippedDead: 0, skippedBySource: 0 },
					'ios/apns': { imported: 1, skippedExisting: 0, skippedDead: 1, skippedBySource: 0 },
					'web/webpush': { imported: 1, skippedExisting: 0, skippedDead: 0, skippedBySource: 0 },
				},
				invalidReasons: { 'token: expected an APNs device token of 64 hexadecimal characters': 1 },
			});
			expect({ ...(await store.importTokens(input)), dryRun: true }).toEqual(dry);
		});

		it('streams an async source in batches', async () => {
			async function* source() {
				for (let i = 0; i < 1200; i++) yield { appId: APP, platform: 'android', token: tokens.fcm(i) };
			}
			expect((await store.importTokens(source(), { batchSize: 500 })).imported).toBe(1200);
		});

		it('identify merges an imported token into the real user and deletes the temporary profile', async () => {
			await store.importTokens(rows(1));
			const device = await store.getDevice(APP, tokens.fcm(0));
			await store.identify({ appId: APP, token: tokens.fcm(0), userId: 'kim' });
			expect(await store.getProfile({ profileId: device!.profileId })).toBeNull();
			expect((await store.getProfile({ userId: 'kim' }))!.push_tokens).toHaveLength(1);
		});
	});

	describe('delivery outcomes', () => {
		beforeEach(() => store.register({ appId: APP, platform: 'android', token: tokens.fcm(1), userId: 'kim' }));
		const status = async () => (await store.getDevice(APP, tokens.fcm(1)))?.lastStatus;

		it('unused → sent → bounced → suppressed after two bounces in a row', async () => {
			expect(await status()).toBe('unused');
			expect((await store.recordOutcome({ appId: APP, token: tokens.fcm(1), outcome: 'delivered' })).action).toBe('sent');
			expect(await status()).toBe('sent');
			expect((await store.recordOutcome({ appId: APP, token: tokens.fcm(1), outcome: 'bounced' })).action).toBe('bounced');
			expect(await status()).toBe('bounced');
			expect((await store.recordOutcome({ appId: APP, token: tokens.fcm(1), outcome: 'bounced' })).action).toBe('suppressed');
			expect(await status()).toBe('suppressed');
		});

		it('a delivery between two bounces resets the count', async () => {
			for (const outcome of ['bounced', 'delivered', 'bounced'] as const) await store.recordOutcome({ appId: APP, token: tokens.fcm(1), outcome });
			expect(await store.getDevice(APP, tokens.fcm(1))).toMatchObject({ lastStatus: 'bounced', consecutiveBounces: 1 });
		});

		it('an invalid token is removed and tombstoned, so it is never imported again', async () => {
			const result = await store.recordOutcome({ appId: APP, token: tokens.fcm(1), outcome: 'invalid-token', reason: 'UNREGISTERED' });
			expect(result).toMatchObject({ action: 'removed', userId: 'kim' });
			expect(await store.getDevice(APP, tokens.fcm(1))).toBeNull();
			expect((await store.getProfile({ userId: 'kim' }))!.push_tokens).toEqual([]);
			expect((await store.importTokens([{ appId: APP, platform: 'android', token: tokens.fcm(1) }])).skippedDead).toBe(1);
			expect((await store.changelog({ appId: APP, token: tokens.fcm(1) })).at(-1)).toMatchObject({ type: 'removed', reason: 'UNREGISTERED', fromUserId: 'kim' });
		});

		it.each([
			['retry', {}],
			['config-error', {}],
			['invalid-token', { test: true }],
			['bounced', { test: true }],
		])('%s %j changes nothing', async (outcome, extra) => {
			const before = await snapshot(store);
			const result = await store.recordOutcome({ appId: APP, token: tokens.fcm(1), outcome, ...extra });
			expect(result.action).toBe('unchanged');
			expect(await snapshot(store)).toEqual(before);
			expect(await status()).toBe('unused');
		});

		it('records a send batch in bulk: every device sent, its changelog written, unknown tokens said', async () => {
			await store.register({ appId: APP, platform: 'android', token: tokens.fcm(2), userId: 'lee' });
			await store.recordOutcome({ appId: APP, token: tokens.fcm(2), outcome: 'bounced' });
			const results = await store.recordOutcomes([
				{ appId: APP, token: tokens.fcm(1), outcome: 'delivered' },
				{ appId: APP, token: tokens.fcm(2), outcome: 'delivered', reason: 'accepted' },
				{ appId: APP, token: tokens.fcm(9), outcome: 'delivered' },
			]);
			expect(results.map((r) => [r.action, r.userId])).toEqual([
				['sent', 'kim'],
				['sent', 'lee'],
				['not-found', null],
			]);
			expect(await store.getDevice(APP, tokens.fcm(2))).toMatchObject({ lastStatus: 'sent', consecutiveBounces: 0 });
			expect((await store.changelog({ appId: APP, token: tokens.fcm(2) })).at(-1)).toMatchObject({ type: 'sent', toUserId: 'lee', reason: 'accepted' });
		});

		it('records a batch of outcomes in one transaction, or none of them', async () => {
			await expect(
				store.recordOutcomes([
					{ appId: APP, token: tokens.fcm(1), outcome: 'delivered' },
					{ appId: APP, token: tokens.fcm(1), outcome: 'exploded' },
				]),
			).rejects.toThrow(/outcome 2: field "outcome"/);
			expect(await status()).toBe('unused');
		});
	});

	describe('clean-up', () => {
		it('deletes imported profiles left without a token, keeps those that still hold one', async () => {
			await store.importTokens(Array.from({ length: 30 }, (_, i) => ({ appId: APP, platform: 'android', token: tokens.fcm(i) })));
			for (let i = 0; i < 10; i++) await store.recordOutcome({ appId: APP, token: tokens.fcm(i), outcome: 'invalid-token', reason: 'UNREGISTERED' });
			for (let i = 10; i < 15; i++) await store.identify({ appId: APP, token: tokens.fcm(i), userId: `user-${i}` });
			const report = await store.cleanup({ batchSize: 4, reportLimit: 3 });
			expect(report).toMatchObject({ deletedImportedProfiles: 10, keptImportedProfiles: 15, prunedStaleDevices: 0 });
			expect(report.deletedProfileIds).toHaveLength(3);
			expect(await count(store, 'profiles')).toBe(15 + 5);
			expect((await store.cleanup()).deletedImportedProfiles).toBe(0);
		});

		it('prunes devices not seen for N days, and logs why', async () => {
			await store.register({ appId: APP, platform: 'android', token: tokens.fcm(1) });
			await store.register({ appId: APP, platform: 'android', token: tokens.fcm(2), userId: 'kim' });
			t.clock.advanceDays(200);
			await store.register({ appId: APP, platform: 'android', token: tokens.fcm(3) });
			t.clock.advanceDays(71);
			const report = await store.cleanup({ staleAfterDays: 270 });
			expect(report).toMatchObject({ prunedStaleDevices: 2, staleAfterDays: 270 });
			expect(await store.getDevice(APP, tokens.fcm(3))).not.toBeNull();
			expect((await store.changelog({ userId: 'kim' })).at(-1)).toMatchObject({ type: 'removed', reason: 'not seen for 270 days' });
			expect(await count(store, 'profiles')).toBe(2); // kim stays; the pruned anonymous profile went with its token
		});

		it('keeps the send log 30 days and the changelog 400 days by default, deletes older rows in batches, and keeps the tombstones', async () => {
			const claim = (sendId: string, n: number) => store.claimSends(Array.from({ length: n }, (_, i) => ({ sendId, appId: APP, token: tokens.fcm(i) })));
			await store.register({ appId: APP, platform: 'android', token: tokens.fcm(1), userId: 'kim' });
			await store.recordOutcome({ appId: APP, token: tokens.fcm(9), outcome: 'invalid-token', reason: 'UNREGISTERED' }); // a tombstone, no device
			await claim('old-campaign', 7);
			t.clock.advanceDays(20);
			await claim('new-campaign', 5);
			t.clock.advanceDays(11); // the old campaign is 31 days old, the new one 11
			expect(await store.cleanup({ batchSize: 3 })).toMatchObject({ prunedSendLogRows: 7, prunedChangelogRows: 0 });
			expect(await count(store, 'send_log')).toBe(5);
			await store.identify({ appId: APP, token: tokens.fcm(1), userId: 'lee' });
			t.clock.advanceDays(380); // the registration is 411 days old, the move 380
			expect(await store.cleanup({ batchSize: 1 })).toMatchObject({ prunedSendLogRows: 5, prunedChangelogRows: 1 });
			expect((await store.changelog({ appId: APP, token: tokens.fcm(1) })).map((e) => e.type)).toEqual(['moved']);
			expect((await store.register({ appId: APP, platform: 'android', token: tokens.fcm(9) })).action).toBe('refused');
			// 0 keeps them forever.
			t.clock.advanceDays(1000);
			expect(await store.cleanup({ sendLogDays: 0, changelogDays: 0 })).toMatchObject({ prunedSendLogRows: 0, prunedChangelogRows: 0 });
			expect(await count(store, 'token_events')).toBe(1);
		});
	});

	describe('audience and profiles', () => {
		async function seed() {
			await store.register({ appId: APP, platform: 'android', token: tokens.fcm(1), userId: 'kim' });
			t.clock.advance(1000);
			await store.register({ appId: APP, platform: 'ios', token: tokens.apns(2), userId: 'kim' }); // kim's last active
			await store.register({ appId: APP, platform: 'android', token: tokens.fcm(3), userId: 'charlie', foreground: false }); // background only
			await store.register({ appId: APP, platform: 'android', token: tokens.fcm(4), userId: 'lee' });
			await store.setSubscription({ userId: 'lee', unsubscribed: true });
			await store.register({ appId: APP, platform: 'android', token: tokens.fcm(5), userId: 'sam' });
			await store.recordOutcome({ appId: APP, token: tokens.fcm(5), outcome: 'bounced' });
			await store.recordOutcome({ appId: APP, token: tokens.fcm(5), outcome: 'bounced' }); // suppressed
			await store.register({ appId: APP, platform: 'android', token: tokens.fcm(6) }); // anonymous
			await store.importTokens([{ appId: APP, platform: 'android', token: tokens.fcm(7) }]); // imported
			t.clock.advance(1000);
			await store.register({ appId: 'other.app', platform: 'android', token: tokens.fcm(8), userId: 'kim' });
		}
		async function collect(query: Parameters<TokenStore['audience']>[0]) {
			const pages: string[][] = [];
			for await (const page of store.audience(query)) pages.push(page.map((d) => d.token));
			return pages;
		}
		const fcm = tokens.fcm;

		it('streams the push-registered devices of one app in pages', async () => {
			await seed();
			const pages = await collect({ appId: APP, pageSize: 2 });
			expect(pages.every((p) => p.length <= 2)).toBe(true);
			expect(pages.flat().sort()).toEqual([fcm(1), tokens.apns(2), fcm(7)].sort());
		});

		it('follows each option: transactional, silent, anonymous, imported, platform, last active', async () => {
			await seed();
			const all = async (q: object) => (await collect({ appId: APP, ...q })).flat().sort();
			expect(await all({ transactional: true })).toEqual([fcm(1), tokens.apns(2), fcm(4), fcm(7)].sort());
			expect(await all({ visible: false })).toEqual([fcm(1), tokens.apns(2), fcm(3), fcm(7)].sort());
			expect(await all({ includeAnonymous: true, includeImported: false })).toEqual([fcm(1), tokens.apns(2), fcm(6)].sort());
			expect(await all({ platform: 'android' })).toEqual([fcm(1), fcm(7)].sort());
			expect(await all({ lastActiveOnly: true })).toEqual([tokens.apns(2), fcm(7)].sort());
		});

		it("lists a user's devices, or only the last active one per app", async () => {
			await seed();
			expect((await store.devicesOfUser('kim')).map((d) => d.token)).toEqual([fcm(8), tokens.apns(2), fcm(1)]);
			expect((await store.devicesOfUser('kim', { appId: APP, lastActiveOnly: true })).map((d) => d.token)).toEqual([tokens.apns(2)]);
			expect(await store.devicesOfUser('lee')).toEqual([]);
			expect((await store.devicesOfUser('lee', { transactional: true })).map((d) => d.token)).toEqual([fcm(4)]);
			await expect(store.devicesOfUser('nobody')).rejects.toThrow(NotFoundError);
		});

		it('an unsubscribe for an unknown user is kept for when they arrive', async () => {
			await store.setSubscription({ userId: 'newcomer', unsubscribed: true });
			await store.register({ appId: APP, platform: 'android', token: fcm(1), userId: 'newcomer' });
			expect(await store.getProfile({ userId: 'newcomer' })).toMatchObject({ unsubscribed: true, push_registered_for: [APP] });
			expect((await collect({ appId: APP })).flat()).toEqual([]);
		});
	});
});
