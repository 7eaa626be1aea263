/**
 * Schema migrations, applied in order on open. Each is a list of statements (and, where rows must
 * be carried over, a step in code), written once against the engine's Dialect (in its folder,
 * store/engines/…/dialect.ts): how an auto-numbered id, a 64-bit integer and a key-only table are
 * spelled, and whether a constraint can be dropped.
 */
import { sql } from 'kysely';
import { fcm } from '../providers/fcm';
import { sendLogKey } from './keys';
import type { Tx } from './schema';

/** How an engine spells what the engines spell differently (each engine's folder has its own). */
export interface Dialect {
	serialId: string;
	int64: string;
	/** SQLite: a table stored in its primary key's B-tree alone (no rowid, no second copy of the key). */
	keyOnly: string;
	/** ALTER TABLE … DROP CONSTRAINT exists (SQLite has none: the table is made again). */
	dropsConstraints: boolean;
}

export interface Migration {
	version: number;
	name: string;
	statements: (d: Dialect) => string[];
	/** Rows to carry over that SQL alone cannot (run after the statements, in the same transaction). */
	data?: (tx: Tx) => Promise<void>;
	/** Statements after `data`. */
	finally?: string[];
}

const DEVICE_INDEXES = [
	`CREATE UNIQUE INDEX devices_app_token ON devices (app_id, token)`,
	`CREATE UNIQUE INDEX devices_app_device ON devices (app_id, device_id) WHERE device_id IS NOT NULL`,
	`CREATE INDEX devices_profile ON devices (profile_id, app_id)`,
	`CREATE INDEX devices_app_id ON devices (app_id, id)`,
	`CREATE INDEX devices_last_seen ON devices (last_seen_at)`,
];

