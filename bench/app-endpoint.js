// The app's front door (issue 18, section 3): the Push Token Endpoint answering app calls inside
// n8n's webhook handler, without an execution, against what n8n offers today, in the same run.
// In a real n8n 2.41.1 (regular mode, SQLite for n8n and the store), CALLS calls, 50 in flight,
// mixed like real traffic (80% unchanged app opens: a re-register of a registered token, with its
// user's HMAC proof when it has a user; 10% new devices; 5% logins with an HMAC proof; 5% logouts
// with the owner's proof), identity verification on (HMAC), rate limits off. The same calls go to:
//   (a) today's path: n8n's Webhook node → Register Push Token (examples/register-token-webhook.json;
//       logins and logouts to examples/login-logout-webhooks.json): one execution per call;
//   (b) Webhook → No Op: the cheapest workflow n8n runs per call;
//   (c) n8n's own Webhook node answering without an execution: its header auth refusing (403);
//   (d) the endpoint's core in-process (AppEndpoint.handle on a TokenStore): the physical ceiling.
// Each under n8n's default expression engine (vm), N8N_EXPRESSION_ENGINE=legacy, and vm with
// N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE=true (n8n restarted for each; see CONFIGS). Then the batch route
// (BATCH_CALLS calls of 500 registrations) against (a), and queue mode (main + 2 `n8n webhook`
// processes + 1 worker, PostgreSQL for n8n and the store, Redis): calls/s through the webhook
// processes, the executions and Bull jobs they started, beside Webhook → No Op there.
// executionsStarted: executions n8n stored for the endpoint's workflow (no event ticked: 0).
//   node bench/app-endpoint.js [calls] [comparison calls] [batch calls] [queue-mode calls]
//        default 2,000 endpoint calls, 500 for each comparison row, 100 batches, 1,000 in queue mode;
//        --background=N devices already in the store (100,000); --no-queue; --no-lazy (skip the third configuration); --configs=vm,legacy,vmLazyAcquire; --queue-only
//   node bench/app-endpoint.js --profile [calls] [--env=N8N_EXPRESSION_ENGINE=legacy]
//                                         a --cpu-prof of n8n answering the endpoint's calls, summarised
// (after npm run build && tsc -p bench/tsconfig.json; PostgreSQL: PUSH_TOKENS_PG_URL or 127.0.0.1:5432)
const { createHmac, randomBytes, randomUUID } = require('node:crypto');
const http = require('node:http');
const { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const Database = require('better-sqlite3');
const { Client } = require('pg');
const IORedis = require('ioredis');
const { TokenStore, AppEndpoint, EndpointAuth } = require('../dist/nodes/core');
const { N8nHarness, PACKAGE, example, line, n8nDatabaseEnv } = require('./.build/test/e2e/harness');
const { ensureRedis } = require('./.build/test/support/redis');
const { freshConfig } = require('./.build/test/support/stores');
const { percentile, report } = require('./report');

const flags = new Set(process.argv.slice(2).filter((a) => a.startsWith('--') && !a.includes('=')));
const option = (name, fallback) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const [argCalls, argCompare, argBatch, argQueue] = process.argv.slice(2).filter((a) => !a.startsWith('--')).map(Number);
const CALLS = argCalls || 2000;
/** Calls of each comparison row: n8n's own paths at 10–30 calls/s under vm would take minutes at 2,000. */
const COMPARE = Math.min(argCompare || 500, CALLS);
const BATCH_CALLS = argBatch || 100;
const QUEUE_CALLS = argQueue || 1000;
const BACKGROUND = option('background', 100_000);
const BATCH_SIZE = 500;
const LANES = 50;
const WARM_UP = Math.min(100, CALLS);
/** Endpoint calls made one at a time (latency without queueing). */
const SERIAL = Math.min(200, CALLS);
/** Registered devices the app opens re-register (half of them with a user). */
const POOL = 1000;
const APP = 'bench.endpoint';
const APP_KEY = 'bench-app-key-0123456789';
const HMAC_SECRET = 'bench-hmac-secret-0123456789abcdef';
const AUTH = { id: 'endpointAuth0001', name: 'Endpoint Auth' };
const HEADER_AUTH = { id: 'headerAuth000001', name: 'Header Auth' };
/**
 * n8n's expression engines; each restarts n8n. Under vm n8n 2.41.1 takes an isolate for every webhook
 * call whose node is not its own static Webhook node, and for every credential it reads, unless
 * N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE=true (then only for an expression evaluated): measured too.
 */
const CONFIGS = [
	{ key: 'vm', env: { N8N_EXPRESSION_ENGINE: 'vm' }, rows: ['endpoint', 'floor', 'noop', 'workflow'], batch: true },
	{ key: 'legacy', env: { N8N_EXPRESSION_ENGINE: 'legacy' }, rows: ['endpoint', 'floor', 'noop', 'workflow'], batch: true },
	{ key: 'vmLazyAcquire', env: { N8N_EXPRESSION_ENGINE: 'vm', N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE: 'true' }, rows: ['endpoint', 'floor', 'workflow'], batch: false },
];

const proof = (userId) => createHmac('sha256', HMAC_SECRET).update(userId).digest('hex');
const token = (key) => `fcm-${key}:APA91b${'x'.repeat(140)}`;

// ---------------------------------------------------------------------------------------------
// The traffic

/** The pool's devices, as registered (and re-registered on every app open). */
const poolDevice = (i) => ({ appId: APP, platform: 'android', token: token(`pool-${i}`), deviceId: `pool-device-${i}`, ...(i % 2 ? { userId: `pool-user-${i}` } : {}) });
/** What the app sends for a device: with its user's proof when it names a user. */
const withProof = (body) => (body.userId ? { ...body, userProof: proof(body.userId) } : body);

/**
 * One run's calls (its own new devices, login and logout targets, tagged), and the devices
 * those need in the store first. Of each 20 calls: 16 app opens, 2 new devices, a login, a logout.
 */
function traffic(tag, n) {
	const calls = [];
	const seed = [];
	for (let i = 0; i < n; i++) {
		const slot = i % 20;
		if (slot < 16) calls.push({ route: 'register', body: withProof(poolDevice((i * 7919) % POOL)) });
		else if (slot < 18) calls.push({ route: 'register', body: { appId: APP, platform: 'android', token: token(`${tag}-new-${i}`), deviceId: `${tag}-new-${i}` } });
		else if (slot === 18) {
			// a login on an anonymous device
			seed.push({ appId: APP, platform: 'android', token: token(`${tag}-in-${i}`), deviceId: `${tag}-in-${i}` });
			calls.push({ route: 'identify', body: withProof({ appId: APP, token: token(`${tag}-in-${i}`), userId: `${tag}-login-${i}` }) });
		} else {
			// a logout by the device's owner
			seed.push({ appId: APP, platform: 'android', token: token(`${tag}-out-${i}`), deviceId: `${tag}-out-${i}`, userId: `${tag}-owner-${i}` });
			calls.push({ route: 'logout', body: withProof({ appId: APP, token: token(`${tag}-out-${i}`), userId: `${tag}-owner-${i}` }) });
		}
	}
	return { calls: calls.map((c) => ({ ...c, json: JSON.stringify(c.body) })), seed };
}

/** BATCH_CALLS batches of 500 app opens: 4 in 5 re-registers of the pool, 1 in 5 a new device. */
function batches(tag) {
	let k = 0;
	return Array.from({ length: BATCH_CALLS }, (_, b) => {
		const registrations = Array.from({ length: BATCH_SIZE }, (_, j) =>
			j % 5 < 4 ? withProof(poolDevice((k++ * 7919) % POOL)) : { appId: APP, platform: 'android', token: token(`${tag}-b${b}-${j}`), deviceId: `${tag}-b${b}-${j}` },
		);
		const body = { registrations };
		return { route: 'batch', body, json: JSON.stringify(body) };
	});
}

async function prepareStore(store) {
	if (BACKGROUND > 0) {
		await store.importTokens(
			(function* () {
				for (let i = 0; i < BACKGROUND; i++) yield { appId: APP, platform: 'android', token: token(`bg-${i.toString(36)}`), deviceId: `bg-${i}` };
			})(),
			{ batchSize: 5000 },
		);
	}
	for (let i = 0; i < POOL; i++) await store.register(poolDevice(i));
}

async function seed(store, devices) {
	for (const d of devices) await store.register(d);
}

// ---------------------------------------------------------------------------------------------
// Calling

const agent = new http.Agent({ keepAlive: true, maxSockets: LANES });

/** One POST; resolves with the status and the answer's text. */
function post(url, json, headers = {}) {
	return new Promise((done, fail) => {
		const request = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json), ...headers } }, (response) => {
			let text = '';
			response.setEncoding('utf8');
			response.on('data', (d) => (text += d));
			response.on('end', () => done({ status: response.statusCode, text }));
			response.on('error', fail);
		});
		request.setTimeout(120_000, () => request.destroy(new Error(`POST ${url}: no answer in 120 s`)));
		request.on('error', fail);
		request.end(json);
	});
}

