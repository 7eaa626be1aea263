// Register and identify calls per second against a store already holding N devices, with
// p50/p99 latency per call, vs the raw ceiling: a better-sqlite3 upsert loop on the same file
// (one prepared INSERT … ON CONFLICT per call, a transaction each, nothing else).
//   node bench/register-identify.js [N devices] [calls]
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { randomUUID } = require('node:crypto');
const Database = require('better-sqlite3');
const { TokenStore } = require('../dist/nodes/core');
const { percentile, report, timed } = require('./report');

const N = Number(process.argv[2] ?? 1_000_000);
const CALLS = Number(process.argv[3] ?? 20_000);
const APP = 'bench.app';
const token = (i) => `fcm-${i.toString(36)}:APA91b${'x'.repeat(140)}`;


async function main() {
	const dir = mkdtempSync(join(tmpdir(), 'push-tokens-bench-'));
	try {
		const path = join(dir, 'store.sqlite');
		const store = await TokenStore.open({ engine: 'sqlite', path });
		await store.importTokens((function* () {
			for (let i = 0; i < N; i++) yield { appId: APP, platform: 'android', token: token(i), deviceId: `d-${i}` };
		})(), { batchSize: 5000 });

		const latencies = [];
		const ours = await timed(async () => {
			for (let k = 0; k < CALLS; k++) {
				const i = (k * 7919) % N; // spread over the whole store
				const start = process.hrtime.bigint();
				if (k % 2 === 0) await store.register({ appId: APP, platform: 'android', token: token(i), deviceId: `d-${i}` });
				else await store.identify({ appId: APP, token: token(i), userId: `user-${k % 5000}` });
				latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
			}
		});
		await store.close();

		const raw = new Database(path);
		raw.pragma('journal_mode = WAL');
		raw.pragma('synchronous = NORMAL');
		const upsert = raw.prepare(
			"INSERT INTO devices (id, app_id, token, device_id, platform, provider, profile_id, foreground, provisional, last_status, consecutive_bounces, registered_at, last_seen_at, last_active_at) VALUES (?, ?, ?, ?, 'android', 'fcm', ?, 1, 0, 'unused', 0, ?, ?, ?) ON CONFLICT (app_id, token) DO UPDATE SET last_seen_at = excluded.last_seen_at, last_active_at = excluded.last_active_at",
		);
		const call = raw.transaction((i, now) => upsert.run(randomUUID(), APP, token(i), `d-${i}`, 'x', now, now, now));
		const ceiling = await timed(async () => {
			for (let k = 0; k < CALLS; k++) call((k * 7919) % N, Date.now());
		});
		raw.close();

		latencies.sort((a, b) => a - b);
		report('register-identify', [
			{
				what: `${CALLS.toLocaleString('en')} register/identify calls on ${N.toLocaleString('en')} devices`,
				ours,
				ceiling,
				target: null,
				extra: { opsPerSecond: Math.round(CALLS / (ours / 1000)), ceilingOpsPerSecond: Math.round(CALLS / (ceiling / 1000)), p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) },
			},
		]);
		console.log(`  ${Math.round(CALLS / (ours / 1000))} calls/s (ceiling ${Math.round(CALLS / (ceiling / 1000))}/s); p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms`);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
