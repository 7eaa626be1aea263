/**
 * The nodes in workflows run by n8n-core's own engine (test/nodes/engine.ts), in this process,
 * against a real SQLite store: n8n applies the parameter defaults, evaluates the expressions per
 * item, builds the execution contexts and routes the outputs. Fast; the proof inside a real n8n
 * (CLI, database, installed package) stays test/e2e.
 *
 * No node file is imported here: the harness loads the nodes itself, after pointing their
 * n8n-workflow at the engine's (see test/nodes/engine.ts).
 */
import type { INodeParameters, INodeType } from 'n8n-workflow';
import { closeAllStores, TokenStore, type StoreConfig } from '../../nodes/core';
import { freshConfig, tokens } from '../support/stores';
import { binaryFile, line, loadEngine, node, PACKAGE, packageNodeTypes, run, type Json, type NodeSpec } from './engine';

const APP = 'com.example.app';
let store: StoreConfig;
let dispose: () => Promise<void>;
let direct: TokenStore;

beforeAll(() => {
	packageNodeTypes(); // n8n-core and the nodes load in a few seconds: outside the first test's time
});
beforeEach(async () => {
	({ config: store, dispose } = await freshConfig('sqlite'));
	direct = await TokenStore.open(store);
});
afterEach(async () => {
	await direct.close();
	await closeAllStores();
	await dispose();
});

/** Register Push Token, its fields read from the item (expressions, as a user maps them). */
const register = (name = 'Register', extra: Partial<NodeSpec> = {}): NodeSpec => ({
	...node.register(name, { appId: APP, platform: '={{ $json.platform ?? "android" }}', token: '={{ $json.token }}', userId: '={{ $json.userId ?? "" }}' }),
	...extra,
});

/** Every string in a JSON value (for assertions that must not depend on the field names). */
function strings(value: unknown): string[] {
	if (typeof value === 'string') return [value];
	if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
	return [];
}

