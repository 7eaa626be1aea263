/**
 * Concurrency, the whole mix: register, identify, clear identify and delivery outcomes on a
 * small shared pool of tokens, devices and users, so the operations collide.
 *
 *  - 4 OS processes on one store (a SQLite file; a PostgreSQL database), 10,000 operations;
 *  - 8 concurrent streams of webhook calls into one real n8n (8 executions at a time in one
 *    process sharing one store).
 *
 * Afterwards the changelog (token_events) replays to the store's final state exactly (owner,
 * device id, last_status and bounces per token; removed tokens gone and tombstoned), every
 * token and device id is held at most once, and every result a caller was told is one logged
 * event of the matching kind (nothing lost, nothing logged twice). No error reaches a caller.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { TokenStore } from '../../nodes/core';
import { line, N8nHarness, node, type Json, type NodeSpec } from '../e2e/harness';
import { nextOperation, random, tally, type Plan, type Verb } from '../support/mixed-operations';
import { checkStore, compareCounts, sumCounts } from '../support/replay';
import { ENGINES, freshConfig, tokens } from '../support/stores';

const run = promisify(execFile);
const APP = 'app';
const WORKER = join(__dirname, '../support/mixed-worker.js');

interface WorkerReport {
	name: string;
	counts: Record<string, number>;
	killed: string[];
	errors: string[];
	errorCount: number;
	ms: number;
}

/** Result names that annotate an operation rather than count one. */
const ANNOTATIONS = new Set(['register:superseded', 'register:moved-from-user', 'identify:status-reset']);
const operationsIn = (counts: Record<string, number>) => Object.entries(counts).reduce((sum, [name, n]) => (ANNOTATIONS.has(name) ? sum : sum + n), 0);

/** Transactions rolled back in the database so far (deadlocks retried, and the not-founds). */
async function rollbacks(store: TokenStore): Promise<number> {
	const { rows } = await sql<{ n: number }>`SELECT xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()`.execute(store.engine.db);
	return Number(rows[0].n);
}

describe.each(ENGINES)('[%s] 4 OS processes, 10,000 mixed operations on shared tokens', (engine) => {
	it('leave one owner per token, a changelog that replays to the final state, and nothing lost', async () => {
		const { config, dispose } = await freshConfig(engine);
		const store = await TokenStore.open(config); // migrated once here, before the workers race
		try {
			const pool = {
				appId: APP,
				tokens: Array.from({ length: 48 }, (_, i) => tokens.fcm(i)),
				devices: Array.from({ length: 24 }, (_, i) => `device-${i}`),
				users: Array.from({ length: 6 }, (_, i) => `user-${i}`),
			};
			const names = ['w1', 'w2', 'w3', 'w4'];
			const before = engine === 'postgres' ? await rollbacks(store) : 0;
			const started = Date.now();
			const outputs = await Promise.all(
				names.map((name, i) =>
					run(process.execPath, [WORKER, JSON.stringify(config), JSON.stringify({ ...pool, name, operations: 2500, seed: 7919 * (i + 1) })], { maxBuffer: 16 * 1024 * 1024 }),
				),
			);
			const elapsed = Date.now() - started;
			const reports = outputs.map((o) => JSON.parse(o.stdout) as WorkerReport);

			// No error (SQLITE_BUSY, a unique violation, an escaped serialization failure) reached a caller.
			expect(reports.flatMap((r) => r.errors)).toEqual([]);
			const reported = sumCounts(reports.map((r) => r.counts));
			expect(operationsIn(reported)).toBe(10_000);

			const check = await checkStore(store.engine.db);
			expect(check.problems).toEqual([]);
			expect(compareCounts(reported, check.counts)).toEqual([]);
			// Tombstoned = the tokens some caller was told were removed or tombstoned.
			expect([...check.dead].sort()).toEqual([...new Set(reports.flatMap((r) => r.killed))].map((t) => `${APP}\u0000${t}`).sort());

			// The mix really collided: every kind of result happened, many times over.
			for (const name of ['register:registered', 'register:refreshed', 'register:superseded', 'identify:moved', 'identify:unchanged', 'clear:anonymized', 'clear:removed', 'outcome:sent', 'outcome:bounced', 'outcome:suppressed', 'outcome:removed']) {
				expect([name, reported[name] ?? 0]).toEqual([name, expect.any(Number)]);
				expect(reported[name]).toBeGreaterThan(0);
			}
			expect(reported['identify:moved']).toBeGreaterThan(500);

			const conflicts = engine === 'postgres' ? (await rollbacks(store)) - before - (reported['identify:not-found'] ?? 0) - (reported['clear:not-found'] ?? 0) : 0;
			console.log(
				`[${engine}] 4 processes × 2,500 operations in ${elapsed} ms (workers ${reports.map((r) => r.ms).join('/')} ms); ` +
					`pool ${pool.tokens.length} tokens, ${pool.devices.length} devices, ${pool.users.length} users; ` +
					`results ${JSON.stringify(Object.fromEntries(Object.entries(reported).sort()))}; ` +
					`changelog ${check.events} events ${JSON.stringify(check.counts)}; ${check.devices} devices, ${check.profiles} profiles, ${check.dead.size} tombstoned` +
					(engine === 'postgres' ? `; transactions rolled back and retried on conflict: ${conflicts}` : ''),
			);
		} finally {
			await store.close();
			await dispose();
		}
	}, 180_000);
});

