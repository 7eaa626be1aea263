/**
 * A device's Time Zone and Language in Register Push Token version 2 (version 1 as it was) and
 * Import Push Tokens version 1.2 (from items), and the store credential's Max Devices per User,
 * run by n8n-core's engine (test/nodes/engine.ts) on a real SQLite store. No node file is
 * imported here: the harness loads the nodes.
 */
import type { INodeParameters, INodeProperties, INodeType } from 'n8n-workflow';
import { closeAllStores, TokenStore, type StoreConfig } from '../../nodes/core';
import { freshConfig, tokens } from '../support/stores';
import { line, loadEngine, node, PACKAGE, packageNodeTypes, run, storeCredential, type Json } from './engine';

const APP = 'com.example.app';
let store: StoreConfig;
let dispose: () => Promise<void>;
let direct: TokenStore;

beforeAll(() => {
	packageNodeTypes();
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

/** Register Push Token of a version, its fields mapped from the item as a user maps them. */
const register = (typeVersion: number, additionalFields: Json = {}) => ({
	...node.register('Register', { appId: APP, platform: 'android', token: '={{ $json.token }}', userId: '={{ $json.userId ?? "" }}', additionalFields }),
	typeVersion,
});
const where = { timeZone: '={{ $json.tz }}', language: '={{ $json.lang }}' };

/** Whether n8n's editor shows a field of a node (Register Push Token: an additional field) in a version. */
function shown(type: string, typeVersion: number, name: string, values: Json = {}): boolean {
	const { workflow } = loadEngine();
	const description = (packageNodeTypes().get(`${PACKAGE}.${type}`) as INodeType).description;
	const fields = type === 'registerPushToken' ? (description.properties.find((p) => p.name === 'additionalFields')!.options as INodeProperties[]) : description.properties;
	return workflow.NodeHelpers.displayParameter(values as INodeParameters, fields.find((o) => o.name === name)!, { typeVersion }, description);
}

describe('Register Push Token: Time Zone and Language', () => {
	it('version 2 stores them from expressions, canonical; an empty one keeps what the device had', async () => {
		const items = [
			{ token: tokens.fcm(1), tz: 'europe/paris', lang: 'fr-ca' },
			{ token: tokens.fcm(1), tz: '', lang: '' },
		];
		const r = (await run(line(node.manual(), node.items('Items', items), register(2, where)), { store })).assertSuccess();
		expect(r.json('Register').map((j) => [j.action, (j.device as Json).timeZone, (j.device as Json).language])).toEqual([
			['registered', 'Europe/Paris', 'fr-CA'],
			['refreshed', 'Europe/Paris', 'fr-CA'],
		]);
	});

	it('version 2: a bad one is an error naming the item and the field', async () => {
		const items = [{ token: tokens.fcm(1), tz: 'Mars/Olympus', lang: 'fr' }];
		const r = (await run(line(node.manual(), node.items('Items', items), { ...register(2, where), continueOnFail: true }), { store })).assertSuccess();
		expect(r.json('Register')).toEqual([{ error: 'Item 1: field "timeZone": expected timeZone as an IANA time zone name such as Europe/Paris, got "Mars/Olympus"' }]);
		expect(await direct.getDevice(APP, tokens.fcm(1))).toBeNull();
	});

	it('the fields show from version 2 on; version 1 runs as it did', async () => {
		expect(['timeZone', 'language', 'pushEnabled'].map((name) => [name, shown('registerPushToken', 1, name), shown('registerPushToken', 2, name)])).toEqual([
			['timeZone', false, true],
			['language', false, true],
			['pushEnabled', true, true],
		]);

		const r = (await run(line(node.manual(), node.items('Items', [{ token: tokens.fcm(2) }]), register(1)), { store })).assertSuccess();
		expect(r.json('Register')[0]).toMatchObject({ action: 'registered', device: { token: tokens.fcm(2), timeZone: null, language: null } });
	});
});

describe('Import Push Tokens from items: Time Zone and Language', () => {
	const importer = (typeVersion: number) => ({
		...node.importTokens('Import', { mode: 'anonymous', source: 'items', appId: APP, platform: 'android', token: '={{ $json.token }}', timeZone: '={{ $json.tz }}', language: '={{ $json.lang }}' }),
		typeVersion,
	});

	it('version 1.2 maps them per item; a bad one is an invalid row naming the field', async () => {
		const items = [
			{ token: tokens.fcm(1), tz: 'asia/tokyo', lang: 'ja' },
			{ token: tokens.fcm(2), tz: '', lang: '' },
			{ token: tokens.fcm(3), tz: 'Mars/Olympus', lang: '' },
		];
		const r = (await run(line(node.manual(), node.items('Items', items), importer(1.2)), { store })).assertSuccess();
		expect(r.json('Import')[0]).toMatchObject({ imported: 2, invalid: 1, invalidRows: [{ row: 3, issues: [{ field: 'timeZone' }] }] });
		expect(await direct.getDevice(APP, tokens.fcm(1))).toMatchObject({ timeZone: 'Asia/Tokyo', language: 'ja' });
		expect(await direct.getDevice(APP, tokens.fcm(2))).toMatchObject({ timeZone: null, language: null });
	});

	it('the fields show from version 1.2 on, for items', () => {
		expect([1, 1.1, 1.2].map((v) => shown('importPushTokens', v, 'timeZone', { source: 'items' }))).toEqual([false, false, true]);
		expect(shown('importPushTokens', 1.2, 'language', { source: 'file' })).toBe(false);
	});
});

describe('Push Token Store credential: Max Devices per User', () => {
	it('a login past the cap detaches the least recently active device; absent in a saved credential, no cap', async () => {
		const items = [1, 2, 3].map((n) => ({ token: tokens.fcm(n), userId: 'kim' }));
		const capped = { pushTokenStoreApi: { ...storeCredential(store), maxDevicesPerUser: 2 } };
		(await run(line(node.manual(), node.items('Items', items), register(2)), { credentials: capped })).assertSuccess();
		expect((await direct.getProfile({ userId: 'kim' }))!.push_tokens.map((d) => d.token)).toEqual([tokens.fcm(2), tokens.fcm(3)]);

		(await run(line(node.manual(), node.items('Items', [{ token: tokens.fcm(1), userId: 'kim' }]), register(2)), { store })).assertSuccess();
		expect((await direct.getProfile({ userId: 'kim' }))!.push_tokens).toHaveLength(3);
	});
});
