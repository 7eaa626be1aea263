/**
 * The two engines behind the store. Each gives a Kysely instance over the same tables, a
 * transaction that is safe against other processes, and migrations that are safe when many
 * n8n workers start at once. Everything else (the rules) is written once, in lifecycle/.
 */
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SelectQueryNode, SqliteDialect, sql, type KyselyPlugin } from 'kysely';
import { Pool, types as pgTypes } from 'pg';
import { z } from 'zod/v4';
import { parseInput } from '../errors';
import { MIGRATIONS_TABLE, STORE_TABLES, migrationTableDdl, pendingStatements, type EngineName } from './migrations';
import type { Database } from './schema';

/** The PostgreSQL schema of a store whose config names none. */
export const DEFAULT_SCHEMA = 'push_tokens';

/** The store's rules a credential sets, whatever the engine. */
const storeRules = {
	/** At most this many devices per user and app (lifecycle/devices-per-user.ts); 0: no cap. */
	maxDevicesPerUser: z
		.number({ error: 'expected maxDevicesPerUser as a number' })
		.int('expected maxDevicesPerUser as a whole number')
		.min(0, 'expected maxDevicesPerUser of 0 (no cap) or more')
		.default(0),
};

export const StoreConfig = z.discriminatedUnion(
	'engine',
	[
		z.object({
			...storeRules,
			engine: z.literal('sqlite'),
			path: z.string().trim().min(1, 'expected the path of the SQLite file'),
			busyTimeoutMs: z.number().int().min(0).default(10_000),
		}),
		z.object({
			...storeRules,
			engine: z.literal('postgres'),
			connectionString: z
				.string()
				.trim()
				.refine(isPostgresUrl, 'expected a connection URL such as postgres://user:password@host:5432/database (a % in it must start an escape such as %40)')
				.optional(),
			host: z.string().trim().min(1).optional(),
			port: z.number().int().min(1).max(65535).optional(),
			database: z.string().trim().min(1).optional(),
			user: z.string().trim().min(1).optional(),
			password: z.string().optional(),
			ssl: z.union([z.boolean(), z.object({ rejectUnauthorized: z.boolean() })]).optional(),
			poolSize: z.number().int().min(1).max(100).default(10),
			/** Where every table, index and the migrations table live; the store touches nothing outside it. */
			schema: z
				.string()
				.trim()
				.regex(/^[a-z_][a-z0-9_]{0,62}$/, 'expected a schema name of lower-case letters, digits and _ (at most 63), not starting with a digit')
				.default(DEFAULT_SCHEMA),
		}),
	],
	{ error: 'expected engine to be sqlite or postgres' },
);
export type StoreConfig = z.input<typeof StoreConfig>;

/** A URL the pg driver can read: its parser decodes each part, and throws a bare URIError on a stray %. */
function isPostgresUrl(text: string): boolean {
	if (!URL.canParse(text)) return false;
	const url = new URL(text);
	if (!['postgres:', 'postgresql:', 'socket:'].includes(url.protocol)) return false;
	try {
		for (const part of [url.username, url.password, url.hostname, url.pathname, url.search]) decodeURIComponent(part);
		return true;
	} catch {
		return false;
	}
}

export type Tx = Kysely<Database>;

/** "~" in a SQLite path is the n8n user folder: N8N_USER_FOLDER when set, else the home folder (as n8n does). */
export function expandHome(path: string): string {
	if (path !== '~' && !path.startsWith('~/')) return path;
	return join(process.env.N8N_USER_FOLDER || homedir(), path.slice(1));
}

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
	readonly name: EngineName;
	readonly db: Kysely<Database>;
	/** Transactions run again after a deadlock or a racing insert (PostgreSQL), since the store opened. */
	readonly retries: () => number;
	/**
	 * SQLite only: a prepared statement on the store's one connection, for bulk paths (import)
	 * that run inside `transaction` and would spend most of their time in Kysely's compiler.
	 */
	readonly sqliteStatement?: (sql: string) => BetterSqlite3.Statement;
	/** Runs fn in one transaction that no other writer (thread, worker or process) interleaves with badly. */
	transaction<T>(fn: (tx: Tx) => Promise<T>, options?: TransactionOptions): Promise<T>;
	/** Brings the schema up to date; safe when many processes start at once. */
	migrate(): Promise<void>;
	close(): Promise<void>;
}

export async function openEngine(input: StoreConfig): Promise<Engine> {
	const config = parseInput(StoreConfig, input, 'store config');
	const engine = config.engine === 'sqlite' ? openSqlite(config) : openPostgres(config);
	try {
		await engine.migrate();
	} catch (error) {
		await engine.close();
		throw error;
	}
	return engine;
}

