/**
 * import (Braze's push_token_import): tokens migrated from another provider, streamed in batches.
 * A row without a user id gets its own temporary profile flagged imported, so it can be messaged
 * until its user logs in (identify then merges it). A row with a user id attaches to that user.
 * A token already in the store, or known dead, is skipped and counted: re-running an import
 * changes nothing. Each batch is one transaction.
 */
import { newId } from '../ids';
import { fieldIssues, type FieldIssue } from '../errors';
import { UnreadableRow } from '../import/sources';
import { ImportRow } from '../model';
import { sql } from 'kysely';
import type { Engine, Tx } from '../store/engines';
import type { DevicesTable, ProfilesTable } from '../store/schema';
import { byApp, eventRow, tokenKey } from './records';

export interface ImportOptions {
	batchSize?: number;
	/** Run every check, count what would happen, write nothing. */
	dryRun?: boolean;
	/** How many invalid rows to describe in the summary (all are counted). */
	invalidRowLimit?: number;
	/**
	 * Braze's push_token_import: rows carry no user id; each token gets a temporary profile.
	 * A row with a user id is then invalid (it belongs in an import with user ids).
	 */
	anonymousOnly?: boolean;
}

export interface InvalidRow {
	/** 1-based position of the row in the input. */
	row: number;
	issues: FieldIssue[];
}

export interface ImportSummary {
	rows: number;
	imported: number;
	skippedExisting: number;
	skippedDead: number;
	invalid: number;
	invalidRows: InvalidRow[];
	dryRun: boolean;
}

type ValidRow = ReturnType<typeof ImportRow.parse>;

/** Each table's columns with their PostgreSQL types (for inserting a batch as one array per column). */
const COLUMNS: Record<InsertTable, Record<string, string>> = {
	profiles: { id: 'text', external_id: 'text', kind: 'text', unsubscribed: 'smallint', created_at: 'bigint', updated_at: 'bigint' },
	devices: {
		id: 'text', app_id: 'text', token: 'text', device_id: 'text', platform: 'text', provider: 'text', environment: 'text', web_p256dh: 'text', web_auth: 'text',
		profile_id: 'text', foreground: 'smallint', push_enabled: 'smallint', provisional: 'smallint', last_status: 'text', consecutive_bounces: 'integer',
		registered_at: 'bigint', last_seen_at: 'bigint', last_active_at: 'bigint',
	},
	token_events: {
		at: 'bigint', type: 'text', app_id: 'text', token: 'text', device_id: 'text', from_profile_id: 'text', to_profile_id: 'text',
		from_external_id: 'text', to_external_id: 'text', reason: 'text',
	},
};
type InsertTable = 'profiles' | 'devices' | 'token_events';

