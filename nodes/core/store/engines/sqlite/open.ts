/** Opens a SQLite store. */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SelectQueryNode, SqliteDialect, sql, type KyselyPlugin } from 'kysely';
import type { z } from 'zod/v4';
import type { Database } from '../../schema';
import { applyMigrations, type Engine } from '../engine';
import type { SqliteConfig } from './config';
import { sqliteDialect } from './dialect';
import { writeBatchSqlite } from './import';

/** SQLite connections of this process, one per file, shared by every store opened on it. */
const sqliteFiles = new Map<string, { engine: Engine; users: number }>();

/**
 * SQLite: one connection per file per process, shared and reference-counted. Two connections in
 * one thread would deadlock: better-sqlite3 waits for a lock synchronously, so the holder's next
 * await never runs. Kysely serialises the use of the one connection; WAL lets readers in other
 * processes go on while one writes; BEGIN IMMEDIATE takes the write lock up front so processes
 * queue on the busy timeout instead of failing with SQLITE_BUSY on a lock upgrade.
 */
export function openSqlite(config: z.output<typeof SqliteConfig>): Engine {
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
		importBatch: async (_tx, batch, now) => writeBatchSqlite((text) => statements.prepare(text), batch, now),
		migrate: () => engine.transaction((tx) => applyMigrations(tx, sqliteDialect)),
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