const actionOf = (text) => {
	try {
		const body = JSON.parse(text);
		return body.action ?? (Array.isArray(body.results) ? 'batch' : undefined);
	} catch {
		return undefined;
	}
};

/**
 * The calls, `lanes` at a time; each answer's status (and action) tallied. `send(call, i)`
 * resolves with { status, action }.
 */
async function burst(what, calls, send, lanes = LANES) {
	const latencies = new Array(calls.length);
	const tally = {};
	const samples = {};
	let next = 0;
	const started = process.hrtime.bigint();
	await Promise.all(
		Array.from({ length: Math.min(lanes, calls.length) }, async () => {
			for (let i = next++; i < calls.length; i = next++) {
				const t0 = process.hrtime.bigint();
				const { status, action, text } = await send(calls[i], i);
				latencies[i] = Number(process.hrtime.bigint() - t0) / 1e6;
				const key = `${calls[i].route} ${status}${action ? ` ${action}` : ''}`;
				tally[key] = (tally[key] ?? 0) + 1;
				samples[key] ??= text;
			}
		}),
	);
	const ms = Number(process.hrtime.bigint() - started) / 1e6;
	latencies.sort((a, b) => a - b);
	const r = { what, calls: calls.length, ms, perSecond: calls.length / (ms / 1000), p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), tally, samples };
	console.log(`  ${what}: ${calls.length} calls in ${Math.round(ms)} ms, ${Math.round(r.perSecond)}/s; p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms; ${Object.entries(tally).map(([k, v]) => `${k}: ${v}`).join(', ')}`);
	return r;
}