/** SQLite: a prepared insert of one row, bound by position (binding by name cost a fifth more). */
function rowInserter(statement: NonNullable<Engine['sqliteStatement']>, table: InsertTable, suffix = '') {
	const columns = Object.keys(COLUMNS[table]);
	const insert = statement(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})${suffix}`);
	const values: unknown[] = new Array(columns.length);
	return (row: object) => {
		for (let i = 0; i < columns.length; i++) values[i] = (row as Record<string, unknown>)[columns[i]];
		return insert.run(values).changes;
	};
}

function profileRow(userId: string | undefined, now: number): ProfilesTable {
	return { id: newId(), external_id: userId ?? null, kind: userId ? 'identified' : 'imported', unsubscribed: 0, created_at: now, updated_at: now };
}

function deviceRow(row: ValidRow, profileId: string, now: number): DevicesTable {
	return {
		id: newId(),
		app_id: row.appId,
		token: row.token,
		device_id: row.deviceId ?? null,
		platform: row.platform,
		provider: row.provider,
		environment: row.environment ?? null,
		web_p256dh: row.webPushKeys?.p256dh ?? null,
		web_auth: row.webPushKeys?.auth ?? null,
		profile_id: profileId,
		foreground: 1,
		push_enabled: null,
		provisional: 0,
		last_status: 'unused',
		consecutive_bounces: 0,
		registered_at: now,
		last_seen_at: now,
		last_active_at: null,
	};
}

const importedEvent = (device: DevicesTable, userId: string | null, now: number) =>
	eventRow({ type: 'imported', device, to: { id: device.profile_id, external_id: userId }, reason: 'push token import' }, now);

export async function importTokens(
	engine: Engine,
	rows: Iterable<unknown> | AsyncIterable<unknown>,
	options: ImportOptions,
	now: () => number,
): Promise<ImportSummary> {
	const batchSize = options.batchSize ?? 1000;
	const invalidRowLimit = options.invalidRowLimit ?? 100;
	const summary: ImportSummary = { rows: 0, imported: 0, skippedExisting: 0, skippedDead: 0, invalid: 0, invalidRows: [], dryRun: !!options.dryRun };
	let batch: ValidRow[] = [];

	const flush = async () => {
		if (batch.length === 0) return;
		const counts = await importBatch(engine, batch, !!options.dryRun, now());
		summary.imported += counts.imported;
		summary.skippedExisting += counts.skippedExisting;
		summary.skippedDead += counts.skippedDead;
		batch = [];
	};

	const invalid = (issues: FieldIssue[]) => {
		summary.invalid++;
		if (summary.invalidRows.length < invalidRowLimit) summary.invalidRows.push({ row: summary.rows, issues });
	};
	for await (const raw of rows) {
		summary.rows++;
		if (raw instanceof UnreadableRow) {
			invalid([{ field: '', message: raw.reason }]);
			continue;
		}
		const parsed = ImportRow.safeParse(raw);
		if (!parsed.success) {
			invalid(fieldIssues(parsed.error));
			continue;
		}
		if (options.anonymousOnly && parsed.data.userId !== undefined) {
			invalid([{ field: 'userId', message: 'expected no user id in a push_token_import (each token gets a temporary profile); import rows with user ids in the "with user ids" mode' }]);
			continue;
		}
		batch.push(parsed.data);
		if (batch.length >= batchSize) await flush();
	}
	await flush();
	return summary;
}

interface BatchCounts {
	imported: number;
	skippedExisting: number;
	skippedDead: number;
}

class DryRunRollback extends Error {
	constructor(readonly counts: BatchCounts) {
		super('dry run');
	}
}

async function importBatch(engine: Engine, batch: ValidRow[], dryRun: boolean, now: number): Promise<BatchCounts> {
	try {
		return await engine.transaction(async (tx) => {
			const counts = engine.sqliteStatement ? writeBatchSqlite(engine.sqliteStatement, batch, now) : await writeBatchPostgres(tx, batch, now);
			if (dryRun) throw new DryRunRollback(counts);
			return counts;
		});
	} catch (error) {
		if (error instanceof DryRunRollback) return error.counts;
		throw error;
	}
}

/**
 * SQLite: one pass of prepared statements on the store's connection (no query compiling, no
 * awaits). The device goes in first with ON CONFLICT DO NOTHING, which answers "token or
 * device id already held" (both unique) in the insert itself; its profile and changelog row
 * follow only when it went in. Foreign keys are checked at commit, as the profile comes second.
 */
function writeBatchSqlite(statement: NonNullable<Engine['sqliteStatement']>, batch: ValidRow[], now: number): BatchCounts {
	const counts: BatchCounts = { imported: 0, skippedExisting: 0, skippedDead: 0 };
	statement('PRAGMA defer_foreign_keys = ON').run();
	const isDead = statement('SELECT 1 FROM dead_tokens WHERE app_id = ? AND token = ?');
	const userProfile = statement('SELECT id FROM profiles WHERE external_id = ?');
	const insertDevice = rowInserter(statement, 'devices', ' ON CONFLICT DO NOTHING');
	const insertProfile = rowInserter(statement, 'profiles');
	const insertEvent = rowInserter(statement, 'token_events');
	for (const row of batch) {
		if (isDead.get(row.appId, row.token) !== undefined) {
			counts.skippedDead++;
			continue;
		}
		const existingUser = row.userId === undefined ? undefined : (userProfile.get(row.userId) as { id: string } | undefined);
		const profile = existingUser ? undefined : profileRow(row.userId, now);
		const device = deviceRow(row, existingUser?.id ?? profile!.id, now);
		if (insertDevice(device) === 0) {
			counts.skippedExisting++;
			continue;
		}
		if (profile) insertProfile(profile);
		insertEvent(importedEvent(device, row.userId ?? null, now));
		counts.imported++;
	}
	return counts;
}

/** PostgreSQL: which (app, value) pairs of the batch the table holds, one `IN` list per app. */
async function existingKeys(tx: Tx, table: 'devices' | 'dead_tokens', column: 'token' | 'device_id', groups: Map<string, string[]>): Promise<Set<string>> {
	const found = new Set<string>();
	for (const [appId, values] of groups) {
		const rows = await tx
			.selectFrom(table as 'devices')
			.select(column as 'token')
			.where('app_id', '=', appId)
			.where(column as 'token', 'in', values)
			.execute();
		for (const row of rows) found.add(tokenKey(appId, row.token));
	}
	return found;
}

/** Inserts a batch of one table as one array per column (a VALUES list of 18,000 parameters cost twice the time). */
async function insertUnnest(tx: Tx, table: InsertTable, rows: object[]): Promise<void> {
	if (rows.length === 0) return;
	const columns = Object.keys(COLUMNS[table]);
	const arrays = columns.map((c) => sql`${rows.map((r) => (r as Record<string, unknown>)[c] ?? null)}::${sql.raw(COLUMNS[table][c])}[]`);
	await sql`INSERT INTO ${sql.table(table)} (${sql.join(columns.map((c) => sql.ref(c)))}) SELECT * FROM unnest(${sql.join(arrays)})`.execute(tx);
}

/** PostgreSQL: set-based, a few statements per batch (each round trip costs more than the rows). */
async function writeBatchPostgres(tx: Tx, batch: ValidRow[], now: number): Promise<BatchCounts> {
	const counts: BatchCounts = { imported: 0, skippedExisting: 0, skippedDead: 0 };
	const dead = await existingKeys(tx, 'dead_tokens', 'token', byApp(batch, (r) => r.token));
	const knownTokens = await existingKeys(tx, 'devices', 'token', byApp(batch, (r) => r.token));
	const knownDevices = await existingKeys(tx, 'devices', 'device_id', byApp(batch, (r) => r.deviceId));

	// Users named by rows: found or created once per batch.
	const userIds = [...new Set(batch.flatMap((r) => (r.userId ? [r.userId] : [])))];
	const users = new Map<string, string>();
	if (userIds.length > 0) {
		for (const row of await tx.selectFrom('profiles').select(['id', 'external_id']).where('external_id', 'in', userIds).execute()) {
			users.set(row.external_id!, row.id);
		}
	}

	const profiles: ProfilesTable[] = [];
	const devices: DevicesTable[] = [];
	const events: object[] = [];
	for (const row of batch) {
		const thisToken = tokenKey(row.appId, row.token);
		if (dead.has(thisToken)) {
			counts.skippedDead++;
			continue;
		}
		// A token already held, or a device already registered with a (fresher) token, is kept as it is.
		const thisDevice = row.deviceId === undefined ? undefined : tokenKey(row.appId, row.deviceId);
		if (knownTokens.has(thisToken) || (thisDevice !== undefined && knownDevices.has(thisDevice))) {
			counts.skippedExisting++;
			continue;
		}
		knownTokens.add(thisToken);
		if (thisDevice !== undefined) knownDevices.add(thisDevice);

		let profileId = row.userId === undefined ? undefined : users.get(row.userId);
		if (profileId === undefined) {
			const profile = profileRow(row.userId, now);
			profiles.push(profile);
			profileId = profile.id;
			if (row.userId) users.set(row.userId, profileId);
		}
		const device = deviceRow(row, profileId, now);
		devices.push(device);
		events.push(importedEvent(device, row.userId ?? null, now));
		counts.imported++;
	}
	await insertUnnest(tx, 'profiles', profiles);
	await insertUnnest(tx, 'devices', devices);
	await insertUnnest(tx, 'token_events', events);
	return counts;
}
