/** SQLite's import batch writer. */
import type BetterSqlite3 from 'better-sqlite3';
import { COLUMNS, deviceRow, importedEvent, profileRow, tally, type BatchCounts, type ImportBatchRow } from '../../../lifecycle/import-rows';

type Prepare = (sql: string) => BetterSqlite3.Statement;

/** SQLite: a prepared insert of one row, bound by position (binding by name cost a fifth more). */
function rowInserter(statement: Prepare, table: keyof typeof COLUMNS, suffix = '') {
	const columns = COLUMNS[table];
	const insert = statement(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})${suffix}`);
	const values: unknown[] = new Array(columns.length);
	return (row: object) => {
		for (let i = 0; i < columns.length; i++) values[i] = (row as Record<string, unknown>)[columns[i]];
		return insert.run(values).changes;
	};
}

/**
 * SQLite: one pass of prepared statements on the store's connection (no query compiling, no
 * awaits). The device goes in first with ON CONFLICT DO NOTHING, which answers "token or
 * device id already held" (both unique) in the insert itself; its profile and changelog row
 * follow only when it went in. Foreign keys are checked at commit, as the profile comes second.
 */
export function writeBatchSqlite(statement: Prepare, batch: ImportBatchRow[], now: number): BatchCounts {
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