/** Every answer as the row expects it (the endpoint's and the workflows': 200 with the action of its kind). */
function expectAnswers(r, expected) {
	const wrong = Object.keys(r.tally).filter((k) => !expected.some((e) => e.test(k)));
	if (wrong.length > 0) throw new Error(`${r.what}: unexpected answers ${wrong.map((k) => `${k} (${r.tally[k]}; one said: ${String(r.samples[k]).slice(0, 300)})`).join(', ')}`);
}
const ROUTINE = [/^register 200 refreshed$/, /^register 200 registered$/, /^identify 200 moved$/, /^logout 200 anonymized$/];
const ANY_200 = [/^\w+ 200\b/];
const REFUSED = [/^\w+ 403$/];

/** Mean of two runs of one row (before and after the others): calls/s over both, p99 of both. */
function pair(a, b) {
	return { perSecond: (a.calls + b.calls) / ((a.ms + b.ms) / 1000), p99Ms: Math.max(a.p99Ms, b.p99Ms), p50Ms: (a.p50Ms + b.p50Ms) / 2, runs: [a, b] };
}

// ---------------------------------------------------------------------------------------------
// The workflows

function endpointWorkflow(webhookId) {
	return {
		...line('Push Token Endpoint', {
			name: 'Endpoint',
			type: `${PACKAGE}.pushTokenEndpoint`,
			typeVersion: 2,
			// (a batch of 500 of these app opens is about 170 KB)
			parameters: { appId: APP, verification: 'hmac', events: [], options: { perClient: 0, perDevice: 0, maxBodyKb: 512 } },
			store: true,
			credentials: { pushTokenEndpointAuthApi: AUTH },
			webhookId,
		}),
		active: true,
	};
}
const noOpWorkflow = () => ({
	...line('Webhook to No Op', { name: 'Hook', type: 'n8n-nodes-base.webhook', typeVersion: 2, parameters: { httpMethod: 'POST', path: 'noop', responseMode: 'lastNode', options: {} } }, { name: 'No Op', type: 'n8n-nodes-base.noOp' }),
	active: true,
});
/** A Webhook node with header auth: called with a wrong header, n8n answers 403 and runs nothing. */
function floorWorkflow() {
	const workflow = line(
		'Webhook header auth',
		{ name: 'Hook', type: 'n8n-nodes-base.webhook', typeVersion: 2, parameters: { httpMethod: 'POST', path: 'floor', authentication: 'headerAuth', responseMode: 'onReceived', options: {} } },
		{ name: 'No Op', type: 'n8n-nodes-base.noOp' },
	);
	workflow.nodes[0].credentials = { httpHeaderAuth: HEADER_AUTH };
	return { ...workflow, active: true };
}
const credentials = [
	{ ...AUTH, type: 'pushTokenEndpointAuthApi', data: { appKey: APP_KEY, hmacSecret: HMAC_SECRET } },
	{ ...HEADER_AUTH, type: 'httpHeaderAuth', data: { name: 'X-App-Key', value: APP_KEY } },
];

