// n8n queue mode on the PostgreSQL store (issue 12): a main process taking the webhooks and 2
// workers running them through Redis, n8n's own database on PostgreSQL too. 1,000 webhook
// registrations (distinct devices), 50 in flight, against the ceiling n8n itself sets: the same
// setup running webhook → No Op, 1,000 calls, 50 in flight. Ratio: No Op time ÷ ours; target ≥ 0.5.
//   node bench/queue-mode.js [calls]      (after npm run build && tsc -p bench/tsconfig.json)
// PostgreSQL: PUSH_TOKENS_PG_URL or 127.0.0.1:5432; Redis: found or started (test/support/redis).
const { randomBytes } = require('node:crypto');
const { N8nHarness, example, line, n8nDatabaseEnv, waitFor } = require('./.build/test/e2e/harness');
const { ensureRedis } = require('./.build/test/support/redis');
const { freshConfig } = require('./.build/test/support/stores');
const { report } = require('./report');

const CALLS = Number(process.argv[2] ?? 1000);
const LANES = 50;
const APP = 'bench.queue';

async function main() {
	process.env.PUSH_TOKENS_PG_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';
	const redis = await ensureRedis();
	const n8nDb = await freshConfig('postgres');
	const prefix = `push-tokens-bench-${process.pid}`;
	const n8n = await N8nHarness.create('postgres', {
		...n8nDatabaseEnv(n8nDb.config.connectionString),
		EXECUTIONS_MODE: 'queue',
		QUEUE_BULL_REDIS_HOST: redis.host,
		QUEUE_BULL_REDIS_PORT: String(redis.port),
		QUEUE_BULL_PREFIX: prefix,
		N8N_ENCRYPTION_KEY: randomBytes(24).toString('hex'),
	});
	try {
		await n8n.importWorkflow(example('register-token-webhook', n8n.folder), true);
		await n8n.importWorkflow(
			{ ...line('Webhook to No Op', { name: 'Hook', type: 'n8n-nodes-base.webhook', typeVersion: 2, parameters: { httpMethod: 'POST', path: 'noop', responseMode: 'lastNode', options: {} } }, { name: 'No Op', type: 'n8n-nodes-base.noOp' }), active: true },
			true,
		);
		const [base] = await Promise.all([n8n.start(), n8n.startWorker('worker-1'), n8n.startWorker('worker-2')]);
		const post = async (path, body) => {
			const response = await fetch(`${base}/webhook/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(60_000) });
			const text = await response.text();
			if (response.status !== 200) throw new Error(`POST /webhook/${path}: ${response.status} ${text.slice(0, 300)}`);
			return text;
		};
		for (const path of ['push/register', 'noop']) {
			await waitFor(async () => (await fetch(`${base}/webhook/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status !== 404, 60_000, () => `${path} never became active`);
		}
		/** CALLS calls, LANES at a time; ms. */
		const burst = async (call, what) => {
			let next = 0;
			const started = Date.now();
			await Promise.all(Array.from({ length: LANES }, async () => {
				for (let i = next++; i < CALLS; i = next++) await call(i);
			}));
			const ms = Date.now() - started;
			console.log(`  ${what}: ${CALLS} calls in ${ms} ms`);
			return ms;
		};
		const token = (run, i) => `fcm-${run}-${i}:APA91b${'x'.repeat(140)}`;
		// A warm-up of each, then the measured bursts: No Op before and after ours (their mean is the ceiling).
		await burst((i) => post('noop', { i }), 'warm-up, No Op');
		await burst((i) => post('push/register', { appId: APP, platform: 'android', token: token('warm', i), deviceId: `warm-${i}` }), 'warm-up, Register');
		const noop1 = await burst((i) => post('noop', { i }), 'No Op');
		const ours = await burst((i) => post('push/register', { appId: APP, platform: 'android', token: token('run', i), deviceId: `run-${i}` }), 'Register');
		const noop2 = await burst((i) => post('noop', { i }), 'No Op again');
		const ceiling = (noop1 + noop2) / 2;
		const devices = await n8n.store.engine.db.selectFrom('devices').select(({ fn }) => fn.countAll().as('n')).where('app_id', '=', APP).executeTakeFirstOrThrow();
		if (Number(devices.n) !== 2 * CALLS) throw new Error(`expected ${2 * CALLS} devices, found ${devices.n}`);
		report('queue-mode', [
			{
				what: `queue mode (main + 2 workers), ${CALLS.toLocaleString('en')} webhook registrations, ${LANES} in flight, vs webhook → No Op`,
				ours,
				ceiling,
				target: 0.5,
				extra: { callsPerSecond: Math.round(CALLS / (ours / 1000)), ceilingCallsPerSecond: Math.round(CALLS / (ceiling / 1000)), noOpRuns: [noop1, noop2] },
			},
		]);
	} finally {
		await n8n.dispose();
		await n8nDb.dispose();
		await redis.dispose(prefix);
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