describe('nodes in workflows run by n8n-core (WorkflowExecute)', () => {
	it('the nodes and n8n-core share one n8n-workflow', () => {
		const { workflow } = loadEngine();
		// eslint-disable-next-line @typescript-eslint/no-require-imports -- what a node's `import 'n8n-workflow'` resolves to now
		expect(require('n8n-workflow')).toBe(workflow);
		expect(new workflow.NodeOperationError({ name: 'x' } as never, 'x')).toBeInstanceOf(Error); // one realm: jest's
	});

	it('Manual Trigger → items → Register → Identify → Get Profile', async () => {
		const r = (
			await run(
				line(
					node.manual(),
					node.items('Items', [{ token: tokens.fcm(1) }, { token: tokens.fcm(2) }]),
					register(),
					node.identity('Identify', { operation: 'identify', appId: APP, token: '={{ $json.device.token }}', userId: 'kim' }),
					// two items for one user: one profile each time (Execute Once is n8n's, not tested here)
					node.identity('Get Profile', { operation: 'getProfile', userId: '={{ $json.userId }}' }),
				),
				{ store },
			)
		).assertSuccess();

		expect(r.order).toEqual(['Start', 'Items', 'Register', 'Identify', 'Get Profile']);
		expect(r.json('Register').map((j) => [j.action, (j.device as Json).token])).toEqual([
			['registered', tokens.fcm(1)],
			['registered', tokens.fcm(2)],
		]);
		expect(r.json('Identify').map((j) => [j.action, j.userId])).toEqual([
			['moved', 'kim'],
			['moved', 'kim'],
		]);
		expect(r.items('Get Profile').map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);
		const profile = r.json('Get Profile')[1];
		expect(profile).toMatchObject({ found: true, userId: 'kim' });
		expect(strings(profile)).toEqual(expect.arrayContaining([tokens.fcm(1), tokens.fcm(2)]));
	});

	it('Register with Continue On Fail: the bad item is an error item naming it and its field; the others are registered', async () => {
		const r = (
			await run(line(node.manual(), node.items('Items', [{ token: tokens.fcm(1) }, { token: '' }, { token: tokens.fcm(3) }]), register('Register', { continueOnFail: true })), { store })
		).assertSuccess();

		const out = r.items('Register');
		expect(out.map((o) => [o.json.action ?? 'error', o.pairedItem])).toEqual([
			['registered', { item: 0 }],
			['error', { item: 1 }],
			['registered', { item: 2 }],
		]);
		expect(out[1].json.error).toMatch(/^Item 2: .*"token"/);
		expect(await direct.getDevice(APP, tokens.fcm(3))).not.toBeNull();
	});

	it('Register without Continue On Fail: the workflow stops at the node, its error naming the item and field', async () => {
		const r = await run(line(node.manual(), node.items('Items', [{ token: tokens.fcm(1) }, { token: '' }]), register(), node.noOp('After')), { store });

		expect(r.status).toBe('error');
		expect(r.error?.node?.name).toBe('Register');
		expect(r.error?.message).toMatch(/^Item 2: .*"token"/);
		expect(r.order).not.toContain('After');
		expect(await direct.getDevice(APP, tokens.fcm(1))).not.toBeNull(); // the item before was done
	});

	/** Handle Push Feedback's fields mapped from the item, as a user maps them (version 1's, and version 2's with Answer From: Map Fields). */
	const feedbackMapped = {
		appId: '={{ $json.appId }}',
		token: '={{ $json.token }}',
		provider: "={{ $json.provider ?? '' }}",
		code: "={{ $json.code ?? '' }}",
		statusCode: '={{ $json.statusCode ?? 0 }}',
	};

	it.each([
		// a node saved with its defaults: n8n keeps no parameters, the defaults read the item
		['v1 saved with its defaults', 1, {}],
		['v1, the fields mapped', 1, feedbackMapped],
		['v2, Answer From: Automatic (its default)', 2, {}],
		['v2, Answer From: Map Fields, the fields mapped', 2, { source: 'map', ...feedbackMapped }],
	])('Handle Push Feedback (%s): removed, suppressed, retry and other outputs', async (_, typeVersion, parameters) => {
		await direct.register({ appId: APP, platform: 'android', token: tokens.fcm(1) });
		await direct.register({ appId: APP, platform: 'android', token: tokens.fcm(2) });
		await direct.register({ appId: APP, platform: 'ios', token: tokens.apns(3) });
		const answers = [
			{ appId: APP, token: tokens.fcm(1), provider: 'fcm', code: 'UNREGISTERED' },
			{ appId: APP, token: tokens.fcm(2), code: 'bounced' },
			{ appId: APP, token: tokens.fcm(2), code: 'bounced' },
			{ appId: APP, token: tokens.apns(3), provider: 'apns', statusCode: 503 },
		];
		const r = (await run(line(node.manual(), node.items('Answers', answers), { ...node.feedback('Feedback', parameters), typeVersion }), { store })).assertSuccess();

		const [removed, suppressed, retry, other] = r.outputs('Feedback');
		expect(removed.map((j) => [j.token, j.action])).toEqual([[tokens.fcm(1), 'removed']]);
		expect(suppressed.map((j) => [j.token, j.action])).toEqual([[tokens.fcm(2), 'suppressed']]);
		expect(retry.map((j) => [j.token, j.action])).toEqual([[tokens.apns(3), 'retry']]);
		expect(retry[0].retryAfterSeconds).toEqual(expect.any(Number));
		expect(other.map((j) => [j.token, j.action])).toEqual([[tokens.fcm(2), 'bounced']]); // the first bounce
		// each item paired with its answer
		expect(r.items('Feedback', 1)[0].pairedItem).toEqual({ item: 2 });
		expect(await direct.getDevice(APP, tokens.fcm(1))).toBeNull();
		expect((await direct.getDevice(APP, tokens.fcm(2)))!.lastStatus).toBe('suppressed');
	});

	it('Import Push Tokens from a binary CSV file: one summary, the bad row counted', async () => {
		const csv = ['app_id,platform,token', `${APP},android,${tokens.fcm(1)}`, `${APP},ios,${tokens.apns(2)}`, `${APP},ios,not-hex`, ''].join('\n');
		const r = (
			await run(
				line(
					node.manual(),
					node.items('File', [{ json: { fileName: 'tokens.csv' }, binary: binaryFile(csv, 'tokens.csv') }]),
					node.importTokens('Import', { mode: 'anonymous', source: 'file', binaryPropertyName: 'data', format: 'csv' }),
				),
				{ store },
			)
		).assertSuccess();

		expect(r.json('Import')).toHaveLength(1);
		expect(r.json('Import')[0]).toMatchObject({ rows: 3, imported: 2, invalid: 1 });
		expect(await direct.getDevice(APP, tokens.apns(2))).not.toBeNull();
	});

	it('Import Push Tokens, Map Columns: the columns the node names, a Web Push subscription from three of them', async () => {
		const web = tokens.webpush(3);
		const csv = [
			'Registration ID,OS,Customer,Key,Secret',
			`${tokens.fcm(1)},Android,kim,,`,
			`${web.endpoint},WEB,,${web.keys.p256dh},${web.keys.auth}`,
			`${tokens.apns(2)},ios,kim,,`,
			'',
		].join('\n');
		const mapped = { tokenColumn: 'Registration ID', columns: { platform: 'OS', userId: 'Customer', webPushP256dh: 'Key', webPushAuth: 'Secret' } };
		const r = (
			await run(
				line(
					node.manual(),
					node.items('File', [{ json: {}, binary: binaryFile(csv, 'tokens.csv') }]),
					node.importTokens('Import', { mode: 'withUsers', source: 'file', format: 'csv', preset: 'mapColumns', defaultAppId: APP, ...mapped }),
				),
				{ store },
			)
		).assertSuccess();

		expect(r.json('Import')[0]).toMatchObject({ source: 'Map Columns', rows: 3, imported: 3, invalid: 0, byPlatform: { 'android/fcm': { imported: 1 }, 'web/webpush': { imported: 1 }, 'ios/apns': { imported: 1 } } });
		expect((await direct.getProfile({ userId: 'kim' }))!.push_tokens).toHaveLength(2);
		expect(await direct.getDevice(APP, web.endpoint)).toMatchObject({ provider: 'webpush' });
	});

	it('Import Push Tokens, Detect From Header: a file no preset knows is an error naming the item and its columns (Continue On Fail: an error item)', async () => {
		const csv = 'colour,size\nred,9\n';
		const file = node.items('File', [{ json: {}, binary: binaryFile(csv, 'other.csv') }]);
		const importer = { ...node.importTokens('Import', { source: 'file', format: 'csv', preset: 'detect' }), continueOnFail: true };
		const r = (await run(line(node.manual(), file, importer), { store })).assertSuccess();
		expect(r.json('Import')).toEqual([{ error: expect.stringMatching(/^Item 1: no import preset knows these columns: colour, size; choose the Source, or Map Columns/) }]);

		const failed = await run(line(node.manual(), file, { ...importer, continueOnFail: false }), { store });
		expect(failed.error).toMatchObject({ node: { name: 'Import' }, message: expect.stringContaining('Item 1: no import preset knows these columns') });
	});
});

