/**
 * What an engine gives the store: a Kysely instance over the same tables, a transaction that is
 * safe against other processes, migrations that are safe when many n8n workers start at once, and
 * a bulk import writer. Everything else (the rules) is written once, in lifecycle/.
 */
import { sql, type Kysely } from 'kysely';
import { z } from 'zod/v4';
import type { BatchCounts, ImportBatchRow } from '../../lifecycle/import-rows';
import { MIGRATIONS_TABLE, migrationTableDdl, pendingStatements, type Dialect } from '../migrations';
import type { Database, Tx } from '../schema';

/** The store's rules a credential sets, whatever the engine. */
export const storeRules = {
	/** At most this many devices per user and app (lifecycle/devices-per-user.ts); 0: no cap. */
	maxDevicesPerUser: z
		.number({ error: 'expected maxDevicesPerUser as a number' })
		.int('expected maxDevicesPerUser as a whole number')
		.min(0, 'expected maxDevicesPerUser of 0 (no cap) or more')
		.default(0),
};

export interface TransactionOptions {
	/**
	 * Keys of what the rule will write and whose rows may not exist yet (a token, a device id, a
	 * user id): the transaction holds a lock on each, so two first registrations of one token
	 * queue instead of both inserting. Rows that exist are locked by the rule's own reads
	 * (SELECT … FOR UPDATE).
	 */
	lock?: string[];
}

export interface Engine {
	/** The engine's name, as a config names it ("sqlite", "postgres"). */
	readonly name: string;
	readonly db: Kysely<Database>;
	/** Transactions run again after a deadlock or a racing insert (PostgreSQL), since the store opened. */
	readonly retries: () => number;
	/** Runs fn in one transaction that no other writer (thread, worker or process) interleaves with badly. */
	transaction<T>(fn: (tx: Tx) => Promise<T>, options?: TransactionOptions): Promise<T>;
	/** Writes one import batch inside `transaction` (whose tx it is handed): each engine has its fastest way. */
	importBatch(tx: Tx, batch: ImportBatchRow[], now: number): Promise<BatchCounts>;
	/** Brings the schema up to date; safe when many processes start at once. */
	migrate(): Promise<void>;
	close(): Promise<void>;
}

/** Applies the migrations not yet applied, inside the caller's transaction (which holds the migration lock). */
export async function applyMigrations(tx: Tx, dialect: Dialect): Promise<void> {
	await sql.raw(migrationTableDdl(dialect)).execute(tx);
	const row = await sql<{ version: number | null }>`SELECT MAX(version) AS version FROM ${sql.table(MIGRATIONS_TABLE)}`.execute(tx);
	for (const migration of pendingStatements(dialect, Number(row.rows[0]?.version ?? 0))) {
		for (const statement of migration.statements) await sql.raw(statement).execute(tx);
		await migration.data?.(tx);
		for (const statement of migration.finally) await sql.raw(statement).execute(tx);
		await sql`INSERT INTO ${sql.table(MIGRATIONS_TABLE)} (version, name, applied_at) VALUES (${migration.version}, ${migration.name}, ${Date.now()})`.execute(tx);
	}
}
