// The overhead n8n adds: the same 1M-token CSV import and a 100k-device APNs campaign run as
// workflows in a real n8n (the e2e harness: n8n 2.41.1 with the packed package), against the
// same work done in-process through the core (the figure of bench/import-sqlite.js and
// bench/audience.js). The "ceiling" here is the in-process run; the ratio is in-process ÷ n8n.
//   node bench/through-n8n.js [import rows] [campaign devices]     (default 1,000,000 and 100,000)
require('../test/fakes/network-edge.cjs');
const { createReadStream, writeFileSync, mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { TokenStore, Sender, PushMessage, ApnsTransport, readCsv, reader, packageLayout } = require('../dist/nodes/core');
const { N8nHarness, line, node } = require('./.build/test/e2e/harness');
const { report, timed } = require('./report');
const { startFakeProcess, providerCredentials } = require('./fake-server');

const IMPORT_ROWS = Number(process.argv[2] ?? 1_000_000);
const DEVICES = Number(process.argv[3] ?? 100_000);
const APP = 'bench.app';
const fcmToken = (i) => `fcm-${i.toString(36)}:APA91b${'x'.repeat(140)}`;
const apnsToken = (i) => i.toString(16).padStart(64, '0');
const campaign = { title: 'Sale', body: 'Everything -20%' };

async function main() {
	const fake = await startFakeProcess();
	const dir = mkdtempSync(join(tmpdir(), 'push-tokens-bench-n8n-'));
	const n8n = await N8nHarness.create('sqlite', {
		NODE_OPTIONS: `--require ${join(__dirname, '../test/fakes/network-edge.cjs')}`,
		PUSH_TOKENS_FAKE_ROUTES: process.env.PUSH_TOKENS_FAKE_ROUTES,
	});
	try {
		await n8n.importCredentials(providerCredentials(fake.config));
		const csv = join(n8n.folder, 'tokens.csv');
		const lines = ['platform,token,device_id'];
		for (let i = 0; i < IMPORT_ROWS; i++) lines.push(`android,${fcmToken(i)},d-${i}`);
		writeFileSync(csv, lines.join('\n') + '\n');
		lines.length = 0;

		// Import: in-process (the core reading the same file) vs the workflow Read File → Import Push Tokens.
		const local = await TokenStore.open({ engine: 'sqlite', path: join(dir, 'in-process.sqlite') });
		let localSummary;
		const importInProcess = await timed(async () => {
			localSummary = await local.importTokens(readCsv(createReadStream(csv, { highWaterMark: 256 * 1024 })), { batchSize: 5000, read: reader(packageLayout, { appId: APP }) });
		});
		await local.close();
		let n8nSummary;
		const importInN8n = await timed(async () => {
			const out = await n8n.execute(
				line('import', node.manual(), node.readFile('Read CSV', csv), node.importTokens('Import', { mode: 'anonymous', source: 'file', format: 'csv', defaultAppId: APP, options: { batchSize: 5000 } })),
			);
			n8nSummary = out.of('Import')[0];
		});
		if (localSummary.imported !== IMPORT_ROWS || n8nSummary.imported !== IMPORT_ROWS) throw new Error(`imported ${localSummary.imported} in process, ${n8nSummary.imported} in n8n`);

		// Campaign: in-process Sender vs the workflow Manual → Send Push (audience), on the same kind of store.
		const devices = (function* () {
			for (let i = 0; i < DEVICES; i++) yield { appId: 'campaign.app', platform: 'ios', token: apnsToken(i) };
		})();
		await n8n.store.importTokens(devices, { batchSize: 5000 });
		const other = await TokenStore.open({ engine: 'sqlite', path: join(dir, 'campaign.sqlite') });
		await other.importTokens((function* () {
			for (let i = 0; i < DEVICES; i++) yield { appId: 'campaign.app', platform: 'ios', token: apnsToken(i) };
		})(), { batchSize: 5000 });
		const transport = new ApnsTransport(fake.config.apns);
		let sent;
		const sendInProcess = await timed(async () => {
			sent = await new Sender(other, { apns: transport }).sendAudience({ appId: 'campaign.app', pageSize: 1000 }, PushMessage.parse(campaign), { record: true });
		});
		await transport.close();
		await other.close();
		let n8nSent;
		const sendInN8n = await timed(async () => {
			const out = await n8n.execute(line('campaign', node.manual(), node.sendPush('Campaign', { target: 'audience', appId: 'campaign.app', ...campaign })));
			n8nSent = out.of('Campaign')[0];
		});
		if (sent.delivered !== DEVICES || n8nSent.delivered !== DEVICES) throw new Error(`delivered ${sent.delivered} in process, ${n8nSent.delivered} in n8n`);

		report('through-n8n', [
			{ what: `import ${IMPORT_ROWS.toLocaleString('en')} tokens from a CSV file: n8n workflow vs in-process`, ours: importInN8n, ceiling: importInProcess, target: null },
			{ what: `campaign to ${DEVICES.toLocaleString('en')} APNs devices: n8n workflow vs in-process`, ours: sendInN8n, ceiling: sendInProcess, target: null },
		]);
		console.log('  (each n8n figure includes the `n8n execute` start, about 5 s)');
	} finally {
		await n8n.dispose();
		fake.stop();
		rmSync(dir, { recursive: true, force: true });
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