describe('saved workflows keep their meaning across versions (n8n resolves the defaults)', () => {
	const resolve = (type: string, typeVersion: number, saved: Json = {}) => {
		const { workflow } = loadEngine();
		const description = (packageNodeTypes().get(`${PACKAGE}.${type}`) as INodeType).description;
		const node = { id: 'n', name: 'n', type: `${PACKAGE}.${type}`, typeVersion, position: [0, 0], parameters: saved } as never;
		return workflow.NodeHelpers.getNodeParameters(description.properties, saved as INodeParameters, true, false, node, description) as Json;
	};

	it('Handle Push Feedback: version 1 maps its fields, version 2 reads the item itself', () => {
		expect(resolve('handlePushFeedback', 1)).toMatchObject({ source: 'map', appId: "={{ $json.appId ?? '' }}", code: expect.stringContaining('$json.errorCode') });
		expect(resolve('handlePushFeedback', 2)).toEqual({ source: 'auto', options: {} });
	});

	it('Import Push Tokens: a file in version 1 is read in this package\'s layout, in version 1.1 by its header', () => {
		expect(resolve('importPushTokens', 1, { source: 'file' })).toMatchObject({ preset: 'package' });
		expect(resolve('importPushTokens', 1.1, { source: 'file' })).toMatchObject({ preset: 'detect' });
	});

	it('Cleanup Trigger: version 1 runs its cron expression, version 2 monthly at 03:00', () => {
		expect(resolve('pushTokenCleanupTrigger', 1, { cronExpression: '0 4 * * 1' })).toMatchObject({ schedule: 'custom', cronExpression: '0 4 * * 1' });
		expect(resolve('pushTokenCleanupTrigger', 2)).toMatchObject({ schedule: 'monthly', dayOfMonth: 1, hour: 3 });
		expect(resolve('pushTokenCleanupTrigger', 2)).not.toHaveProperty('cronExpression');
	});

	it('Push Token Identity: version 1 keeps its Unsubscribed switch, version 2 says Unsubscribe', () => {
		expect(resolve('pushTokenIdentity', 1, { operation: 'setSubscription', userId: 'kim' })).toMatchObject({ unsubscribed: true });
		const v2 = resolve('pushTokenIdentity', 2, { operation: 'setSubscription', userId: 'kim' });
		expect(v2).toMatchObject({ subscription: 'unsubscribe' });
		expect(v2).not.toHaveProperty('unsubscribed');
	});
});
