/**
 * n8n in queue mode: a main process that receives the webhooks and 2 `n8n worker` processes that
 * run them, through Redis (Bull), with n8n's own database and the token store both on
 * PostgreSQL. A burst of 1,000 webhook calls (500 registrations, each followed by its login),
 * 50 at a time, must land exactly once each: devices, profiles and changelog rows are counted,
 * every execution succeeded, and both workers ran some.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { example, N8nHarness, n8nDatabaseEnv } from '../e2e/harness';
import { ensureRedis, type Redis } from '../support/redis';
import { freshConfig, tokens } from '../support/stores';

const APP = 'com.example.queue';
const PAIRS = 500;
const LANES = 50;
const USERS = 100;

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
		[base] = await Promise.all([n8n.start(), n8n.startWorker('worker-1'), n8n.startWorker('worker-2')]);
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
});