/** One published workflow with a webhook per verb; every store node continues on fail (a not-found is an answer). */
function webhookWorkflow(): Json {
	const body = (field: string) => `={{ $json.body.${field} ?? '' }}`;
	const keepGoing = (spec: NodeSpec): NodeSpec => ({ ...spec, continueOnFail: true });
	const chains = [
		line('register', node.webhook('Register hook', 'mix/register'), keepGoing(node.register('Register', { appId: body('appId'), platform: 'android', token: body('token'), deviceId: body('deviceId'), userId: body('userId') }))),
		line('identify', node.webhook('Identify hook', 'mix/identify'), keepGoing(node.identity('Identify', { operation: 'identify', appId: body('appId'), token: body('token'), userId: body('userId') }))),
		line('clear', node.webhook('Clear hook', 'mix/clear'), keepGoing(node.identity('Clear', { operation: 'clearIdentify', appId: body('appId'), token: body('token'), mode: body('mode') }))),
		line('outcome', node.webhook('Outcome hook', 'mix/outcome'), keepGoing(node.feedback('Feedback', { appId: body('appId'), token: body('token'), code: body('event') })), { name: 'Answer', type: 'n8n-nodes-base.noOp' }),
	] as Array<Json & { nodes: Json[]; connections: Record<string, { main: unknown[][] }> }>;
	const connections = Object.assign({}, ...chains.map((c) => c.connections)) as Record<string, { main: unknown[][] }>;
	// Every output of Handle Push Feedback (removed, suppressed, retry, other) answers the call.
	connections.Feedback = { main: [0, 1, 2, 3].map(() => [{ node: 'Answer', type: 'main', index: 0 }]) };
	return { ...chains[0], name: 'concurrent mix', nodes: chains.flatMap((c) => c.nodes), connections };
}

/** A webhook body for an operation of the mix (feedback takes the provider's words: delivered, bounced, uninstall). */
function webhookBody(verb: Verb, input: Record<string, unknown>): Json {
	if (verb !== 'outcome') return input;
	const event = { delivered: 'delivered', bounced: 'bounced', 'invalid-token': 'uninstall' }[input.outcome as string];
	return { appId: input.appId, token: input.token, event };
}

describe('[sqlite] 8 concurrent executions in one real n8n', () => {
	let n8n: N8nHarness;
	beforeAll(async () => {
		n8n = await N8nHarness.create('sqlite');
	}, 15 * 60_000);
	afterAll(() => n8n?.dispose());

	it('8 streams of webhook calls on shared tokens: one owner per token, a changelog that replays, nothing lost', async () => {
		await n8n.importWorkflow(webhookWorkflow(), true);
		const base = await n8n.start();
		await n8n.postWhenLive(base, 'mix/clear', { appId: APP, token: 'none' });
		const plan: Plan = {
			appId: APP,
			tokens: Array.from({ length: 16 }, (_, i) => tokens.fcm(i)),
			devices: Array.from({ length: 8 }, (_, i) => `device-${i}`),
			users: Array.from({ length: 4 }, (_, i) => `user-${i}`),
			invalidPerMille: 8,
		};
		const STREAMS = 8;
		const CALLS = 30;
		const errors: string[] = [];
		const started = Date.now();
		const tallies = await Promise.all(
			Array.from({ length: STREAMS }, async (_, stream) => {
				const rand = random(104_729 * (stream + 1));
				const results = tally();
				for (let i = 0; i < CALLS; i++) {
					const [verb, input] = nextOperation(rand, plan);
					const response = await fetch(`${base}/webhook/mix/${verb}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(webhookBody(verb, input)) });
					const text = await response.text();
					const answer = (response.status === 200 ? JSON.parse(text) : { error: `HTTP ${response.status}: ${text}` }) as { action?: string; error?: string };
					if (typeof answer.action === 'string') results.count(verb, input, answer as { action: string });
					else if (/no device is registered/.test(answer.error ?? '')) results.count(verb, input, null);
					else errors.push(`${verb} ${JSON.stringify(input)}: ${JSON.stringify(answer).slice(0, 500)}`);
				}
				return results;
			}),
		);
		const elapsed = Date.now() - started;
		await n8n.stop();

		expect(errors).toEqual([]);
		const reported = sumCounts(tallies.map((t) => t.counts));
		expect(operationsIn(reported)).toBe(STREAMS * CALLS);
		const check = await checkStore(n8n.store.engine.db);
		expect(check.problems).toEqual([]);
		expect(compareCounts(reported, check.counts)).toEqual([]);
		expect([...check.dead].sort()).toEqual([...new Set(tallies.flatMap((t) => [...t.killed]))].map((t) => `${APP}\u0000${t}`).sort());
		for (const name of ['register:registered', 'register:refreshed', 'identify:moved', 'clear:anonymized', 'outcome:sent', 'outcome:bounced']) {
			expect([name, reported[name] ?? 0]).toEqual([name, expect.any(Number)]);
			expect(reported[name]).toBeGreaterThan(0);
		}
		console.log(
			`[n8n, sqlite store] ${STREAMS} streams × ${CALLS} webhook calls in ${elapsed} ms; pool ${plan.tokens.length} tokens, ${plan.devices.length} devices, ${plan.users.length} users; ` +
				`results ${JSON.stringify(Object.fromEntries(Object.entries(reported).sort()))}; changelog ${check.events} events; ${check.devices} devices, ${check.dead.size} tombstoned`,
		);
	}, 300_000);
});
