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
import { SourceSkip, type PresetOutput } from '../import/presets/preset';
import { DEFAULT_PROVIDER, ImportRow } from '../model';
import { sql } from 'kysely';
import type { Engine, Tx } from '../store/engines';
import type { DevicesTable, ProfilesTable } from '../store/schema';
import { byApp, eventRow, storedData, tokenKey } from './records';

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
	/** The tokens one input record holds (an import preset's reading); by default the record is one row. */
	read?: (record: unknown) => Iterable<PresetOutput>;
	/** Which preset read the input, named in the summary. */
	source?: string;
}

export interface InvalidRow {
	/** 1-based position of the row in the input. */
	row: number;
	issues: FieldIssue[];
}

/** What happened to the tokens of one platform and provider. */
export interface ImportCounts {
	imported: number;
	/** The token (or its device id) is already in the store. */
	skippedExisting: number;
	/** Known dead (tombstoned): refused. */
	skippedDead: number;
	/** Marked unusable by the export itself. */
	skippedBySource: number;
}

export interface ImportSummary extends ImportCounts {
	/** The preset that read the input. */
	source?: string;
	/** Records read (a CSV row, a JSON object); one record may hold several tokens, or none. */
	rows: number;
	tokens: number;
	invalid: number;
	/** Keyed `platform/provider` ("android/fcm"); "other" for a skipped row that names none. */
	byPlatform: Record<string, ImportCounts>;
	/** Skips by the export's own flag, by reason. */
	skippedBySourceReasons: Record<string, number>;
	/** Invalid tokens by field and what was expected (the value itself left out). */
	invalidReasons: Record<string, number>;
	invalidRows: InvalidRow[];
	dryRun: boolean;
}

type ValidRow = ReturnType<typeof ImportRow.parse>;

/** The devices' columns with their PostgreSQL types (a batch goes in as one array per column). */
const DEVICE_TYPES: Record<keyof DevicesTable, string> = {
	id: 'text', app_id: 'text', token: 'text', device_id: 'text', platform: 'text', provider: 'text', token_kind: 'text', address_data: 'text',
	profile_id: 'text', foreground: 'smallint', push_enabled: 'smallint', provisional: 'smallint', last_status: 'text', consecutive_bounces: 'integer',
	registered_at: 'bigint', last_seen_at: 'bigint', last_active_at: 'bigint', time_zone: 'text', language: 'text', marketing_sent: 'text',
};

/** The columns an import writes, per table (SQLite binds them by position). */
const COLUMNS = {
	profiles: ['id', 'external_id', 'kind', 'unsubscribed', 'created_at', 'updated_at'],
	devices: Object.keys(DEVICE_TYPES),
	token_events: ['at', 'type', 'app_id', 'token', 'device_id', 'from_profile_id', 'to_profile_id', 'from_external_id', 'to_external_id', 'reason'],
};

/** An incoming PostgreSQL batch: the devices, and whom each belongs to. */
const INCOMING_TYPES = { ...DEVICE_TYPES, user_id: 'text', new_profile: 'boolean' };

/** SQLite: a prepared insert of one row, bound by position (binding by name cost a fifth more). */
function rowInserter(statement: NonNullable<Engine['sqliteStatement']>, table: keyof typeof COLUMNS, suffix = '') {
	const columns = COLUMNS[table];
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
		token_kind: row.tokenKind,
		address_data: storedData(row.data),
		profile_id: profileId,
		foreground: 1,
		push_enabled: null,
		provisional: 0,
		last_status: 'unused',
		consecutive_bounces: 0,
		registered_at: now,
		last_seen_at: now,
		last_active_at: null,
		time_zone: row.timeZone ?? null,
		language: row.language ?? null,
		marketing_sent: null,
	};
}

const importedEvent = (device: DevicesTable, userId: string | null, now: number) =>
	eventRow({ type: 'imported', device, to: { id: device.profile_id, external_id: userId }, reason: 'push token import' }, now);

/** Distinct invalid reasons kept in the summary; the rest are counted under one more. */
const MAX_REASONS = 100;
const OTHER_REASONS = 'other reasons';
const zeroCounts = (): ImportCounts => ({ imported: 0, skippedExisting: 0, skippedDead: 0, skippedBySource: 0 });
const platformKey = (platform?: string, provider?: string) => (platform ? `${platform}/${provider ?? DEFAULT_PROVIDER[platform as keyof typeof DEFAULT_PROVIDER] ?? '?'}` : 'other');
const one = (record: unknown): PresetOutput[] => [record as PresetOutput];

