/**
 * n8n in queue mode: a main process that receives the webhooks and 2 `n8n worker` processes that
 * run them, through Redis (Bull), with n8n's own database and the token store both on
 * PostgreSQL. A burst of 1,000 webhook calls (500 registrations, each followed by its login),
 * 50 at a time, must land exactly once each: devices, profiles and changelog rows are counted,
 * every execution succeeded, and both workers ran some.
 *
 * The Push Token Endpoint (issue 18) in the same n8n, called through main and an `n8n webhook`
 * process: app opens, routine re-opens and logouts are answered there, with no job; the workflow
 * runs on the workers once per ticked event (registered, loggedOut) and for nothing else.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import IORedis from 'ioredis';
import { Client } from 'pg';
import { example, line, node, N8nHarness, n8nDatabaseEnv, PACKAGE, waitFor } from '../e2e/harness';
import { ensureRedis, type Redis } from '../support/redis';
import { freshConfig, tokens } from '../support/stores';

const APP = 'com.example.queue';
const PAIRS = 500;
const LANES = 50;
const USERS = 100;

/** The endpoint's test: its own app, app key and HMAC secret; OPENS new devices, the first LOGOUTS of them with a user. */
const ENDPOINT_APP = 'com.example.queue.endpoint';
const EVENTS_APP = 'queue.events.log';
const APP_KEY = 'queue-app-key-0123456789';
const HMAC_SECRET = 'queue-hmac-secret-0123456789abcdef';
const AUTH = { id: 'queueEndpAuth001', name: 'Queue Endpoint Auth' };
const OPENS = 40;
const LOGOUTS = 6;
const IN_FLIGHT = 15;
const endpointId = randomUUID();
const endpointWorkflow = line(
	'endpoint in queue mode',
	{
		name: 'Endpoint',
		type: `${PACKAGE}.pushTokenEndpoint`,
		typeVersion: 2,
		parameters: { appId: ENDPOINT_APP, verification: 'hmac', events: ['registered', 'loggedOut'], options: { perClient: 0, perDevice: 0 } },
		store: true,
		credentials: { pushTokenEndpointAuthApi: AUTH },
		webhookId: endpointId,
	},
	// each run of the workflow registers a marker token naming its event and its execution
	node.register('Marker', { appId: EVENTS_APP, platform: 'android', token: '={{ "marker:" + $json.event + ":" + $execution.id }}', userId: '={{ $json.event }}' }),
);

async function query<T>(connectionString: string, text: string): Promise<T[]> {
	const client = new Client({ connectionString });
	await client.connect();
	try {
		return (await client.query(text)).rows as T[];
	} finally {
		await client.end();
	}
}