/** The kind of the addresses stored before kinds were (an FCM installation id among them is found by fcmInstallationIds). */
const KIND_OF_PROVIDER = `CASE provider WHEN 'apns' THEN 'device-token' WHEN 'webpush' THEN 'subscription' ELSE 'registration-token' END`;

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
			...DEVICE_INDEXES,
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
		// A campaign writes a send-log row per device: two integers, not its send id, app and token.
		name: 'send log of integers (a send, a hash of the device); retention by age',
		statements: ({ serialId, int64, keyOnly }) => [
			`ALTER TABLE send_log RENAME TO send_log_v2`,
			`CREATE TABLE sends (id ${serialId}, send_id TEXT NOT NULL UNIQUE, at ${int64} NOT NULL)`,
			`CREATE INDEX sends_at ON sends (at)`,
			`CREATE TABLE send_log (
				send ${int64} NOT NULL REFERENCES sends (id) ON DELETE CASCADE,
				device_key ${int64} NOT NULL,
				CONSTRAINT send_log_key PRIMARY KEY (send, device_key)
			)${keyOnly}`,
			`CREATE INDEX token_events_at ON token_events (at)`,
		],
		data: carryOverSendLog,
		finally: [`DROP TABLE send_log_v2`],
	},
	{
		version: 4,
		// The registry of provider modules says which providers exist (zod checks it): a new one needs no table rebuild.
		name: 'token kinds (FCM registration token or installation id); no provider CHECK',
		statements: (d) =>
			d.dropsConstraints
				? [
						`ALTER TABLE devices DROP CONSTRAINT IF EXISTS devices_provider_check`,
						`ALTER TABLE devices ADD COLUMN token_kind TEXT NOT NULL DEFAULT 'registration-token'`,
						`ALTER TABLE devices ALTER COLUMN token_kind DROP DEFAULT`,
						`UPDATE devices SET token_kind = ${KIND_OF_PROVIDER} WHERE provider <> 'fcm'`,
					]
				: // SQLite cannot drop a constraint: the table is made again, this once.
					[
						`CREATE TABLE devices_v4 (
							id TEXT PRIMARY KEY,
							app_id TEXT NOT NULL,
							token TEXT NOT NULL,
							device_id TEXT,
							platform TEXT NOT NULL CHECK (platform IN ('ios', 'android', 'web')),
							provider TEXT NOT NULL,
							token_kind TEXT NOT NULL,
							environment TEXT CHECK (environment IN ('production', 'sandbox')),
							web_p256dh TEXT,
							web_auth TEXT,
							profile_id TEXT NOT NULL REFERENCES profiles (id),
							foreground SMALLINT NOT NULL,
							push_enabled SMALLINT,
							provisional SMALLINT NOT NULL DEFAULT 0,
							last_status TEXT NOT NULL CHECK (last_status IN ('unused', 'sent', 'bounced', 'suppressed')),
							consecutive_bounces INTEGER NOT NULL DEFAULT 0,
							registered_at ${d.int64} NOT NULL,
							last_seen_at ${d.int64} NOT NULL,
							last_active_at ${d.int64}
						)`,
						`INSERT INTO devices_v4 SELECT id, app_id, token, device_id, platform, provider, ${KIND_OF_PROVIDER}, environment, web_p256dh, web_auth, profile_id, foreground, push_enabled, provisional, last_status, consecutive_bounces, registered_at, last_seen_at, last_active_at FROM devices`,
						`DROP TABLE devices`,
						`ALTER TABLE devices_v4 RENAME TO devices`,
						...DEVICE_INDEXES,
					],
		data: fcmInstallationIds,
	},
	{
		version: 5,
		// A handful of rows per send id, never one per device: the report outlives the send log (see lifecycle/reports.ts).
		name: 'send reports (aggregates per send id); opened and failed marks in the send log',
		statements: ({ int64, keyOnly }) => [
			`ALTER TABLE send_log ADD COLUMN failure TEXT`,
			`ALTER TABLE send_log ADD COLUMN opened SMALLINT NOT NULL DEFAULT 0`,
			`CREATE TABLE send_reports (
				send_id TEXT PRIMARY KEY,
				title TEXT,
				started_at ${int64} NOT NULL,
				ended_at ${int64} NOT NULL
			)`,
			`CREATE INDEX send_reports_started ON send_reports (started_at)`,
			`CREATE TABLE send_report_counts (
				send_id TEXT NOT NULL REFERENCES send_reports (send_id) ON DELETE CASCADE,
				metric TEXT NOT NULL,
				shard SMALLINT NOT NULL,
				count ${int64} NOT NULL,
				PRIMARY KEY (send_id, metric, shard)
			)${keyOnly}`,
		],
	},
	{
		version: 6,
		// What a device tells about its user (delivery at local time, localized content) and the
		// times of its latest marketing pushes (a frequency cap reads them: no scan of a send history).
		name: 'device time zone, language and recent marketing pushes',
		statements: () => [`ALTER TABLE devices ADD COLUMN time_zone TEXT`, `ALTER TABLE devices ADD COLUMN language TEXT`, `ALTER TABLE devices ADD COLUMN marketing_sent TEXT`],
	},
	{
		version: 7,
		// A new provider keeps what it needs of a device without a column of its own; each module reads its JSON (its parseData).
		name: "provider-owned device data (address_data JSON) in place of APNs' environment and Web Push's keys",
		statements: () => [
			`ALTER TABLE devices ADD COLUMN address_data TEXT`,
			// The JSON written by hand, the same on both engines: the environment was CHECKed to
			// production or sandbox, the keys to base64url, so no value needs escaping.
			`UPDATE devices SET address_data = CASE
				WHEN provider = 'apns' THEN '{"environment":"' || environment || '"}'
				ELSE '{"p256dh":"' || web_p256dh || '","auth":"' || web_auth || '"}'
			END
			WHERE (provider = 'apns' AND environment IS NOT NULL) OR (provider = 'webpush' AND web_p256dh IS NOT NULL AND web_auth IS NOT NULL)`,
			// (no index names them: both engines drop the columns in place and keep the table's indexes)
			`ALTER TABLE devices DROP COLUMN environment`,
			`ALTER TABLE devices DROP COLUMN web_p256dh`,
			`ALTER TABLE devices DROP COLUMN web_auth`,
		],
	},
	{
		version: 8,
		// A provider that answers later (a receipt per push): the latest push's receipt per device,
		// so the table follows the devices, not the traffic (see lifecycle/receipts.ts).
		// The failed claims, apart: a claim reads them for each page of a campaign, and PostgreSQL,
		// whose statistics do not yet know the campaign's send id, read them through every row the
		// send id had claimed so far (a 1,000,000-device campaign slowed page after page).
		name: 'receipts awaited from providers that answer later; failed claims indexed',
		statements: ({ int64 }) => [
			`CREATE INDEX send_log_failed ON send_log (send, device_key) WHERE failure IS NOT NULL`,
			`CREATE TABLE receipts (
				app_id TEXT NOT NULL,
				token TEXT NOT NULL,
				provider TEXT NOT NULL,
				receipt_id TEXT NOT NULL,
				sent_at ${int64} NOT NULL,
				PRIMARY KEY (app_id, token)
			)`,
			`CREATE INDEX receipts_due ON receipts (provider, sent_at)`,
		],
	},
];