function countReason(reasons: Record<string, number>, reason: string) {
	if (!(reason in reasons) && Object.keys(reasons).length >= MAX_REASONS) reason = OTHER_REASONS;
	reasons[reason] = (reasons[reason] ?? 0) + 1;
}

export async function importTokens(
	engine: Engine,
	records: Iterable<unknown> | AsyncIterable<unknown>,
	options: ImportOptions,
	now: () => number,
): Promise<ImportSummary> {
	const batchSize = options.batchSize ?? 1000;
	const invalidRowLimit = options.invalidRowLimit ?? 100;
	const read = options.read ?? one;
	const summary: ImportSummary = {
		...(options.source ? { source: options.source } : {}),
		rows: 0, tokens: 0, ...zeroCounts(), invalid: 0,
		byPlatform: {}, skippedBySourceReasons: {}, invalidReasons: {}, invalidRows: [], dryRun: !!options.dryRun,
	};
	const countsOf = (key: string) => (summary.byPlatform[key] ??= zeroCounts());
	let batch: ValidRow[] = [];

	const flush = async () => {
		if (batch.length === 0) return;
		for (const [key, counts] of await importBatch(engine, batch, !!options.dryRun, now())) {
			const into = countsOf(key);
			for (const name of ['imported', 'skippedExisting', 'skippedDead'] as const) {
				into[name] += counts[name];
				summary[name] += counts[name];
			}
		}
		batch = [];
	};

	const invalid = (issues: FieldIssue[]) => {
		summary.invalid++;
		for (const issue of issues) countReason(summary.invalidReasons, `${issue.field ? `${issue.field}: ` : ''}${issue.message.replace(/, got [^]*$/, '')}`);
		if (summary.invalidRows.length < invalidRowLimit) summary.invalidRows.push({ row: summary.rows, issues });
	};
	for await (const record of records) {
		summary.rows++;
		for (const raw of record instanceof UnreadableRow ? [record] : read(record)) {
			summary.tokens++;
			if (raw instanceof UnreadableRow) {
				invalid([{ field: '', message: raw.reason }]);
				continue;
			}
			if (raw instanceof SourceSkip) {
				summary.skippedBySource++;
				countsOf(platformKey(raw.platform, raw.provider)).skippedBySource++;
				countReason(summary.skippedBySourceReasons, raw.reason);
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
	}
	await flush();
	return summary;
}

/** A batch's counts by `platform/provider`. */
type BatchCounts = Map<string, Omit<ImportCounts, 'skippedBySource'>>;

function tally(counts: BatchCounts, row: { platform: string; provider: string }, outcome: 'imported' | 'skippedExisting' | 'skippedDead', n = 1) {
	const key = platformKey(row.platform, row.provider);
	let entry = counts.get(key);
	if (!entry) counts.set(key, (entry = { imported: 0, skippedExisting: 0, skippedDead: 0 }));
	entry[outcome] += n;
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
	const counts: BatchCounts = new Map();
	statement('PRAGMA defer_foreign_keys = ON').run();
	const isDead = statement('SELECT 1 FROM dead_tokens WHERE app_id = ? AND token = ?');
	const userProfile = statement('SELECT id FROM profiles WHERE external_id = ?');
	const insertDevice = rowInserter(statement, 'devices', ' ON CONFLICT DO NOTHING');
	const insertProfile = rowInserter(statement, 'profiles');
	const insertEvent = rowInserter(statement, 'token_events');
	for (const row of batch) {
		if (isDead.get(row.appId, row.token) !== undefined) {
			tally(counts, row, 'skippedDead');
			continue;
		}
		const existingUser = row.userId === undefined ? undefined : (userProfile.get(row.userId) as { id: string } | undefined);
		const profile = existingUser ? undefined : profileRow(row.userId, now);
		const device = deviceRow(row, existingUser?.id ?? profile!.id, now);
		if (insertDevice(device) === 0) {
			tally(counts, row, 'skippedExisting');
			continue;
		}
		if (profile) insertProfile(profile);
		insertEvent(importedEvent(device, row.userId ?? null, now));
		tally(counts, row, 'imported');
	}
	return counts;
}

/**
 * PostgreSQL: set-based, three statements per batch. Dead tokens and the rows' users are
 * looked up, then one statement inserts the devices with ON CONFLICT DO NOTHING (a token or
 * device id already held is skipped by its unique index, with no lookup of 5,000 keys first:
 * those lookups were a third of a 1M import), and from the devices that went in, their new
 * profiles and their changelog rows. Foreign keys are checked at the end of the statement.
 */
async function writeBatchPostgres(tx: Tx, batch: ValidRow[], now: number): Promise<BatchCounts> {
	const dead = new Set<string>();
	for (const [appId, tokens] of byApp(batch, (r) => r.token)) {
		const found = await sql<{ token: string }>`SELECT token FROM dead_tokens WHERE app_id = ${appId} AND token = ANY(${tokens}::text[])`.execute(tx);
		for (const row of found.rows) dead.add(tokenKey(appId, row.token));
	}
	const userIds = [...new Set(batch.flatMap((r) => (r.userId ? [r.userId] : [])))];
	const users = new Map<string, string>();
	if (userIds.length > 0) {
		const found = await sql<{ id: string; external_id: string }>`SELECT id, external_id FROM profiles WHERE external_id = ANY(${userIds}::text[])`.execute(tx);
		for (const row of found.rows) users.set(row.external_id, row.id);
	}

	// Profiles this batch creates (a temporary one per anonymous row, one per new user): each goes in with the user's first device that does.
	const counts: BatchCounts = new Map();
	const created = new Set<string>();
	const incoming: Array<DevicesTable & { user_id: string | null; new_profile: boolean }> = [];
	for (const row of batch) {
		if (dead.has(tokenKey(row.appId, row.token))) {
			tally(counts, row, 'skippedDead');
			continue;
		}
		// Every device that goes in counts as skipped until the insert says it went in (below).
		tally(counts, row, 'skippedExisting');
		let profileId = row.userId === undefined ? undefined : users.get(row.userId);
		if (profileId === undefined) {
			profileId = newId();
			created.add(profileId);
			if (row.userId) users.set(row.userId, profileId);
		}
		incoming.push({ ...deviceRow(row, profileId, now), user_id: row.userId ?? null, new_profile: created.has(profileId) });
	}
	if (incoming.length > 0) {
		const deviceColumns = sql.join(COLUMNS.devices.map((c) => sql.ref(c)));
		const { select, from } = unnestRows(incoming, INCOMING_TYPES);
		const result = await sql<{ platform: string; provider: string; imported: number }>`
			WITH incoming AS (SELECT ${select} FROM ${from}),
			devices_in AS (
				INSERT INTO devices (${deviceColumns})
				SELECT ${deviceColumns} FROM incoming
				ON CONFLICT DO NOTHING
				RETURNING id
			),
			went_in AS (SELECT incoming.* FROM devices_in JOIN incoming USING (id)),
			profiles_in AS (
				INSERT INTO profiles (id, external_id, kind, unsubscribed, created_at, updated_at)
				SELECT DISTINCT ON (profile_id) profile_id, user_id, CASE WHEN user_id IS NULL THEN 'imported' ELSE 'identified' END, 0, ${now}::bigint, ${now}::bigint
				FROM went_in WHERE new_profile
			),
			events_in AS (
				INSERT INTO token_events (at, type, app_id, token, device_id, to_profile_id, to_external_id, reason)
				SELECT ${now}::bigint, 'imported', app_id, token, device_id, profile_id, user_id, 'push token import' FROM went_in
			)
			SELECT platform, provider, count(*)::int AS imported FROM went_in GROUP BY platform, provider`.execute(tx);
		for (const { imported, ...row } of result.rows) {
			tally(counts, row, 'imported', imported);
			tally(counts, row, 'skippedExisting', -imported);
		}
	}
	return counts;
}

/**
 * A batch as `FROM unnest(one array per column)`: a column with one value for the whole batch
 * (most are: platform, status, times…) goes as that one value, not 5,000 copies.
 */
function unnestRows(rows: object[], types: Record<string, string>) {
	const value = (r: object, c: string) => (r as Record<string, unknown>)[c] ?? null;
	const columns = Object.keys(types);
	// The first column always goes as an array: it makes the one row per element.
	const uniform = new Set(columns.slice(1).filter((c) => rows.every((r) => value(r, c) === value(rows[0], c))));
	const varying = columns.filter((c) => !uniform.has(c));
	const cast = (c: string) => sql.raw(types[c]);
	return {
		select: sql.join(columns.map((c) => (uniform.has(c) ? sql`${value(rows[0], c)}::${cast(c)} AS ${sql.ref(c)}` : sql.ref(`t.${c}`)))),
		from: sql`unnest(${sql.join(varying.map((c) => sql`${rows.map((r) => value(r, c))}::${cast(c)}[]`))}) AS t(${sql.join(varying.map((c) => sql.ref(c)))})`,
	};
}
