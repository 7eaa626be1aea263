/** A PostgreSQL store's config, and how a credential's fields make one. */
import { z } from 'zod/v4';
import { storeRules } from '../engine';

/** The PostgreSQL schema of a store whose config names none. */
export const DEFAULT_SCHEMA = 'push_tokens';

export const PostgresConfig = z.object({
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
});

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

/** The n8n credential's fields (a plain record) as a config. */
export function postgresCredentialConfig(data: Record<string, unknown>): z.input<typeof PostgresConfig> {
	const ssl = data.ssl === 'require' ? true : data.ssl === 'allow-unverified' ? { rejectUnauthorized: false } : undefined;
	const poolSize = Number(data.poolSize) || 10;
	const schema = data.schema === undefined ? undefined : String(data.schema);
	if (data.connection === 'url') return { engine: 'postgres', connectionString: String(data.url ?? ''), ssl, poolSize, schema };
	return {
		engine: 'postgres',
		host: String(data.host || 'localhost'),
		port: Number(data.port) || 5432,
		database: String(data.database || 'postgres'),
		user: String(data.user || 'postgres'),
		password: data.password ? String(data.password) : undefined,
		ssl,
		poolSize,
		schema,
	};
}
