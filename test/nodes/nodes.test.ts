/**
 * The nodes' execute() against a real SQLite store, for quick feedback (the real-n8n suite in
 * test/e2e is the proof): item loop, Continue On Fail, pairedItem, outputs.
 */
import { NodeOperationError } from 'n8n-workflow';
import { closeAllStores, TokenStore, type StoreConfig } from '../../nodes/core';
import { HandlePushFeedback } from '../../nodes/HandlePushFeedback/HandlePushFeedback.node';
import { ImportPushTokens } from '../../nodes/ImportPushTokens/ImportPushTokens.node';
import { PushTokenCleanupTrigger, toCronExpression } from '../../nodes/PushTokenCleanupTrigger/PushTokenCleanupTrigger.node';
import { PushTokenIdentity } from '../../nodes/PushTokenIdentity/PushTokenIdentity.node';
import { RegisterPushToken } from '../../nodes/RegisterPushToken/RegisterPushToken.node';
import { freshConfig, tokens } from '../support/stores';
import { execute, triggerOnce } from './context';

const APP = 'com.example.app';
let store: StoreConfig;
let dispose: () => Promise<void>;
let direct: TokenStore;

beforeEach(async () => {
	({ config: store, dispose } = await freshConfig('sqlite'));
	direct = await TokenStore.open(store);
});
afterEach(async () => {
	await direct.close();
	await closeAllStores();
	await dispose();
});