/** The row's sender: which URL a call goes to, with which headers, and what it answered. */
function sender(row, bases, endpointId) {
	const base = (i) => bases[i % bases.length];
	return async (call, i) => {
		let answer;
		if (row === 'endpoint') answer = await post(`${base(i)}/webhook/${endpointId}/${call.route}`, call.json, { 'x-app-key': APP_KEY });
		else if (row === 'workflow') answer = await post(`${base(i)}/webhook/push/${call.route}`, call.json);
		else if (row === 'noop') answer = await post(`${base(i)}/webhook/noop`, call.json);
		else answer = await post(`${base(i)}/webhook/floor`, call.json, { 'x-app-key': 'not-the-app-key' });
		return { status: answer.status, action: row === 'noop' || row === 'floor' ? undefined : actionOf(answer.text), text: answer.text };
	};
}

// ---------------------------------------------------------------------------------------------
// Regular mode

/** Executions n8n's SQLite database holds for a workflow. */
function sqliteExecutions(folder, workflowId) {
	const db = new Database(join(folder, '.n8n', 'database.sqlite'), { readonly: true, fileMustExist: true });
	try {
		return db.prepare('SELECT COUNT(*) AS n FROM execution_entity WHERE workflowId = ?').get(workflowId).n;
	} finally {
		db.close();
	}
}

async function inProcess() {
	const { config, dispose } = await freshConfig('sqlite');
	const store = await TokenStore.open(config);
	try {
		await prepareStore(store);
		const endpoint = new AppEndpoint(store, new EndpointAuth({ appKey: APP_KEY, verification: 'hmac', hmacSecret: HMAC_SECRET }), null, { appId: APP, logoutMode: 'anonymous', maxBodyBytes: 64 * 1024, maxBatch: 500 });
		const send = async (call) => {
			// as the node gives it: the body parsed from its text
			const answer = await endpoint.handle({ route: call.route, body: JSON.parse(call.json), bytes: call.json.length, appKey: APP_KEY, client: '127.0.0.1' });
			return { status: answer.status, action: answer.body.action, text: JSON.stringify(answer.body) };
		};
		const runs = [];
		for (const tag of ['ipw', 'ip1', 'ip2']) {
			const { calls, seed: devices } = traffic(tag, tag === 'ipw' ? WARM_UP : CALLS);
			await seed(store, devices);
			const r = await burst(`in-process, AppEndpoint.handle${tag === 'ipw' ? ' (warm-up)' : ''}`, calls, send);
			expectAnswers(r, ROUTINE);
			if (tag !== 'ipw') runs.push(r);
		}
		return pair(...runs);
	} finally {
		await store.close();
		await dispose();
	}
}

async function regularMode() {
	const n8n = await N8nHarness.create('sqlite');
	const endpointId = randomUUID();
	const endpoint = endpointWorkflow(endpointId);
	const noop = noOpWorkflow();
	const results = {};
	try {
		await n8n.importCredentials(credentials);
		for (const workflow of [endpoint, example('register-token-webhook', n8n.folder), example('login-logout-webhooks', n8n.folder), noop, floorWorkflow()]) await n8n.importWorkflow(workflow, true);
		await prepareStore(n8n.store);
		const only = process.argv.find((a) => a.startsWith('--configs='))?.slice(10).split(',');
		for (const config of CONFIGS.filter((c) => (only ? only.includes(c.key) : !flags.has('--no-lazy') || c.key !== 'vmLazyAcquire'))) {
			console.log(`regular mode, SQLite, ${Object.entries(config.env).map(([k, v]) => `${k}=${v}`).join(' ')}`);
			const base = await n8n.start(config.env);
			const before = { endpoint: sqliteExecutions(n8n.folder, endpoint.id), noop: sqliteExecutions(n8n.folder, noop.id) };
			await n8n.postWhenLive(base, `${endpointId}/register`, poolDevice(0), { 'x-app-key': APP_KEY });
			for (const path of ['push/register', 'push/identify', 'push/logout', 'noop', 'floor']) await n8n.postWhenLive(base, path, {});
			const run = async (row, tag, n, expected, lanes = LANES) => {
				const { calls, seed: devices } = traffic(`${config.key}-${tag}`, n);
				await seed(n8n.store, devices);
				const r = await burst(`${row} (${tag})`, calls, sender(row, [base], endpointId), lanes);
				expectAnswers(r, expected);
				return r;
			};
			const expected = { endpoint: ROUTINE, workflow: ROUTINE, noop: ANY_200, floor: REFUSED };
			for (const row of config.rows) await run(row, `warm-${row}`, row === 'endpoint' ? WARM_UP : WARM_UP / 2, row === 'workflow' ? ANY_200 : expected[row]);
			const result = {};
			for (const row of config.rows) result[row] = await run(row, `run-${row}`, row === 'endpoint' ? CALLS : COMPARE, expected[row]);
			// one call at a time: the time a call takes when it does not queue behind 49 others
			result.serial = await run('endpoint', 'serial', SERIAL, ROUTINE, 1);
			if (config.batch) {
				result.batch = await burst('endpoint batch', batches(`${config.key}-batch`), sender('endpoint', [base], endpointId));
				expectAnswers(result.batch, [/^batch 200 batch$/]);
			}
			// (an execution would start right after its answer: a moment for any to land)
			await new Promise((done) => setTimeout(done, 2000));
			result.executions = sqliteExecutions(n8n.folder, endpoint.id) - before.endpoint;
			result.noOpExecutions = sqliteExecutions(n8n.folder, noop.id) - before.noop;
			await n8n.stop();
			results[config.key] = result;
			console.log(`  executions stored: endpoint workflow ${result.executions}; No Op workflow ${result.noOpExecutions} (the count sees executions)`);
		}
	} finally {
		await n8n.dispose();
	}
	return results;
}

