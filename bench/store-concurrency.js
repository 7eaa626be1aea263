// Register + identify pairs per second with 1, 8, 20 and 32 concurrent callers on distinct
// devices (no real conflicts) of a store already holding N devices, on both engines: p50/p99
// per pair, and the transactions retried. The ratio is the speedup over 1 caller in the same
// run (its time for the same number of pairs ÷ ours): more callers should mean more pairs/s.
//   node bench/store-concurrency.js [N devices] [pairs per level] [sqlite|postgres ...]   (after tsc -p bench/tsconfig.json)
// PostgreSQL: PUSH_TOKENS_PG_URL (an admin URL) or postgres://postgres@127.0.0.1:5432/postgres;
// a fresh database is made and dropped. The pool is the store's default (10 connections).
const { TokenStore } = require('../dist/nodes/core');
const { freshConfig } = require('./.build/test/support/stores');
const { percentile, report } = require('./report');

const N = Number(process.argv[2] ?? 1_000_000);
const PAIRS = Number(process.argv[3] ?? 2_000);
const ENGINES = process.argv.slice(4).length ? process.argv.slice(4) : ['postgres', 'sqlite'];
const LEVELS = [1, 8, 20, 32];
const APP = 'bench.app';
const token = (name) => `fcm-${name}:APA91b${'x'.repeat(140)}`;

/** `callers` loops sharing PAIRS pairs: register a new token, then identify it to a new user. */
async function level(store, callers) {
	const latencies = [];
	let next = 0;
	const retriesBefore = store.engine.retries();
	const start = process.hrtime.bigint();
	await Promise.all(
		Array.from({ length: callers }, async () => {
			while (next < PAIRS) {
				const k = `${callers}-${next++}`;
				const t0 = process.hrtime.bigint();
				await store.register({ appId: APP, platform: 'android', token: token(k), deviceId: `dev-${k}` });
				await store.identify({ appId: APP, token: token(k), userId: `user-${k}` });
				latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
			}
		}),
	);
	const ms = Number(process.hrtime.bigint() - start) / 1e6;
	latencies.sort((a, b) => a - b);
	return { callers, ms, pairsPerSecond: Math.round(PAIRS / (ms / 1000)), p50Ms: Number(percentile(latencies, 50).toFixed(2)), p99Ms: Number(percentile(latencies, 99).toFixed(2)), retries: store.engine.retries() - retriesBefore };
}

async function main() {
	process.env.PUSH_TOKENS_PG_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';
	for (const engine of ENGINES) {
		const { config, dispose } = await freshConfig(engine);
		try {
			const store = await TokenStore.open(config);
			const seeded = Date.now();
			await store.importTokens(
				(function* () {
					for (let i = 0; i < N; i++) yield { appId: APP, platform: 'android', token: token(`seed-${i}`), deviceId: `seed-${i}` };
				})(),
				{ batchSize: 5000 },
			);
			console.log(`[${engine}] ${N.toLocaleString('en')} devices seeded in ${((Date.now() - seeded) / 1000).toFixed(1)} s`);
			const results = [];
			for (const callers of LEVELS) {
				const r = await level(store, callers);
				results.push(r);
				console.log(`[${engine}] ${callers} callers: ${r.pairsPerSecond} pairs/s; p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms; ${r.retries} retries`);
			}
			await store.close();
			const one = results[0];
			report(
				'store-concurrency',
				results.slice(1).map((r) => ({
					what: `[${engine}] ${PAIRS.toLocaleString('en')} register+identify pairs, ${r.callers} callers vs 1, on ${N.toLocaleString('en')} devices`,
					ours: r.ms,
					ceiling: one.ms,
					target: engine === 'postgres' && r.callers === 20 ? 3 : null,
					extra: { engine, callers: r.callers, pairsPerSecond: r.pairsPerSecond, onePairsPerSecond: one.pairsPerSecond, p50Ms: r.p50Ms, p99Ms: r.p99Ms, retries: r.retries, oneP99Ms: one.p99Ms },
				})),
			);
		} finally {
			await dispose();
		}
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