describe('[postgres] queue mode: main + 2 workers through Redis', () => {
	let n8n: N8nHarness | undefined;
	let redis: Redis | undefined;
	let n8nDb: Awaited<ReturnType<typeof freshConfig>> | undefined;
	const prefix = `push-tokens-test-${process.pid}-${Date.now().toString(36)}`;
	let base = '';
	/** An `n8n webhook` process of the same n8n (the endpoint's test calls it and main). */
	let hook = '';

	beforeAll(async () => {
		redis = await ensureRedis();
		console.log(`[queue mode] Redis: ${redis.describe}; Bull prefix ${prefix}`);
		n8nDb = await freshConfig('postgres');
		const n8nDbUrl = (n8nDb.config as { connectionString: string }).connectionString;
		n8n = await N8nHarness.create('postgres', {
			...n8nDatabaseEnv(n8nDbUrl),
			EXECUTIONS_MODE: 'queue',
			QUEUE_BULL_REDIS_HOST: redis.host,
			QUEUE_BULL_REDIS_PORT: String(redis.port),
			QUEUE_BULL_PREFIX: prefix,
			// The same key for main and workers: they all decrypt the store credential.
			N8N_ENCRYPTION_KEY: randomBytes(24).toString('hex'),
		});
		await n8n.importWorkflow(example('register-from-backend', n8n.folder), true);
		await n8n.importWorkflow(example('login-logout-from-backend', n8n.folder), true);
		await n8n.importCredentials([{ ...AUTH, type: 'pushTokenEndpointAuthApi', data: { appKey: APP_KEY, hmacSecret: HMAC_SECRET } }]);
		await n8n.importWorkflow({ ...endpointWorkflow, active: true }, true);
		[base, hook] = await Promise.all([n8n.start(), n8n.startWebhook('webhook-1'), n8n.startWorker('worker-1'), n8n.startWorker('worker-2')]);
	}, 10 * 60_000);

	afterAll(async () => {
		await n8n?.dispose();
		await n8nDb?.dispose();
		await redis?.dispose(prefix);
	}, 120_000);

	it('1,000 webhook registrations and logins, 50 at a time, land exactly once each', async () => {
		const post = async (path: string, body: unknown) => {
			const response = await fetch(`${base}/webhook/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
			const text = await response.text();
			if (response.status !== 200) throw new Error(`POST /webhook/${path} ${JSON.stringify(body)}: ${response.status} ${text}\n${await failures()}`);
			return JSON.parse(text) as Record<string, unknown>;
		};
		const token = (i: number) => tokens.fcm(70_000 + i);
		const user = (i: number) => `queue-user-${i % USERS}`;

		await n8n!.postWhenLive(base, 'push/register', {});
		// That probe ran (and failed on its empty body) as an execution: count from the last one.
		const [{ last }] = await query<{ last: number }>(n8nUrl(), `SELECT COALESCE(MAX(id), 0)::int AS last FROM execution_entity`);

		const answers: Array<{ register: Record<string, unknown>; identify: Record<string, unknown> }> = [];
		let next = 0;
		const started = Date.now();
		await Promise.all(
			Array.from({ length: LANES }, async () => {
				for (let i = next++; i < PAIRS; i = next++) {
					const register = await post('push/register', { appId: APP, platform: 'android', token: token(i), deviceId: `queue-device-${i}` });
					const identify = await post('push/identify', { appId: APP, token: token(i), userId: user(i) });
					answers[i] = { register, identify };
				}
			}),
		);
		const elapsed = Date.now() - started;

		// What every caller was told.
		expect(answers.filter((a) => a.register.action === 'registered')).toHaveLength(PAIRS);
		expect(answers.filter((a, i) => a.identify.action === 'moved' && a.identify.userId === user(i))).toHaveLength(PAIRS);

		// What landed: each call exactly once.
		const db = n8n!.store.engine.db;
		const count = async (table: 'devices' | 'profiles' | 'token_events', where?: [string, string]) => {
			let q = db.selectFrom(table).select(({ fn }) => fn.countAll<number>().as('n'));
			if (where) q = q.where(where[0] as never, '=', where[1] as never);
			return Number((await q.executeTakeFirstOrThrow()).n);
		};
		expect(await count('devices')).toBe(PAIRS);
		expect(await count('profiles')).toBe(USERS); // the anonymous profile of each registration was merged away by its login
		expect(await count('profiles', ['kind', 'anonymous'])).toBe(0);
		expect(await count('token_events')).toBe(2 * PAIRS);
		expect(await count('token_events', ['type', 'registered'])).toBe(PAIRS);
		expect(await count('token_events', ['type', 'moved'])).toBe(PAIRS);
		for (const i of [0, 137, PAIRS - 1]) {
			expect(await n8n!.store.getDevice(APP, token(i))).toMatchObject({ deviceId: `queue-device-${i}` });
			expect((await n8n!.store.changelog({ appId: APP, token: token(i) })).map((e) => [e.type, e.toUserId])).toEqual([
				['registered', null],
				['moved', user(i)],
			]);
		}

		// n8n's side: 1,000 executions, all successful, run by the workers (both of them), each once.
		const executions = await query<{ status: string; mode: string; n: number }>(
			n8nUrl(),
			`SELECT status, mode, COUNT(*)::int AS n FROM execution_entity WHERE id > ${last} GROUP BY status, mode`,
		);
		expect(executions).toEqual([{ status: 'success', mode: 'webhook', n: 2 * PAIRS }]);
		const ran = (name: string) => [...n8n!.workerLog(name).matchAll(/Worker finished execution (\d+)/g)].map((m) => Number(m[1])).filter((id) => id > last);
		const [first, second] = [ran('worker-1'), ran('worker-2')];
		expect(new Set([...first, ...second]).size).toBe(2 * PAIRS);
		expect(first.length + second.length).toBe(2 * PAIRS); // no execution ran twice
		expect(first.length).toBeGreaterThan(0);
		expect(second.length).toBeGreaterThan(0);
		console.log(
			`[queue mode] ${2 * PAIRS} webhook calls, ${LANES} at a time, in ${elapsed} ms (${Math.round((2 * PAIRS * 1000) / elapsed)}/s); ` +
				`executions: worker-1 ${first.length}, worker-2 ${second.length}; landed ${PAIRS} devices, ${USERS} profiles, ${2 * PAIRS} changelog rows`,
		);

		/** The errors of the failed executions, from n8n's execution data (flatted JSON: the strings that look like errors). */
		async function failures(): Promise<string> {
			const rows = await query<{ id: number; data: string }>(
				n8nUrl(),
				`SELECT e.id, d.data FROM execution_entity e JOIN execution_data d ON d."executionId" = e.id WHERE e.status <> 'success' AND e.id > ${last} ORDER BY e.id LIMIT 5`,
			).catch((error: Error) => [{ id: 0, data: JSON.stringify([error.message]) }]);
			return rows
				.map((r) => `execution ${r.id}: ${(JSON.parse(r.data) as unknown[]).filter((x) => typeof x === 'string' && /error|fail|violat|serializ/i.test(x)).slice(0, 6).join(' | ')}`)
				.join('\n');
		}

		function n8nUrl(): string {
			return (n8nDb!.config as { connectionString: string }).connectionString;
		}
	}, 10 * 60_000);

	it('Push Token Endpoint through main and a webhook process: routine calls start no job, each ticked event runs once on a worker', async () => {
		const n8nUrl = (n8nDb!.config as { connectionString: string }).connectionString;
		const proof = (userId: string) => createHmac('sha256', HMAC_SECRET).update(userId).digest('hex');
		const token = (i: number) => tokens.fcm(80_000 + i);
		/** App open i: a new device; the first LOGOUTS name their user, with its proof. */
		const open = (i: number) => ({ platform: 'android', token: token(i), deviceId: `queue-endpoint-device-${i}`, ...(i < LOGOUTS ? { userId: `queue-endpoint-user-${i}`, userProof: proof(`queue-endpoint-user-${i}`) } : {}) });
		const bases = [base, hook];
		const call = async (i: number, route: string, body: unknown) => {
			// calls alternate between main and the webhook process
			const response = await fetch(`${bases[i % bases.length]}/webhook/${endpointId}/${route}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-app-key': APP_KEY }, body: JSON.stringify(body) });
			return { status: response.status, body: (await response.json().catch(() => null)) as Record<string, unknown> };
		};
		/** `calls` calls, IN_FLIGHT at a time; their answers in order. */
		const burst = async (calls: number, make: (i: number) => Promise<{ status: number; body: Record<string, unknown> }>) => {
			const answers: Array<{ status: number; body: Record<string, unknown> }> = [];
			let next = 0;
			await Promise.all(
				Array.from({ length: IN_FLIGHT }, async () => {
					for (let i = next++; i < calls; i = next++) answers[i] = await make(i);
				}),
			);
			return answers;
		};

		const bull = new IORedis({ host: redis!.host, port: redis!.port, lazyConnect: true });
		await bull.connect();
		try {
			/** Jobs Bull has handed out ids for (n8n's queue is named "jobs"). */
			const jobs = async () => Number((await bull.get(`${prefix}:jobs:id`)) ?? 0);
			/** The workflow's executions since the test began. */
			const executions = async () =>
				query<{ id: number; status: string; mode: string }>(n8nUrl, `SELECT id::int AS id, status, mode FROM execution_entity WHERE "workflowId" = '${endpointWorkflow.id as string}' ORDER BY id`);
			/** The workflow's runs, by the marker tokens they registered: event → execution ids. */
			const runs = async () => {
				const markers = await n8n!.store.engine.db.selectFrom('devices').select('token').where('app_id', '=', EVENTS_APP).execute();
				const by: Record<string, number[]> = { registered: [], loggedOut: [] };
				for (const { token: t } of markers) {
					const [, event, id] = t.split(':');
					(by[event] ??= []).push(Number(id));
				}
				return by;
			};
			/** What the last wait saw, for its failure message. */
			let seen = '';
			const runsReach = (event: string, n: number) => async () => {
				const [by, rows] = [await runs(), await executions()];
				seen = `runs ${JSON.stringify(by)}; executions ${JSON.stringify(rows)}`;
				return by[event].length >= n && rows.filter((e) => e.status === 'success').length >= Object.values(by).flat().length;
			};

			// Until main and the webhook process serve the endpoint: an empty registration, refused by the endpoint itself (400, nothing written, no event).
			for (const b of bases) {
				const live = await n8n!.postWhenLive(b, `${endpointId}/register`, {}, { 'x-app-key': APP_KEY });
				expect([live.status, JSON.parse(live.text)]).toEqual([400, { error: expect.stringMatching(/^field /) }]);
			}
			const jobsBefore = await jobs();
			expect(await executions()).toEqual([]);
			const started = Date.now();

			// 1. OPENS app opens of new devices: each registered, each one run.
			const opens = await burst(OPENS, (i) => call(i, 'register', open(i)));
			expect(opens.map((a) => [a.status, a.body?.action])).toEqual(Array.from({ length: OPENS }, () => [200, 'registered']));
			await waitFor(runsReach('registered', OPENS), 180_000, () => `the ${OPENS} registrations did not all run the workflow: ${seen}`);
			const jobsAfterOpens = await jobs();
			expect(jobsAfterOpens - jobsBefore).toBe(OPENS);

			// 2. The same OPENS again (routine re-opens, each through the other process this time): answered, no job.
			const reopens = await burst(OPENS, (i) => call(i + 1, 'register', open(i)));
			expect(reopens.map((a) => [a.status, a.body?.action, a.body?.changed])).toEqual(Array.from({ length: OPENS }, () => [200, 'refreshed', []]));
			// (a job is added right after its call's answer: a moment for any to show)
			await new Promise((done) => setTimeout(done, 3000));
			expect(await jobs()).toBe(jobsAfterOpens);

			// 3. LOGOUTS logouts, each with its user's proof: each anonymized, each one run.
			const logouts = await burst(LOGOUTS, (i) => call(i, 'logout', { token: token(i), userId: `queue-endpoint-user-${i}`, userProof: proof(`queue-endpoint-user-${i}`) }));
			expect(logouts.map((a) => [a.status, a.body?.action])).toEqual(Array.from({ length: LOGOUTS }, () => [200, 'anonymized']));
			const expected = OPENS + LOGOUTS;
			await waitFor(runsReach('loggedOut', LOGOUTS), 180_000, () => `the ${LOGOUTS} logouts did not all run the workflow: ${seen}`);
			const elapsed = Date.now() - started;
			// and no more than that, a moment later
			await new Promise((done) => setTimeout(done, 3000));

			// The workflow ran once per ticked event, and for no routine call.
			const ran = await runs();
			expect([ran.registered.length, ran.loggedOut.length, Object.keys(ran).sort()]).toEqual([OPENS, LOGOUTS, ['loggedOut', 'registered']]);
			const ids = [...ran.registered, ...ran.loggedOut].sort((a, b) => a - b);
			// n8n holds exactly those executions, all successful, each a job of its own.
			const rows = await executions();
			expect(rows.map((e) => e.id)).toEqual(ids);
			expect(rows.filter((e) => e.status === 'success' && e.mode === 'webhook')).toHaveLength(expected);
			expect((await jobs()) - jobsBefore).toBe(expected);

			// Run by the workers, each execution once (main and the webhook process only enqueue in queue mode).
			const finished = (name: string) => [...n8n!.workerLog(name).matchAll(/Worker finished execution (\d+)/g)].map((m) => Number(m[1])).filter((id) => ids.includes(id));
			await waitFor(async () => finished('worker-1').length + finished('worker-2').length >= expected, 60_000, () => `the workers did not log every execution: ${JSON.stringify([finished('worker-1'), finished('worker-2')])}`);
			const [first, second] = [finished('worker-1'), finished('worker-2')];
			expect([...first, ...second].sort((a, b) => a - b)).toEqual(ids);
			expect(n8n!.serverLog()).not.toMatch(/Worker finished execution/);
			expect(n8n!.workerLog('webhook-1')).not.toMatch(/Worker finished execution/);

			// The store: every device once, the logged-out ones anonymous.
			const devices = await n8n!.store.engine.db
				.selectFrom('devices')
				.innerJoin('profiles', 'profiles.id', 'devices.profile_id')
				.select(['devices.token', 'profiles.external_id'])
				.where('devices.app_id', '=', ENDPOINT_APP)
				.execute();
			expect(devices).toHaveLength(OPENS);
			expect(devices.filter((d) => d.external_id !== null)).toEqual([]);
			console.log(
				`[queue mode] Push Token Endpoint: ${OPENS} opens + ${OPENS} re-opens + ${LOGOUTS} logouts through main and webhook-1, ${IN_FLIGHT} in flight, in ${elapsed} ms; ` +
					`${expected} executions (${expected} jobs): worker-1 ${first.length}, worker-2 ${second.length}`,
			);
		} finally {
			bull.disconnect();
		}
	}, 10 * 60_000);
});
