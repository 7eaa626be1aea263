// A campaign to an audience of N APNs devices: wall time and peak RSS above the process's
// baseline, to show memory stays flat as the audience grows (the audience is streamed in pages).
// The ceiling is the bare apns2 loop over the same tokens. The fake APNs runs in its own process.
//   node bench/audience.js [N ...]      e.g. node bench/audience.js 100000 1000000
require('../test/fakes/network-edge.cjs');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { ApnsClient, Notification } = require('apns2');
const { TokenStore, Sender, PushMessage, ApnsTransport } = require('../dist/nodes/core');
const { report, timed } = require('./report');
const { startFakeProcess } = require('./fake-server');

const SIZES = process.argv.slice(2).map(Number);
if (SIZES.length === 0) SIZES.push(100_000, 1_000_000);
const token = (i) => i.toString(16).padStart(64, '0');

async function main() {
	const fake = await startFakeProcess();
	const { config } = fake;
	const dir = mkdtempSync(join(tmpdir(), 'push-tokens-bench-'));
	const rows = [];
	try {
		for (const n of SIZES) {
			const store = await TokenStore.open({ engine: 'sqlite', path: join(dir, `audience-${n}.sqlite`) });
			await store.importTokens((function* () {
				for (let i = 0; i < n; i++) yield { appId: 'bench.app', platform: 'ios', token: token(i) };
			})(), { batchSize: 5000 });
			global.gc?.();
			const baseline = process.memoryUsage().rss;
			let peak = baseline;
			const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
			const transport = new ApnsTransport(config.apns);
			let summary;
			const ours = await timed(async () => {
				summary = await new Sender(store, { apns: transport }).sendAudience({ appId: 'bench.app', pageSize: 1000 }, PushMessage.parse({ title: 'Sale', body: 'Everything -20%' }), { record: true });
			});
			clearInterval(sampler);
			await transport.close();
			await store.close();
			if (summary.delivered !== n) throw new Error(`delivered ${summary.delivered} of ${n}`);

			const client = new ApnsClient({ team: config.apns.teamId, keyId: config.apns.keyId, signingKey: config.apns.signingKey, defaultTopic: config.apns.bundleId });
			const ceiling = await timed(async () => {
				for (let i = 0; i < n; i += 500) {
					const batch = [];
					for (let k = i; k < Math.min(n, i + 500); k++) batch.push(new Notification(token(k), { alert: { title: 'Sale', body: 'Everything -20%' } }));
					await client.sendMany(batch);
				}
			});
			await client.close();
			rows.push({ what: `campaign to ${n.toLocaleString('en')} APNs devices`, ours, ceiling, target: null, extra: { peakRssAboveBaselineMB: Math.round((peak - baseline) / 1048576), messagesPerSecond: Math.round(n / (ours / 1000)) } });
		}
		report('audience', rows);
		for (const r of rows) console.log(`  ${r.what}: peak RSS ${r.extra.peakRssAboveBaselineMB} MB above baseline, ${r.extra.messagesPerSecond}/s`);
	} finally {
		fake.stop();
		rmSync(dir, { recursive: true, force: true });
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
