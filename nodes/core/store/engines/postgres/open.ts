/** Opens a PostgreSQL store. */
import { setTimeout as sleep } from 'node:timers/promises';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { Pool, types as pgTypes } from 'pg';
import type { z } from 'zod/v4';
import { MIGRATIONS_TABLE, STORE_TABLES } from '../../migrations';
import type { Database, Tx } from '../../schema';
import { applyMigrations, type Engine } from '../engine';
import type { PostgresConfig } from './config';
import { postgresDialect } from './dialect';
import { writeBatchPostgres } from './import';

/** A fixed advisory-lock key: only one worker migrates at a time, the others wait and find it done. */
const MIGRATION_LOCK_KEY = 0x70757368; // "push"
/** The rules' key locks: pg_advisory_xact_lock(KEY_LOCKS, hash), a key space of two int4s apart from the migration's bigint. */
const KEY_LOCKS = 0x70757368;

/**
 * PostgreSQL error codes after which a transaction is run again: deadlock (two rules locking two
 * devices in opposite orders) and unique violation (a bulk import racing a registration of the
 * same token, which import does not lock).
 */
const RETRYABLE_PG = new Set(['40P01', '23505']);
const MAX_ATTEMPTS = 10;

/** A key's lock id: FNV-1a, as a signed 32-bit integer. A collision only makes two keys queue together. */
function lockId(key: string): number {
	let hash = 0x811c9dc5;
	for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
	return hash | 0;
}

/**
 * BEGIN, and the key locks in one round trip (a simple query: the ids are integers we computed).
 * Sorted, so two transactions locking the same keys take them in the same order; 1,000 to a
 * SELECT (PostgreSQL takes at most 1,664 columns in one).
 */
function beginSql(keys: string[] = []): string {
	const ids = [...new Set(keys.map(lockId))].sort((a, b) => a - b);
	const selects = [];
	for (let i = 0; i < ids.length; i += 1000) selects.push(`SELECT ${ids.slice(i, i + 1000).map((id) => `pg_advisory_xact_lock(${KEY_LOCKS}, ${id})`).join(', ')}`);
	return ['BEGIN', ...selects].join('; ');
}

/**
 * PostgreSQL: a pool, READ COMMITTED transactions in which each rule locks what it reads and then
 * writes (its keys, its rows), so callers on distinct devices never wait on each other and
 * callers on one device queue. 64-bit integers (our epoch-millisecond times, counts) come back
 * as numbers.
 */
export function openPostgres(config: z.output<typeof PostgresConfig>): Engine {
	const pool = new Pool({
		connectionString: config.connectionString,
		host: config.host,
		port: config.port,
		database: config.database,
		user: config.user,
		password: config.password,
		ssl: config.ssl,
		max: config.poolSize,
		// Every name the store uses resolves in its schema, and only there (the catalog is always searched
		// first): set on each new connection, after whatever search_path the URL's options or PGOPTIONS gave.
		onConnect: (client) => client.query(`SET search_path TO "${config.schema}"`),
		types: {
			getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
				oid === pgTypes.builtins.INT8 ? Number : pgTypes.getTypeParser(oid, format)) as typeof pgTypes.getTypeParser,
		},
	});
	pool.on('error', () => {
		/* an idle client lost its connection; the pool replaces it on next use */
	});
	const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
	let retries = 0;
	return {
		name: 'postgres',
		db,
		retries: () => retries,
		importBatch: writeBatchPostgres,
		transaction: (fn, options) =>
			db.connection().execute(async (tx) => {
				const begin = sql.raw(beginSql(options?.lock));
				for (let attempt = 1; ; attempt++) {
					await begin.execute(tx);
					try {
						const result = await fn(tx);
						await sql`COMMIT`.execute(tx);
						return result;
					} catch (error) {
						await sql`ROLLBACK`.execute(tx).catch(() => undefined);
						const code = (error as { code?: string }).code;
						if (!code || !RETRYABLE_PG.has(code) || attempt >= MAX_ATTEMPTS) throw error;
						retries++;
						await sleep(Math.random() * Math.min(1000, 10 * 2 ** attempt));
					}
				}
			}),
		// READ COMMITTED, so each statement sees what a worker that migrated first committed.
		migrate: () =>
			db.connection().execute(async (tx) => {
				await sql`BEGIN`.execute(tx);
				try {
					await sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`.execute(tx);
					await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(config.schema)}`.execute(tx);
					await adoptPublicTables(tx, config.schema);
					await applyMigrations(tx, postgresDialect);
					await sql`COMMIT`.execute(tx);
				} catch (error) {
					await sql`ROLLBACK`.execute(tx).catch(() => undefined);
					throw error;
				}
			}),
		close: () => db.destroy(),
	};
}

/**
 * A store made by 0.1.0 kept its tables in `public`: the first open of this version moves them
 * (with their indexes, constraints and sequences) into the store's schema, under the migration
 * lock. Only when `public` holds our migrations table, so the tables are ours, and the schema
 * holds none yet.
 */
async function adoptPublicTables(tx: Tx, schema: string): Promise<void> {
	if (schema === 'public') return;
	const { rows } = await sql<{ table_schema: string; table_name: string }>`
		SELECT table_schema, table_name FROM information_schema.tables
		WHERE table_schema IN ('public', ${schema}) AND table_name IN (${sql.join([MIGRATIONS_TABLE, ...STORE_TABLES])})`.execute(tx);
	const inPublic = rows.filter((r) => r.table_schema === 'public').map((r) => r.table_name);
	if (!inPublic.includes(MIGRATIONS_TABLE) || rows.some((r) => r.table_schema === schema)) return;
	for (const table of inPublic) await sql`ALTER TABLE ${sql.id('public', table)} SET SCHEMA ${sql.id(schema)}`.execute(tx);
}
