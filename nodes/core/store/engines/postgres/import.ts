/** PostgreSQL's import batch writer. */
import { sql } from 'kysely';
import { newId } from '../../../ids';
import { COLUMNS, DEVICE_TYPES, deviceRow, tally, type BatchCounts, type ImportBatchRow } from '../../../lifecycle/import-rows';
import { byApp } from '../../../lifecycle/records';
import { tokenKey } from '../../keys';
import type { DevicesTable, Tx } from '../../schema';

/** An incoming PostgreSQL batch: the devices, and whom each belongs to. */
const INCOMING_TYPES = { ...DEVICE_TYPES, user_id: 'text', new_profile: 'boolean' };

/**
 * PostgreSQL: set-based, three statements per batch. Dead tokens and the rows' users are
 * looked up, then one statement inserts the devices with ON CONFLICT DO NOTHING (a token or
 * device id already held is skipped by its unique index, with no lookup of 5,000 keys first:
 * those lookups were a third of a 1M import), and from the devices that went in, their new
 * profiles and their changelog rows. Foreign keys are checked at the end of the statement.
 */
export async function writeBatchPostgres(tx: Tx, batch: ImportBatchRow[], now: number): Promise<BatchCounts> {
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