/** SQLite connections of this process, one per file, shared by every store opened on it. */
const sqliteFiles = new Map<string, { engine: Engine; users: number }>();

/**
 * SQLite: one connection per file per process, shared and reference-counted. Two connections in
 * one thread would deadlock: better-sqlite3 waits for a lock synchronously, so the holder's next
 * await never runs. Kysely serialises the use of the one connection; WAL lets readers in other
 * processes go on while one writes; BEGIN IMMEDIATE takes the write lock up front so processes
 * queue on the busy timeout instead of failing with SQLITE_BUSY on a lock upgrade.
 */
function openSqlite(config: { path: string; busyTimeoutMs: number }): Engine {
	const path = config.path === ':memory:' ? config.path : resolve(config.path);
	const shared = path === ':memory:' ? undefined : sqliteFiles.get(path);
	if (shared) {
		shared.users++;
		return { ...shared.engine, close: () => releaseSqlite(path) };
	}
	if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
	const connection = new BetterSqlite3(path, { timeout: config.busyTimeoutMs });
	connection.pragma('journal_mode = WAL');
	connection.pragma('synchronous = NORMAL');
	connection.pragma('foreign_keys = ON');
	// 64 MB of page cache (the default is 2 MB): random keys in large indexes otherwise turn every insert into disk reads.
	connection.pragma('cache_size = -65536');
	const statements = withStatementCache(connection);
	const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: statements }), plugins: [withoutRowLocks] });
	const engine: Engine = {
		name: 'sqlite',
		db,
		retries: () => 0,
		sqliteStatement: (text) => statements.prepare(text),
		transaction: (fn) =>
			db.connection().execute(async (tx) => {
				await sql`BEGIN IMMEDIATE`.execute(tx);
				try {
					const result = await fn(tx);
					await sql`COMMIT`.execute(tx);
					return result;
				} catch (error) {
					if (connection.inTransaction) await sql`ROLLBACK`.execute(tx);
					throw error;
				}
			}),
		migrate: () => engine.transaction((tx) => applyMigrations(tx, 'sqlite')),
		close: () => db.destroy(),
	};
	if (path === ':memory:') return engine;
	sqliteFiles.set(path, { engine, users: 1 });
	return { ...engine, close: () => releaseSqlite(path) };
}

/** SQLite has no row locks, nor needs them: BEGIN IMMEDIATE holds the file's one write lock. The rules' FOR UPDATE is dropped. */
const withoutRowLocks: KyselyPlugin = {
	transformQuery: ({ node }) =>
		SelectQueryNode.is(node) && node.endModifiers?.length ? { ...node, endModifiers: node.endModifiers.filter((m) => !m.modifier || !ROW_LOCKS.has(m.modifier)) } : node,
	transformResult: async ({ result }) => result,
};
const ROW_LOCKS = new Set(['ForUpdate', 'ForShare', 'ForKeyShare', 'ForNoKeyUpdate', 'SkipLocked', 'NoWait']);

/** Prepared statements kept per SQL text (LRU): Kysely prepares every query anew, and parsing and planning dominated a register call. */
const STATEMENT_CACHE_SIZE = 500;

function withStatementCache(connection: BetterSqlite3.Database) {
	const cache = new Map<string, BetterSqlite3.Statement>();
	return {
		close: () => connection.close(),
		prepare(sql: string) {
			let statement = cache.get(sql);
			if (statement) cache.delete(sql);
			else {
				statement = connection.prepare(sql);
				if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
			}
			cache.set(sql, statement);
			return statement;
		},
	};
}

async function releaseSqlite(path: string): Promise<void> {
	const shared = sqliteFiles.get(path);
	if (!shared || --shared.users > 0) return;
	sqliteFiles.delete(path);
	await shared.engine.close();
}

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
function openPostgres(config: Extract<z.output<typeof StoreConfig>, { engine: 'postgres' }>): Engine {
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
					await applyMigrations(tx, 'postgres');
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

async function applyMigrations(tx: Tx, engine: EngineName): Promise<void> {
	await sql.raw(migrationTableDdl(engine)).execute(tx);
	const row = await sql<{ version: number | null }>`SELECT MAX(version) AS version FROM ${sql.table(MIGRATIONS_TABLE)}`.execute(tx);
	for (const migration of pendingStatements(engine, Number(row.rows[0]?.version ?? 0))) {
		for (const statement of migration.statements) await sql.raw(statement).execute(tx);
		await migration.data?.(tx);
		for (const statement of migration.finally) await sql.raw(statement).execute(tx);
		await sql`INSERT INTO ${sql.table(MIGRATIONS_TABLE)} (version, name, applied_at) VALUES (${migration.version}, ${migration.name}, ${Date.now()})`.execute(tx);
	}
}
