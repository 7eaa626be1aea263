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
const ANNOTATIONS = new Set(['register:superseded', 'register:moved-from-user']);
const operationsIn = (counts: Record<string, number>) => Object.entries(counts).reduce((sum, [name, n]) => (ANNOTATIONS.has(name) ? sum : sum + n), 0);

/** Transactions rolled back in the database so far (serialization failures retried, and the not-founds). */
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
