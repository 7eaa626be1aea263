/**
 * The nodes inside a real n8n 2.x, installed from the packed tarball: each scenario runs
 * workflows with the n8n CLI and asserts on the run's output AND on the store's contents.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectPreset, readCsv, readJson, reader, type TokenStore } from '../../nodes/core';
import { fixtureNames, readFixture } from '../support/fixtures';
import { openTestStore, tokens, type EngineName } from '../support/stores';
import { example, line, N8nHarness, node, type Json, waitFor } from './harness';

const APP = 'com.example.app';
const apns = tokens.apns(1);

/** register → identify → identify another user on the same device → clear identify. */
async function loginLogoutScenario(n8n: N8nHarness) {
	const out = await n8n.execute(
		line(
			'login and logout',
			node.manual(),
			node.register('Register', { appId: APP, platform: 'ios', token: apns, deviceId: 'phone-1' }),
			node.identity('Charlie logs in', { operation: 'identify', appId: APP, token: apns, userId: 'charlie' }),
			node.identity('Kim logs in', { operation: 'identify', appId: APP, deviceId: 'phone-1', userId: 'kim' }),
			node.identity('Kim logs out', { operation: 'clearIdentify', appId: APP, token: apns, mode: 'anonymous' }),
			node.identity('Profile of Kim', { operation: 'getProfile', userId: 'kim' }),
		),
	);
	expect(out.of('Register')[0]).toMatchObject({ action: 'registered', device: { token: apns, provider: 'apns', deviceId: 'phone-1' } });
	expect(out.of('Charlie logs in')[0]).toMatchObject({ action: 'moved', userId: 'charlie', fromUserId: null });
	expect(out.of('Kim logs in')[0]).toMatchObject({ action: 'moved', userId: 'kim', fromUserId: 'charlie' });
	expect(out.of('Kim logs out')[0]).toMatchObject({ action: 'anonymized', fromUserId: 'kim' });
	expect(out.of('Profile of Kim')[0]).toMatchObject({ found: true, userId: 'kim', push_tokens: [] });

	const log = await n8n.store.changelog({ appId: APP, token: apns });
	expect(log.map((e) => [e.type, e.fromUserId, e.toUserId])).toEqual([
		['registered', null, null],
		['moved', null, 'charlie'],
		['moved', 'charlie', 'kim'],
		['cleared', 'kim', null],
	]);
	expect((await n8n.store.getProfile({ userId: 'charlie' }))!.push_tokens).toEqual([]);
}

