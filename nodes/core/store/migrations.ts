/**
 * Schema migrations, applied in order on open. Each is a list of statements; the two engines
 * differ only in how an auto-numbered id and a 64-bit integer are spelled.
 */
export type EngineName = 'sqlite' | 'postgres';

interface Dialect {
	serialId: string;
	int64: string;
}

const DIALECTS: Record<EngineName, Dialect> = {
	sqlite: { serialId: 'INTEGER PRIMARY KEY', int64: 'INTEGER' },
	postgres: { serialId: 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY', int64: 'BIGINT' },
};

export interface Migration {
	version: number;
	name: string;
	statements: (d: Dialect) => string[];
}

export const MIGRATIONS: Migration[] = [
	{
		version: 1,
		name: 'profiles, devices, changelog, dead tokens',
		statements: ({ serialId, int64 }) => [
			`CREATE TABLE profiles (
				id TEXT PRIMARY KEY,
				external_id TEXT UNIQUE,
				kind TEXT NOT NULL CHECK (kind IN ('identified', 'anonymous', 'imported')),
				unsubscribed SMALLINT NOT NULL DEFAULT 0,
				created_at ${int64} NOT NULL,
				updated_at ${int64} NOT NULL
			)`,
			`CREATE INDEX profiles_imported ON profiles (id) WHERE kind = 'imported'`,
			`CREATE TABLE devices (
				id TEXT PRIMARY KEY,
				app_id TEXT NOT NULL,
				token TEXT NOT NULL,
				device_id TEXT,
				platform TEXT NOT NULL CHECK (platform IN ('ios', 'android', 'web')),
				provider TEXT NOT NULL CHECK (provider IN ('apns', 'fcm', 'webpush')),
				environment TEXT CHECK (environment IN ('production', 'sandbox')),
				web_p256dh TEXT,
				web_auth TEXT,
				profile_id TEXT NOT NULL REFERENCES profiles (id),
				foreground SMALLINT NOT NULL,
				push_enabled SMALLINT,
				provisional SMALLINT NOT NULL DEFAULT 0,
				last_status TEXT NOT NULL CHECK (last_status IN ('unused', 'sent', 'bounced', 'suppressed')),
				consecutive_bounces INTEGER NOT NULL DEFAULT 0,
				registered_at ${int64} NOT NULL,
				last_seen_at ${int64} NOT NULL,
				last_active_at ${int64}
			)`,
			`CREATE UNIQUE INDEX devices_app_token ON devices (app_id, token)`,
			`CREATE UNIQUE INDEX devices_app_device ON devices (app_id, device_id) WHERE device_id IS NOT NULL`,
			`CREATE INDEX devices_profile ON devices (profile_id, app_id)`,
			`CREATE INDEX devices_app_id ON devices (app_id, id)`,
			`CREATE INDEX devices_last_seen ON devices (last_seen_at)`,
			`CREATE TABLE token_events (
				id ${serialId},
				at ${int64} NOT NULL,
				type TEXT NOT NULL,
				app_id TEXT NOT NULL,
				token TEXT NOT NULL,
				device_id TEXT,
				from_profile_id TEXT,
				to_profile_id TEXT,
				from_external_id TEXT,
				to_external_id TEXT,
				reason TEXT
			)`,
			`CREATE INDEX token_events_token ON token_events (app_id, token)`,
			`CREATE INDEX token_events_to_user ON token_events (to_external_id) WHERE to_external_id IS NOT NULL`,
			`CREATE INDEX token_events_from_user ON token_events (from_external_id) WHERE from_external_id IS NOT NULL`,
			`CREATE TABLE dead_tokens (
				app_id TEXT NOT NULL,
				token TEXT NOT NULL,
				reason TEXT NOT NULL,
				at ${int64} NOT NULL,
				PRIMARY KEY (app_id, token)
			)`,
		],
	},
	{
		version: 2,
		name: 'send log (a send id reaches each device once)',
		statements: ({ int64 }) => [
			`CREATE TABLE send_log (
				send_id TEXT NOT NULL,
				app_id TEXT NOT NULL,
				token TEXT NOT NULL,
				at ${int64} NOT NULL,
				PRIMARY KEY (send_id, app_id, token)
			)`,
		],
	},
	{
		version: 3,
		name: 'retention: the send log and the changelog pruned by age',
		statements: () => [`CREATE INDEX send_log_at ON send_log (at)`, `CREATE INDEX token_events_at ON token_events (at)`],
	},
];

export const MIGRATIONS_TABLE = 'push_tokens_migrations';
/** Every table the migrations create. */
export const STORE_TABLES = ['profiles', 'devices', 'token_events', 'dead_tokens', 'send_log'];

export function migrationTableDdl(engine: EngineName): string {
	return `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at ${DIALECTS[engine].int64} NOT NULL)`;
}

export function pendingStatements(engine: EngineName, appliedVersion: number): Array<{ version: number; name: string; statements: string[] }> {
	return MIGRATIONS.filter((m) => m.version > appliedVersion).map((m) => ({
		version: m.version,
		name: m.name,
		statements: m.statements(DIALECTS[engine]),
	}));
}
