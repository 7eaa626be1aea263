/**
 * Push Reports in workflows run by n8n-core's engine (test/nodes/engine.ts), on a real SQLite
 * store: Record Open, Get Send Report (with its HTML page) and List Sends, as a user maps them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeAllStores, PushMessage, Sender, TokenStore, type StoreConfig } from '../../nodes/core';
import { freshConfig, tokens } from '../support/stores';
import { line, node, packageNodeTypes, run } from './engine';

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
	for (let i = 0; i < 4; i++) await direct.register({ appId: APP, platform: 'android', token: tokens.fcm(i), deviceId: `aid-${i}` });
	// A send through a transport that delivers all but the last device (dead).
	const sender = new Sender(direct, {
		fcm: { provider: 'fcm', send: async (devices) => devices.map((d) => (d.token === tokens.fcm(3) ? { outcome: 'invalid-token' as const, reason: 'gone', code: 'UNREGISTERED' } : { outcome: 'delivered' as const, reason: 'ok' })), close: async () => undefined },
	});
	await sender.sendAudience({ appId: APP, includeAnonymous: true }, PushMessage.parse({ title: 'Hello <b>"you"</b>', body: 'x' }), { sendId: 'promo-1', record: true });
});
afterEach(async () => {
	await direct.close();
	await closeAllStores();
	await dispose();
});

describe('Push Reports in workflows run by n8n-core', () => {
	it('Record Open: each item one open, counted once per device; an unknown send id or device is an item with the reason, a bad date an error naming the item and field', async () => {
		const opens = [
			{ sendId: 'promo-1', token: tokens.fcm(0) },
			{ sendId: 'promo-1', deviceId: 'aid-1', at: '2026-12-04T10:00:00Z' },
			{ sendId: 'promo-1', token: tokens.fcm(0) },
			{ sendId: 'other', token: tokens.fcm(0) },
			{ sendId: 'promo-1', token: tokens.fcm(2), at: 'not a date' },
		];
		const record = { ...node.reports('Open', { operation: 'recordOpen', appId: APP, sendId: '={{ $json.sendId }}', token: '={{ $json.token ?? "" }}', deviceId: '={{ $json.deviceId ?? "" }}', openedAt: '={{ $json.at ?? "" }}' }), continueOnFail: true };
		const r = (await run(line(node.manual(), node.items('Opens', opens), record), { store })).assertSuccess();
		expect(r.items('Open').map((i) => [i.json.counted ?? 'error', i.pairedItem])).toEqual([
			[true, { item: 0 }],
			[true, { item: 1 }],
			[false, { item: 2 }],
			[false, { item: 3 }],
			['error', { item: 4 }],
		]);
		expect(r.json('Open')[2].reason).toBe('already counted: an open counts once per device');
		expect(r.json('Open')[4].error).toBe('Item 5: field "openedAt": expected a date (ISO 8601, such as 2026-12-04T00:00:00Z), got "not a date"');
		expect((await direct.sendReport('promo-1'))!.opened).toBe(2);
	});

	it('Get Send Report: every figure, and the HTML page in a binary field (inline SVG, no script, values escaped)', async () => {
		await direct.recordOpen({ appId: APP, sendId: 'promo-1', token: tokens.fcm(1) });
		const get = node.reports('Get', { operation: 'getSendReport', sendId: '={{ $json.sendId }}', options: { htmlBinaryProperty: 'page' } });
		const r = (await run(line(node.manual(), node.items('Ids', [{ sendId: 'promo-1' }]), get), { store })).assertSuccess();
		const [item] = r.items('Get');
		expect(item.json).toMatchObject({ sendId: 'promo-1', title: 'Hello <b>"you"</b>', targeted: 4, sent: 3, failed: 1, removed: 1, opened: 1, openRate: 0.3333, failedByOutcome: { 'invalid-token': 1 }, failedByCode: { fcm: { UNREGISTERED: 1 } } });
		expect(item.binary?.page).toMatchObject({ mimeType: 'text/html', fileName: 'send-report-promo-1.html' });
		const html = Buffer.from(item.binary!.page.data, 'base64').toString();
		expect(html).toContain('<svg');
		expect(html).toContain('Hello &lt;b&gt;&quot;you&quot;&lt;/b&gt;');
		expect(html).not.toMatch(/<script|<b>|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
	});

	it('Get Send Report of an unknown send id: an error naming the item (Continue On Fail: an error item)', async () => {
		const get = (continueOnFail: boolean) => ({ ...node.reports('Get', { operation: 'getSendReport', sendId: 'nope' }), continueOnFail });
		const stopped = await run(line(node.manual(), get(false)), { store });
		expect(stopped.error?.message).toBe('Item 1: no report for send id "nope" (a report is kept for a send with a Send ID of its own)');
		const r = (await run(line(node.manual(), get(true)), { store })).assertSuccess();
		expect(r.json('Get')).toEqual([{ error: 'Item 1: no report for send id "nope" (a report is kept for a send with a Send ID of its own)' }]);
		const empty = await run(line(node.manual(), node.reports('Get', { operation: 'getSendReport', sendId: '={{ "" }}' })), { store });
		expect(empty.error?.message).toBe('Item 1: field "sendId": expected a send id, got an empty string');
	});

	it('List Sends between two dates, newest first, headline figures; a bad date names the field', async () => {
		const from = new Date(Date.now() - 3_600_000).toISOString();
		const list = node.reports('List', { operation: 'listSends', from, to: '={{ $now.plus({ minutes: 1 }) }}' });
		const r = (await run(line(node.manual(), list), { store })).assertSuccess();
		expect(r.json('List')).toEqual([expect.objectContaining({ sendId: 'promo-1', targeted: 4, sent: 3, failed: 1, opened: 0, openRate: 0 })]);
		const none = (await run(line(node.manual(), node.reports('List', { operation: 'listSends', to: from })), { store })).assertSuccess();
		expect(none.json('List')).toEqual([]);
		const bad = await run(line(node.manual(), node.reports('List', { operation: 'listSends', from: 'someday' })), { store });
		expect(bad.error?.message).toBe('Item 1: field "from": expected a date (ISO 8601, such as 2026-12-04T00:00:00Z), got "someday"');
	});

	it('examples/daily-send-report.json: its List Sends finds yesterday\'s sends, its Get Send Report attaches the page the email sends', async () => {
		const example = JSON.parse(readFileSync(join(__dirname, '../../examples/daily-send-report.json'), 'utf8')) as { nodes: Array<{ name: string; type: string; parameters: Record<string, unknown> }> };
		const [list, get] = example.nodes.filter((n) => n.type.endsWith('.pushReports'));
		const yesterday = await TokenStore.open(store, { clock: () => Date.now() - 86_400_000 });
		const sender = new Sender(yesterday, { fcm: { provider: 'fcm', send: async (devices) => devices.map(() => ({ outcome: 'delivered' as const, reason: 'ok' })), close: async () => undefined } });
		await sender.sendAudience({ appId: APP, includeAnonymous: true }, PushMessage.parse({ title: 'Yesterday', body: 'x' }), { sendId: 'yesterday-1', record: true });
		await yesterday.close();
		const r = (await run(line(node.manual(), node.reports(list.name, list.parameters), node.reports(get.name, get.parameters)), { store })).assertSuccess();
		expect(r.json(list.name).map((j) => j.sendId)).toEqual(['yesterday-1']); // not today's promo-1
		const [item] = r.items(get.name);
		expect(item.json).toMatchObject({ sendId: 'yesterday-1', title: 'Yesterday', sent: 3 });
		expect(item.binary?.report).toMatchObject({ mimeType: 'text/html' });
	});
});