/** Rows of the store's tables. */
async function tableRows(store: TokenStore) {
	const counts: Record<string, number> = {};
	for (const table of ['devices', 'profiles', 'token_events', 'dead_tokens'] as const) {
		counts[table] = Number((await store.engine.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
	}
	return counts;
}

/**
 * Every provider's export fixture (test/fixtures/import) read by Detect From Header in one
 * workflow: Read Files (one item per file) → Import Push Tokens, a dry run first, then the import.
 * Each summary must be the one the core gives for the same bytes on a fresh store of the engine.
 */
async function presetScenario(n8n: N8nHarness, engine: EngineName) {
	const dir = join(n8n.folder, 'exports');
	mkdirSync(dir, { recursive: true });
	const fixtures = fixtureNames().map(readFixture);
	for (const f of fixtures) writeFileSync(join(dir, f.name), f.body);
	const importAll = (dryRun: boolean) =>
		line(
			dryRun ? 'dry run of every export' : 'import every export',
			node.manual(),
			node.readFile('Read Exports', join(dir, '*')),
			node.importTokens('Import', {
				mode: 'withUsers',
				source: 'file',
				preset: 'detect',
				format: "={{ $binary.data.fileExtension === 'csv' ? 'csv' : 'json' }}",
				defaultAppId: APP,
				options: { dryRun },
			}),
		);

	const expected = new Map<string, Json>();
	const fresh = await openTestStore(engine);
	try {
		for (const f of fixtures) {
			const { preset, records } = await detectPreset((f.format === 'csv' ? readCsv : readJson)([f.body]));
			expected.set(f.name, { ...(await fresh.store.importTokens(records, { read: reader(preset, { appId: APP }), source: `${preset.name} (detected from the header)` })) });
		}
	} finally {
		await fresh.close();
	}
	const byFile = async (dryRun: boolean) => {
		const out = await n8n.execute(importAll(dryRun));
		const files = out.of('Read Exports').map((item) => String(item.fileName));
		return new Map(out.of('Import').map((summary, i) => [files[i], summary]));
	};

	const before = await tableRows(n8n.store);
	const dry = await byFile(true);
	expect(await tableRows(n8n.store)).toEqual(before);
	const done = await byFile(false);
	expect([...done.keys()].sort()).toEqual(fixtures.map((f) => f.name));
	for (const f of fixtures) {
		expect({ file: f.name, ...done.get(f.name) }).toEqual({ file: f.name, ...expected.get(f.name) });
		expect({ file: f.name, ...dry.get(f.name) }).toEqual({ file: f.name, ...expected.get(f.name), dryRun: true });
		expect(done.get(f.name)!.imported).toBeGreaterThan(0);
	}
	expect((await tableRows(n8n.store)).devices - before.devices).toBe([...done.values()].reduce((sum, s) => sum + (s.imported as number), 0));
}

describe('[sqlite] the nodes in a real n8n', () => {
	let n8n: N8nHarness;
	beforeAll(async () => {
		n8n = await N8nHarness.create('sqlite');
	}, 15 * 60_000);
	afterAll(() => n8n?.dispose());

	it('register → identify → identify another user on the same device → clear identify', () => loginLogoutScenario(n8n), 120_000);

	it('a bad item fails with its index and field; with continueOnFail the rest goes on', async () => {
		const out = await n8n.execute(
			line(
				'bad input',
				node.manual(),
				node.items('Items', [{ token: tokens.fcm(50) }, { token: 'has a space' }, { token: tokens.fcm(51) }]),
				{ ...node.register('Register', { appId: APP, platform: 'android', token: '={{ $json.token }}' }), continueOnFail: true },
			),
		);
		const results = out.of('Register');
		expect(results.map((r) => r.action ?? 'error')).toEqual(['registered', 'error', 'registered']);
		expect(results[1].error).toBe('Item 2: field "token": expected an FCM registration token (visible ASCII characters, no spaces), got "has a space"');
		expect(await n8n.store.getDevice(APP, 'has a space')).toBeNull();
	}, 120_000);

	it('imports 10k tokens from a CSV file, re-imports them all skipped, and identify merges one', async () => {
		const token = (i: number) => tokens.fcm(100_000 + i);
		const rows = Array.from({ length: 10_000 }, (_, i) => `android,${token(i)},dev-${i}`);
		rows.splice(100, 0, 'android,has space,dev-x', 'mars,tok,dev-y', 'android,"two, fields"');
		const csv = join(n8n.folder, 'tokens.csv');
		writeFileSync(csv, `platform,token,device_id\n${rows.join('\n')}\n`);
		const importFile = (name: string) =>
			line(
				name,
				node.manual(),
				node.readFile('Read CSV', csv),
				node.importTokens('Import', { mode: 'anonymous', source: 'file', format: 'csv', defaultAppId: APP, options: { batchSize: 2000 } }),
			);

		const first = (await n8n.execute(importFile('import'))).of('Import')[0];
		expect(first).toMatchObject({ rows: 10_003, imported: 10_000, skippedExisting: 0, skippedDead: 0, invalid: 3, dryRun: false });
		expect(first.invalidRows).toEqual([
			{ row: 101, issues: [{ field: 'token', message: expect.stringContaining('FCM registration token') }] },
			{ row: 102, issues: [{ field: 'platform', message: expect.stringContaining('ios, android, web') }] },
			{ row: 103, issues: [{ field: '', message: 'line 104: expected 3 fields as in the header, got 2' }] },
		]);
		const imported = await n8n.store.getDevice(APP, token(7));
		expect(await n8n.store.getProfile({ profileId: imported!.profileId })).toMatchObject({ kind: 'imported' });

		const again = (await n8n.execute(importFile('re-import'))).of('Import')[0];
		expect(again).toMatchObject({ imported: 0, skippedExisting: 10_000 });

		const identify = await n8n.execute(
			line('identify an imported token', node.manual(), node.identity('Identify', { operation: 'identify', appId: APP, token: token(7), userId: 'migrated-user' })),
		);
		expect(identify.of('Identify')[0]).toMatchObject({ action: 'moved', userId: 'migrated-user' });
		expect(await n8n.store.getProfile({ profileId: imported!.profileId })).toBeNull();
	}, 300_000);

	it('every provider export, detected from its header: a dry run writes nothing, then the import does what it said', () => presetScenario(n8n, 'sqlite'), 300_000);

	it('the CSV import example runs as shipped', async () => {
		writeFileSync(join(n8n.folder, 'tokens.csv'), readFileSync(join(__dirname, '../../examples/tokens.sample.csv')));
		const out = await n8n.execute(example('import-tokens-csv', n8n.folder));
		expect(out.of('Import Push Tokens')[0]).toMatchObject({ rows: 20, imported: 20, invalid: 0 });
	}, 120_000);

	it('feedback: unregistered removes and tombstones, two bounces suppress, retry is routed, identify un-suppresses', async () => {
		const [a, b, c] = [tokens.fcm(900), tokens.apns(901), tokens.fcm(902)];
		const out = await n8n.execute(
			line(
				'feedback',
				node.manual(),
				node.items('Tokens', [
					{ platform: 'android', token: a },
					{ platform: 'ios', token: b },
					{ platform: 'android', token: c },
				]),
				node.register('Register', { appId: APP, platform: '={{ $json.platform }}', token: '={{ $json.token }}', additionalFields: { pushEnabled: true } }),
				node.items('Answers', [
					{ appId: APP, token: a, provider: 'fcm', errorCode: 'messaging/registration-token-not-registered' },
					{ appId: APP, token: c, event: 'bounced' },
					{ appId: APP, token: c, event: 'bounced' },
					{ appId: APP, token: b, provider: 'apns', statusCode: 503, reason: 'ServiceUnavailable', retryAfterSeconds: 30 },
					{ appId: APP, token: b, provider: 'apns', reason: 'Unregistered', test: true },
				]),
				node.feedback('Feedback'),
			),
		);
		expect(out.of('Feedback', 0).map((r) => [r.token, r.action])).toEqual([[a, 'removed']]);
		expect(out.of('Feedback', 1).map((r) => [r.token, r.action])).toEqual([[c, 'suppressed']]);
		expect(out.of('Feedback', 2)).toEqual([expect.objectContaining({ token: b, action: 'retry', attempts: 0, retryAfterSeconds: expect.any(Number) })]);
		expect(out.of('Feedback', 2)[0].retryAfterSeconds).toBeGreaterThanOrEqual(30);
		expect(out.of('Feedback', 3).map((r) => [r.token, r.action])).toEqual([
			[c, 'bounced'],
			[b, 'unchanged'],
		]);
		expect(await n8n.store.getDevice(APP, b)).toMatchObject({ lastStatus: 'unused' }); // the test send changed nothing

		const after = await n8n.execute(
			line(
				'after feedback',
				node.manual(),
				node.identity('Identify', { operation: 'identify', appId: APP, token: c, userId: 'lee' }),
				node.register('Register dead', { appId: APP, platform: 'android', token: a }),
			),
		);
		expect(after.of('Identify')[0]).toMatchObject({ statusReset: true });
		expect(await n8n.store.getDevice(APP, c)).toMatchObject({ lastStatus: 'unused' });
		expect(after.of('Register dead')[0]).toMatchObject({ action: 'refused', reason: expect.stringContaining('registration-token-not-registered') });
	}, 180_000);

	it('started n8n: a webhook registers a token, and the clean-up trigger fires on its cron', async () => {
		const seeded = Array.from({ length: 5 }, (_, i) => ({ appId: 'seed.app', platform: 'android', token: tokens.fcm(5000 + i) }));
		await n8n.store.importTokens(seeded);
		for (const row of seeded.slice(0, 2)) await n8n.store.recordOutcome({ appId: 'seed.app', token: row.token, outcome: 'invalid-token', reason: 'UNREGISTERED' });
		const importedProfiles = async () =>
			Number((await n8n.store.engine.db.selectFrom('profiles').select(({ fn }) => fn.countAll<number>().as('n')).where('kind', '=', 'imported').executeTakeFirstOrThrow()).n);
		const before = await importedProfiles();

		// The example workflows a user imports, as they are (the clean-up on a 2-second cron).
		await n8n.importWorkflow(example('register-from-backend', n8n.folder), true);
		const cleanup = example('monthly-cleanup', n8n.folder) as { nodes: Array<{ parameters: Json }> };
		Object.assign(cleanup.nodes[0].parameters, { schedule: 'custom', cronExpression: '*/2 * * * * *' });
		await n8n.importWorkflow(cleanup as Json, true);
		const base = await n8n.start();

		const response = await n8n.postWhenLive(base, 'push/register', { appId: APP, platform: 'web', token: tokens.webpush(77), deviceId: 'browser-77' });
		expect(response.status).toBe(200);
		expect(JSON.parse(response.text)).toMatchObject({ action: 'registered', device: { provider: 'webpush', token: tokens.webpush(77).endpoint } });
		expect(await n8n.store.getDevice(APP, tokens.webpush(77).endpoint)).toMatchObject({ deviceId: 'browser-77' });

		await waitFor(async () => (await importedProfiles()) === before - 2, 60_000, () => `the clean-up never ran:\n${n8n.serverLog().slice(-3000)}`);
		await n8n.stop();
		expect(await n8n.store.getDevice('seed.app', tokens.fcm(5004))).not.toBeNull(); // profiles that still hold a token stay
	}, 300_000);
});

describe('[postgres] the nodes in a real n8n', () => {
	let n8n: N8nHarness;
	beforeAll(async () => {
		n8n = await N8nHarness.create('postgres');
	}, 15 * 60_000);
	afterAll(() => n8n?.dispose());

	it('register → identify → identify another user on the same device → clear identify', () => loginLogoutScenario(n8n), 120_000);

	it('every provider export, detected from its header: a dry run writes nothing, then the import does what it said', () => presetScenario(n8n, 'postgres'), 300_000);
});
