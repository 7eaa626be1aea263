/**
 * The two engines behind the store, one folder each (config, dialect, open, import writer); this
 * chooses one by name.
 */
import { z } from 'zod/v4';
import { parseInput } from '../../errors';
import type { Dialect } from '../migrations';
import type { Engine } from './engine';
import { PostgresConfig, postgresCredentialConfig } from './postgres/config';
import { postgresDialect } from './postgres/dialect';
import { openPostgres } from './postgres/open';
import { SqliteConfig, sqliteCredentialConfig } from './sqlite/config';
import { sqliteDialect } from './sqlite/dialect';
import { openSqlite } from './sqlite/open';

export type { Engine, TransactionOptions } from './engine';
export { DEFAULT_SCHEMA } from './postgres/config';
export { expandHome } from './sqlite/config';

export const StoreConfig = z.discriminatedUnion('engine', [SqliteConfig, PostgresConfig], { error: 'expected engine to be sqlite or postgres' });
export type StoreConfig = z.input<typeof StoreConfig>;

/** Each engine's dialect, by name. */
export const DIALECTS: Record<StoreConfig['engine'], Dialect> = { sqlite: sqliteDialect, postgres: postgresDialect };

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

/**
 * The n8n credential's fields (a plain record) as a store config: the engine it names (SQLite when
 * none, as in credentials saved before PostgreSQL was an option), and the store's rules.
 */
export function credentialConfig(data: Record<string, unknown>): StoreConfig {
	const engine = data.engine === 'postgres' ? postgresCredentialConfig(data) : sqliteCredentialConfig(data);
	// (absent in credentials saved before the option: no cap)
	return { ...engine, maxDevicesPerUser: Number(data.maxDevicesPerUser ?? 0) };
}