/** The version 2 send log's rows, into the version 3 tables. */
async function carryOverSendLog(tx: Tx): Promise<void> {
	await sql`INSERT INTO sends (send_id, at) SELECT send_id, MIN(at) FROM send_log_v2 GROUP BY send_id`.execute(tx);
	let after = { send_id: '', app_id: '', token: '' };
	for (;;) {
		const { rows } = await sql<{ send: number; send_id: string; app_id: string; token: string }>`
			SELECT s.id AS send, o.send_id, o.app_id, o.token FROM send_log_v2 o JOIN sends s ON s.send_id = o.send_id
			WHERE (o.send_id, o.app_id, o.token) > (${after.send_id}, ${after.app_id}, ${after.token})
			ORDER BY o.send_id, o.app_id, o.token LIMIT 5000`.execute(tx);
		if (rows.length === 0) return;
		await sql`INSERT INTO send_log (send, device_key) VALUES ${sql.join(rows.map((r) => sql`(${r.send}, ${sendLogKey(r.app_id, r.token)})`))} ON CONFLICT DO NOTHING`.execute(tx);
		after = rows[rows.length - 1];
	}
}

/** FCM addresses stored before kinds were that have an installation id's shape (22 characters: fcm's rule). */
async function fcmInstallationIds(tx: Tx): Promise<void> {
	const rows = await tx.selectFrom('devices').select(['id', 'token']).where('provider', '=', 'fcm').where(sql<boolean>`length(token) = 22`).execute();
	const fids = rows
		.filter((r) => {
			const address = fcm.address(r.token, undefined);
			return !Array.isArray(address) && address.kind === 'fid';
		})
		.map((r) => r.id);
	for (let i = 0; i < fids.length; i += 1000) await tx.updateTable('devices').set({ token_kind: 'fid' }).where('id', 'in', fids.slice(i, i + 1000)).execute();
}

export const MIGRATIONS_TABLE = 'push_tokens_migrations';
/** Every table the migrations create. */
export const STORE_TABLES = ['profiles', 'devices', 'token_events', 'dead_tokens', 'sends', 'send_log', 'send_reports', 'send_report_counts', 'receipts'];

export function migrationTableDdl(d: Dialect): string {
	return `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at ${d.int64} NOT NULL)`;
}

export function pendingStatements(d: Dialect, appliedVersion: number): Array<{ version: number; name: string; statements: string[]; data?: (tx: Tx) => Promise<void>; finally: string[] }> {
	return MIGRATIONS.filter((m) => m.version > appliedVersion).map((m) => ({
		version: m.version,
		name: m.name,
		statements: m.statements(d),
		data: m.data,
		finally: m.finally ?? [],
	}));
}