describe('nodes, executed with a faithful context', () => {
	const register = (token: unknown) => ({ appId: APP, platform: 'android', token, deviceId: '', userId: '', additionalFields: {} });

	it('Register: one output item per input, paired; a bad item stops the node with its index and field', async () => {
		const items = [{ token: tokens.fcm(1) }, { token: 'has space' }];
		const error = await execute(new RegisterPushToken(), { items, params: (i) => register(items[i].token), store }).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(NodeOperationError);
		expect((error as Error).message).toBe('Item 2: field "token": expected an FCM registration token (visible ASCII characters, no spaces), got "has space"');
		expect(await direct.getDevice(APP, tokens.fcm(1))).not.toBeNull(); // the first item was done before the second failed
	});

	it('Register with Continue On Fail: the bad item becomes an error item and the rest goes on', async () => {
		const items = [{ token: 'has space' }, { token: tokens.fcm(2) }];
		const [out] = await execute(new RegisterPushToken(), { items, params: (i) => register(items[i].token), store, continueOnFail: true });
		expect(out.map((o) => [o.json.action ?? 'error', o.pairedItem])).toEqual([
			['error', { item: 0 }],
			['registered', { item: 1 }],
		]);
	});

	it('Identity: get profile of an unknown user says so instead of failing', async () => {
		const [out] = await execute(new PushTokenIdentity(), { params: { operation: 'getProfile', userId: 'nobody' }, store });
		expect(out[0].json).toEqual({ found: false, userId: 'nobody' });
	});

	it('Identity version 2: Get Profile in camelCase without the store ids, Set Subscription says Unsubscribe or Resubscribe', async () => {
		await direct.register({ appId: APP, platform: 'android', token: tokens.fcm(1), userId: 'kim' });
		const identity = (params: Record<string, unknown>) => execute(new PushTokenIdentity(), { params, store, typeVersion: 2 });
		const [[profile]] = await identity({ operation: 'getProfile', userId: 'kim', options: {} });
		expect(profile.json).toMatchObject({ found: true, userId: 'kim', pushRegisteredFor: [APP], pushTokens: [{ appId: APP, token: tokens.fcm(1), pushEnabled: true, lastStatus: 'unused' }] });
		expect(JSON.stringify(profile.json)).not.toMatch(/_|"id"/);
		const [[braze]] = await identity({ operation: 'getProfile', userId: 'kim', options: { exportFieldNames: true } });
		expect(braze.json).toMatchObject({ push_tokens: [{ app_id: APP, push_enabled: true }] });
		expect((await identity({ operation: 'setSubscription', userId: 'kim', subscription: 'unsubscribe' }))[0][0].json).toMatchObject({ userId: 'kim', unsubscribed: true });
		expect((await identity({ operation: 'setSubscription', userId: 'kim', subscription: 'resubscribe' }))[0][0].json).toMatchObject({ unsubscribed: false });
		const field = new PushTokenIdentity().description.properties.find((p) => p.name === 'subscription')!;
		expect(field.default).toBe('unsubscribe'); // what the panel shows, not a switch that is silently on
	});

	it('Identity: identify of an imported token says it was merged; Get Token History pages the changelog newest first', async () => {
		await direct.importTokens([{ appId: APP, platform: 'android', token: tokens.fcm(1) }]);
		const [[moved]] = await execute(new PushTokenIdentity(), { params: { operation: 'identify', appId: APP, token: tokens.fcm(1), deviceId: '', userId: 'kim' }, store, typeVersion: 2 });
		expect(moved.json).toMatchObject({ action: 'moved', fromUserId: null, fromProfile: 'imported', mergedProfile: true });
		for (const user of ['lea', 'kim', 'lea']) await direct.identify({ appId: APP, token: tokens.fcm(1), userId: user });
		const history = (params: Record<string, unknown>) => execute(new PushTokenIdentity(), { params: { operation: 'getTokenHistory', ...params }, store, typeVersion: 2 });
		const [all] = await history({ historyOf: 'token', appId: APP, token: tokens.fcm(1), returnAll: true });
		expect(all.map((e) => [e.json.type, e.json.fromUserId, e.json.toUserId])).toEqual([
			['moved', 'kim', 'lea'],
			['moved', 'lea', 'kim'],
			['moved', 'kim', 'lea'],
			['moved', null, 'kim'],
			['imported', null, null],
		]);
		const [two] = await history({ historyOf: 'user', userId: 'lea', returnAll: false, limit: 2 });
		expect(two.map((e) => e.json.id)).toEqual([all[0].json.id, all[1].json.id]);
	});

	it('Import from items: one summary paired with every item, a duplicate skipped', async () => {
		const items = [{ token: tokens.fcm(1) }, { token: tokens.fcm(2), userId: 'kim' }, { token: tokens.fcm(1) }];
		const [out] = await execute(new ImportPushTokens(), {
			items,
			params: (i) => ({ mode: 'anonymous', source: 'items', appId: APP, platform: 'android', token: items[i].token, deviceId: '', userId: items[i].userId ?? '', options: {} }),
			store,
		});
		expect(out).toHaveLength(1);
		expect(out[0].pairedItem).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		// (push_token_import mode does not read the User ID field: it is hidden in that mode)
		expect(out[0].json).toMatchObject({ rows: 3, imported: 2, skippedExisting: 1, invalid: 0 });
		expect((await direct.getProfile({ userId: 'kim' })) ?? null).toBeNull();
	});

	it('Handle Feedback: each answer on its branch; a configuration error fails the item, tokens kept', async () => {
		for (const n of [1, 2, 3]) await direct.register({ appId: APP, platform: 'android', token: tokens.fcm(n) });
		const answers = [
			{ token: tokens.fcm(1), code: 'UNREGISTERED' },
			{ token: tokens.fcm(2), code: 'QUOTA_EXCEEDED' },
			{ token: tokens.fcm(3), code: 'THIRD_PARTY_AUTH_ERROR' },
			{ token: tokens.fcm(3), code: 'delivered' },
			// sent, answer lost (Send Push's deliveryUnknown): may have arrived, so never on Retry
			{ token: tokens.fcm(2), code: 'retry', deliveryUnknown: true },
		];
		const params = (i: number) => ({
			appId: APP, token: answers[i].token, provider: 'fcm', code: answers[i].code, statusCode: 0, test: false, deliveryUnknown: answers[i].deliveryUnknown ?? false, attempt: 0, retryAfter: 0, message: '', options: {},
		});
		const outputs = await execute(new HandlePushFeedback(), { items: answers, params, store, continueOnFail: true });
		expect(outputs.map((o) => o.map((i) => i.json.action ?? 'error'))).toEqual([['removed'], [], ['retry'], ['error', 'sent', 'delivery-unknown']]);
		expect((await direct.getDevice(APP, tokens.fcm(2)))!.lastStatus).toBe('unused');
		expect(outputs[3][0].json.error).toMatch(/^Item 3: the provider refused the push because of the configuration \(THIRD_PARTY_AUTH_ERROR\)/);
		expect(await direct.getDevice(APP, tokens.fcm(3))).not.toBeNull();
	});

	it('Handle Feedback version 2, Answer From = Automatic: reads the items as the mapped fields do by default', async () => {
		for (const n of [1, 2]) await direct.register({ appId: APP, platform: 'android', token: tokens.fcm(n) });
		// what Send Push outputs, and a provider webhook's own words
		const items = [
			{ appId: APP, token: tokens.fcm(1), provider: 'fcm', errorCode: 'UNREGISTERED', statusCode: 404 },
			{ appId: APP, token: tokens.fcm(2), provider: 'fcm', code: 'QUOTA_EXCEEDED', attempts: 2, retryAfterSeconds: 120 },
			{ appId: APP, token: tokens.fcm(2), event: 'delivered' },
			{ appId: APP, token: tokens.fcm(2), code: 200 }, // a webhook's code as a number
		];
		const outputs = await execute(new HandlePushFeedback(), { items, params: { source: 'auto', options: {} }, store, typeVersion: 2 });
		expect(outputs.map((o) => o.map((i) => i.json.action))).toEqual([['removed'], [], ['retry'], ['sent', 'sent']]);
		expect(outputs[2][0].json).toMatchObject({ attempts: 2, retryAfterSeconds: 120 });
		expect(await direct.getDevice(APP, tokens.fcm(1))).toBeNull();
	});

	it('Register: the Provider field left at its default follows the platform', async () => {
		const apns = 'a'.repeat(64);
		const [out] = await execute(new RegisterPushToken(), {
			params: { appId: APP, platform: 'ios', token: apns, deviceId: '', userId: '', additionalFields: { provider: 'platform', foreground: true } },
			store,
		});
		expect(out[0].json).toMatchObject({ action: 'registered', device: { provider: 'apns', platform: 'ios' } });
		const field = new RegisterPushToken().description.properties.find((p) => p.name === 'additionalFields')!.options!.find((o) => o.name === 'provider') as { default: unknown };
		expect(field.default).toBe('platform');
	});

	it('Cleanup trigger: registers its cron and a manual run emits the summary and the deleted profiles', async () => {
		await direct.importTokens([{ appId: APP, platform: 'android', token: tokens.fcm(1) }]);
		await direct.recordOutcome({ appId: APP, token: tokens.fcm(1), outcome: 'invalid-token' });
		const [items] = await triggerOnce(new PushTokenCleanupTrigger(), { params: { cronExpression: '0 3 1 * *', pruneStale: false, reportLimit: 10, emitDeletedProfiles: true }, store });
		expect(items.map((i) => i.json.type)).toEqual(['summary', 'deletedProfile']);
		expect(items[0].json).toMatchObject({ deletedImportedProfiles: 1, keptImportedProfiles: 0 });
	});

	it('reads five-field and six-field cron expressions, and refuses others', () => {
		expect(toCronExpression('0 3 1 * *')).toBe('0 0 3 1 * *');
		expect(toCronExpression('*/2 * * * * *')).toBe('*/2 * * * * *');
		expect(toCronExpression('monthly')).toBeNull();
	});
});