// ---------------------------------------------------------------------------------------------
// Queue mode

async function queueMode() {
	process.env.PUSH_TOKENS_PG_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';
	const redis = await ensureRedis();
	const n8nDb = await freshConfig('postgres');
	const prefix = `push-tokens-bench-endpoint-${process.pid}`;
	const n8n = await N8nHarness.create('postgres', {
		...n8nDatabaseEnv(n8nDb.config.connectionString),
		EXECUTIONS_MODE: 'queue',
		QUEUE_BULL_REDIS_HOST: redis.host,
		QUEUE_BULL_REDIS_PORT: String(redis.port),
		QUEUE_BULL_PREFIX: prefix,
		N8N_ENCRYPTION_KEY: randomBytes(24).toString('hex'),
	});
	const bull = new IORedis({ host: redis.host, port: redis.port, lazyConnect: true });
	const endpointId = randomUUID();
	const endpoint = endpointWorkflow(endpointId);
	const noop = noOpWorkflow();
	const executions = async (workflowId) => {
		const client = new Client({ connectionString: n8nDb.config.connectionString });
		await client.connect();
		try {
			return Number((await client.query('SELECT COUNT(*) AS n FROM execution_entity WHERE "workflowId" = $1', [workflowId])).rows[0].n);
		} finally {
			await client.end();
		}
	};
	/** Jobs Bull has handed out ids for (n8n's queue is named "jobs"). */
	const jobs = async () => Number((await bull.get(`${prefix}:jobs:id`)) ?? 0);
	try {
		await bull.connect();
		await n8n.importCredentials(credentials.slice(0, 1));
		for (const workflow of [endpoint, noop]) await n8n.importWorkflow(workflow, true);
		await prepareStore(n8n.store);
		const run = async (hooks, row, tag, n, expected) => {
			const { calls, seed: devices } = traffic(`queue-${tag}`, n);
			await seed(n8n.store, devices);
			const r = await burst(`queue mode, ${row} (${tag})`, calls, sender(row, hooks, endpointId));
			expectAnswers(r, expected);
			return r;
		};
		const result = {};
		for (const config of [{ key: 'vm', env: {} }, { key: 'lazyAcquire', env: { N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE: 'true' } }]) {
			if (config.key !== 'vm' && flags.has('--no-lazy')) continue;
			console.log(`queue mode: main + 2 webhook processes + 1 worker, PostgreSQL, Redis; ${Object.entries(config.env).map(([k, v]) => `${k}=${v}`).join(' ') || 'n8n defaults'}`);
			const hooks = (await Promise.all([n8n.start(config.env), n8n.startWebhook('webhook-1', config.env), n8n.startWebhook('webhook-2', config.env), n8n.startWorker('worker-1')])).slice(1, 3);
			for (const hook of hooks) await n8n.postWhenLive(hook, `${endpointId}/register`, poolDevice(0), { 'x-app-key': APP_KEY });
			await run(hooks, 'endpoint', `${config.key}-warm`, WARM_UP, ROUTINE);
			const before = { executions: await executions(endpoint.id), jobs: await jobs() };
			const r = { endpoint: await run(hooks, 'endpoint', `${config.key}-run`, QUEUE_CALLS, ROUTINE) };
			await new Promise((done) => setTimeout(done, 2000));
			r.executions = (await executions(endpoint.id)) - before.executions;
			r.jobs = (await jobs()) - before.jobs;
			if (config.key === 'vm') {
				// The same webhook processes running Webhook → No Op (each call a job for the one worker): fewer calls, it is slow.
				for (const hook of hooks) await n8n.postWhenLive(hook, 'noop', {});
				const noOpBefore = { executions: await executions(noop.id), jobs: await jobs() };
				r.noop = await run(hooks, 'noop', 'noop', Math.max(50, Math.round(QUEUE_CALLS / 10)), ANY_200);
				await new Promise((done) => setTimeout(done, 2000));
				r.noOpExecutions = (await executions(noop.id)) - noOpBefore.executions;
				r.noOpJobs = (await jobs()) - noOpBefore.jobs;
			}
			console.log(`  endpoint: ${r.executions} executions, ${r.jobs} Bull jobs${r.noop ? `; No Op (${r.noop.calls} calls): ${r.noOpExecutions} executions, ${r.noOpJobs} jobs` : ''}`);
			await n8n.stop();
			result[config.key] = r;
		}
		return result;
	} finally {
		bull.disconnect();
		await n8n.dispose();
		await n8nDb.dispose();
		await redis.dispose(prefix);
	}
}

// ---------------------------------------------------------------------------------------------
// Profile: where one call's time goes inside n8n

async function profile() {
	const dir = mkdtempSync(join(tmpdir(), 'push-tokens-endpoint-prof-'));
	const n8n = await N8nHarness.create('sqlite');
	const endpointId = randomUUID();
	let window;
	try {
		await n8n.importCredentials(credentials.slice(0, 1));
		await n8n.importWorkflow(endpointWorkflow(endpointId), true);
		await prepareStore(n8n.store);
		// --env=NAME=VALUE: more settings for n8n (N8N_EXPRESSION_ENGINE=legacy, …)
		const env = Object.fromEntries(process.argv.filter((a) => a.startsWith('--env=')).map((a) => a.slice(6).split(/=(.*)/s).slice(0, 2)));
		const base = await n8n.start({ ...env, NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir} --cpu-prof-interval=200` });
		await n8n.postWhenLive(base, `${endpointId}/register`, poolDevice(0), { 'x-app-key': APP_KEY });
		const send = sender('endpoint', [base], endpointId);
		const warm = traffic('prof-warm', CALLS);
		await seed(n8n.store, warm.seed);
		await burst('endpoint (warm-up)', warm.calls, send);
		const measured = traffic('prof', CALLS);
		await seed(n8n.store, measured.seed);
		await new Promise((done) => setTimeout(done, 1000));
		// V8's profile clock and process.hrtime are both CLOCK_MONOTONIC: the burst's window in the profile's µs.
		const start = Number(process.hrtime.bigint() / 1000n);
		const r = await burst('endpoint (profiled)', measured.calls, send);
		window = { start, end: Number(process.hrtime.bigint() / 1000n), calls: r.calls };
		await n8n.stop();
	} finally {
		await n8n.dispose();
	}
	const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(dir, f));
	const main = files.sort((a, b) => statSync(b).size - statSync(a).size)[0];
	summariseProfile(JSON.parse(readFileSync(main, 'utf8')), window);
	rmSync(dir, { recursive: true, force: true });
}

/** Where the samples inside the window went: by function (self), by the code that owns them, by phase. */
function summariseProfile(prof, window) {
	const byId = new Map(prof.nodes.map((n) => [n.id, n]));
	const parent = new Map();
	for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
	const N8N = new Set(['n8n', 'n8n-core', 'n8n-workflow']);
	const EXPRESS = new Set(['express', 'body-parser', 'raw-body', 'router', 'send', 'finalhandler', 'iconv-lite', 'qs', 'type-is', 'content-type', 'on-finished', 'compression', 'helmet', 'cookie-parser', 'xss']);
	const owner = (url) => {
		// the innermost package in the path (this package is installed under n8n's user folder)
		const m = url && url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/);
		if (!m) return null;
		const pkg = m[1];
		if (pkg === 'n8n-nodes-push-tokens') return 'this package: the node, the endpoint core, the store rules';
		if (['kysely', 'better-sqlite3'].includes(pkg)) return "this package's store driver (kysely, better-sqlite3)";
		if (pkg === 'zod') return url.includes('n8n-nodes-push-tokens') ? "this package's validation (zod)" : 'n8n: zod';
		if (pkg === '@n8n/expression-runtime' || pkg === 'isolated-vm') return 'n8n: expression isolate (isolated-vm bridge)';
		if (pkg === '@n8n/typeorm' || pkg === 'sqlite3' || pkg === '@n8n/db') return "n8n: its database (typeorm, sqlite3)";
		if (N8N.has(pkg) || pkg.startsWith('@n8n/')) return `n8n: ${pkg}`;
		if (EXPRESS.has(pkg)) return 'express and body parsing';
		return `other: ${pkg}`;
	};
	let t = prof.startTime;
	const self = new Map();
	const owners = new Map();
	const stacks = new Map();
	let total = 0;
	let idle = 0;
	for (let i = 0; i < prof.samples.length; i++) {
		t += prof.timeDeltas[i];
		if (t < window.start || t > window.end) continue;
		const dt = prof.timeDeltas[i + 1] ?? prof.timeDeltas[i];
		const leaf = byId.get(prof.samples[i]);
		const name = leaf.callFrame.functionName || '(anonymous)';
		if (name === '(idle)') {
			idle += dt;
			continue;
		}
		total += dt;
		const where = `${name} ${(leaf.callFrame.url || '').replace(/^.*node_modules\//, '').replace(/^file:\/\//, '')}:${leaf.callFrame.lineNumber + 1}`;
		self.set(where, (self.get(where) ?? 0) + dt);
		// the owner: the first frame up the stack that belongs to a package (node's own code and natives go to their caller)
		let id = leaf.id;
		let own = name === '(garbage collector)' ? 'garbage collector' : name === '(program)' ? '(program: V8 and native, no JS frame)' : null;
		const chain = [];
		while (id !== undefined) {
			const f = byId.get(id).callFrame;
			own ??= owner(f.url);
			chain.push(f.functionName);
			id = parent.get(id);
		}
		own ??= 'node internals (http, net, streams)';
		owners.set(own, (owners.get(own) ?? 0) + dt);
		const stack = chain.reverse().filter((f) => f && !f.startsWith('(')).slice(0, 6).join(' > ');
		stacks.set(stack, (stacks.get(stack) ?? 0) + dt);
	}
	const ms = (us) => (us / 1000).toFixed(0);
	const pct = (us) => `${((100 * us) / total).toFixed(1)}%`;
	const wall = window.end - window.start;
	console.log(`profile of n8n (main) over ${window.calls} endpoint calls: ${ms(wall)} ms wall, ${ms(total)} ms busy (${((100 * total) / wall).toFixed(0)}% of one core), ${ms(idle)} ms idle; ${(total / 1000 / window.calls).toFixed(3)} ms of CPU per call`);
	console.log('  by owner (the first package frame up the stack):');
	for (const [k, v] of [...owners].sort((a, b) => b[1] - a[1])) console.log(`    ${pct(v).padStart(6)}  ${(v / 1000 / window.calls).toFixed(3)} ms/call  ${k}`);
	console.log('  top self time:');
	for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`    ${pct(v).padStart(6)}  ${k}`);
	console.log('  top entry stacks (root-most 6 frames):');
	for (const [k, v] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`    ${pct(v).padStart(6)}  ${k}`);
}

// ---------------------------------------------------------------------------------------------

async function main() {
	if (flags.has('--profile')) return profile();
	const started = Date.now();
	console.log(`${CALLS} endpoint calls (${COMPARE} for each comparison row), ${LANES} in flight; batch ${BATCH_CALLS} × ${BATCH_SIZE}; queue mode ${QUEUE_CALLS}; a store of ${BACKGROUND.toLocaleString('en')} devices + ${POOL} registered`);
	if (flags.has('--queue-only')) return console.log(JSON.stringify(await queueMode(), (k, v) => (k === 'runs' ? undefined : v)));
	const ceiling = await inProcess();
	const regular = await regularMode();
	const queue = flags.has('--no-queue') ? null : await queueMode();

	const round = (x, d = 1) => (x === undefined ? undefined : Number(x.toFixed(d)));
	const figures = (r) => {
		const batchPerSecond = r.batch && (BATCH_CALLS * BATCH_SIZE) / (r.batch.ms / 1000);
		return {
			endpointPerSecond: Math.round(r.endpoint.perSecond),
			workflowPerSecond: round(r.workflow.perSecond),
			noOpPerSecond: round(r.noop?.perSecond),
			n8nFloorPerSecond: round(r.floor.perSecond),
			inProcessPerSecond: Math.round(ceiling.perSecond),
			ratio: round(r.endpoint.perSecond / r.workflow.perSecond),
			floorRatio: round(r.endpoint.perSecond / r.floor.perSecond, 2),
			noOpRatio: round(r.noop && r.endpoint.perSecond / r.noop.perSecond),
			ofInProcess: round(r.endpoint.perSecond / ceiling.perSecond, 3),
			batchRegistrationsPerSecond: batchPerSecond && Math.round(batchPerSecond),
			batchRatio: round(batchPerSecond && batchPerSecond / r.workflow.perSecond),
			p50Ms: round(r.endpoint.p50Ms),
			p99Ms: round(r.endpoint.p99Ms),
			serialP50Ms: round(r.serial.p50Ms),
			serialP99Ms: round(r.serial.p99Ms),
			workflowP99Ms: round(r.workflow.p99Ms),
			noOpP99Ms: round(r.noop?.p99Ms),
			floorP99Ms: round(r.floor.p99Ms),
			inProcessP99Ms: round(ceiling.p99Ms),
			executionsStarted: r.executions,
			noOpExecutionsSeen: r.noOpExecutions,
		};
	};
	const by = Object.fromEntries(Object.entries(regular).map(([k, r]) => [k, figures(r)]));
	const vm = by.vm ?? Object.values(by)[0];
	// report() compares times: the endpoint's time for the calls against the other row's time for as many (ratio = its calls/s ÷ the other's)
	const msFor = (n, perSecond) => (1000 * n) / perSecond;
	const rows = [];
	for (const [key, f] of Object.entries(by)) {
		const main = key === 'vm';
		rows.push(
			{ what: `${key}: endpoint vs Webhook → Register workflow, mixed calls, ${LANES} in flight`, ours: msFor(CALLS, f.endpointPerSecond), ceiling: msFor(CALLS, f.workflowPerSecond), target: main ? 10 : null, extra: f },
			{ what: `${key}: endpoint vs n8n's Webhook node answering 403 (no execution)`, ours: msFor(CALLS, f.endpointPerSecond), ceiling: msFor(CALLS, f.n8nFloorPerSecond), target: main ? 1.5 : null },
		);
		if (f.batchRatio) rows.push({ what: `${key}: batch, ${BATCH_CALLS} × ${BATCH_SIZE} registrations vs as many through the per-call workflow`, ours: msFor(BATCH_CALLS * BATCH_SIZE, f.batchRegistrationsPerSecond), ceiling: msFor(BATCH_CALLS * BATCH_SIZE, f.workflowPerSecond), target: main ? 100 : null });
	}
	rows.push({ what: 'vm: endpoint in n8n vs its core in-process (AppEndpoint.handle)', ours: msFor(CALLS, vm.endpointPerSecond), ceiling: msFor(CALLS, vm.inProcessPerSecond), target: null });
	report('app-endpoint', rows);
	const executionsStarted = Object.values(by).reduce((sum, f) => sum + f.executionsStarted, 0) + Object.values(queue ?? {}).reduce((sum, q) => sum + q.executions, 0);
	const verdict = (ok) => (ok ? 'met' : 'MISSED');
	console.log(
		`targets (vm): ratio ${vm.ratio} ≥ 10 ${verdict(vm.ratio >= 10)}; floorRatio ${vm.floorRatio} ≥ 1.5 ${verdict(vm.floorRatio >= 1.5)}; p99 ${vm.p99Ms} ms ≤ 100 ${verdict(vm.p99Ms <= 100)}; ` +
			`batchRatio ${vm.batchRatio} ≥ 100 ${verdict(vm.batchRatio >= 100)}; executionsStarted ${executionsStarted} = 0 ${verdict(executionsStarted === 0)}`,
	);
	const out = {
		calls: CALLS,
		compareCalls: COMPARE,
		inFlight: LANES,
		...vm,
		executionsStarted,
		...Object.fromEntries(Object.entries(by).filter(([k]) => k !== 'vm')),
		...(queue
			? {
					queue: {
						calls: QUEUE_CALLS,
						endpointPerSecond: Math.round(queue.vm.endpoint.perSecond),
						p50Ms: round(queue.vm.endpoint.p50Ms),
						p99Ms: round(queue.vm.endpoint.p99Ms),
						executionsStarted: queue.vm.executions,
						jobsStarted: queue.vm.jobs,
						noOpCalls: queue.vm.noop.calls,
						noOpPerSecond: round(queue.vm.noop.perSecond),
						noOpExecutions: queue.vm.noOpExecutions,
						noOpJobs: queue.vm.noOpJobs,
						noOpRatio: round(queue.vm.endpoint.perSecond / queue.vm.noop.perSecond),
						...(queue.lazyAcquire
							? {
									lazyAcquire: {
										endpointPerSecond: Math.round(queue.lazyAcquire.endpoint.perSecond),
										p50Ms: round(queue.lazyAcquire.endpoint.p50Ms),
										p99Ms: round(queue.lazyAcquire.endpoint.p99Ms),
										executionsStarted: queue.lazyAcquire.executions,
										jobsStarted: queue.lazyAcquire.jobs,
									},
								}
							: {}),
					},
				}
			: {}),
		minutes: round((Date.now() - started) / 60_000),
	};
	console.log(JSON.stringify(out));
}

main()
	.then(() => agent.destroy())
	.catch((error) => {
		console.error(error);
		process.exit(1);
	});
