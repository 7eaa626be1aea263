/**
 * clean-up (monthly, Braze's rule for push_token_import): delete imported temporary profiles that
 * no longer hold a token, keep those that still do (their user has not logged in yet),
 * optionally prune devices not seen for N days, and keep the send log and the changelog to their
 * retention, so the store's size follows its devices, not its traffic. Works in batches, one
 * transaction each, so a clean-up of millions never holds them in memory or locks the store long.
 */
import type { z } from 'zod/v4';
import type { CleanupOptions } from '../model';
import type { Engine } from '../store/engines/engine';
import { pruneReceipts } from './receipts';
import { logEvents, withoutDevices } from './records';

export interface CleanupReport {
	/** Imported temporary profiles deleted because they held no token. */
	deletedImportedProfiles: number;
	/** The first `reportLimit` of them. */
	deletedProfileIds: string[];
	/** Imported temporary profiles kept because they still hold a token. */
	keptImportedProfiles: number;
	/** Send-log rows of send ids first used more than `sendLogDays` ago, and changelog rows older than `changelogDays`, deleted. */
	prunedSendLogRows: number;
	prunedChangelogRows: number;
	/** Receipts awaited longer than the send log is kept (no provider keeps one that long). */
	prunedReceipts: number;
	/** Devices removed because they were not seen for `staleAfterDays`. */
	prunedStaleDevices: number;
	staleAfterDays: number | null;
	startedAt: Date;
	finishedAt: Date;
}

const DAY_MS = 86_400_000;

export async function cleanup(engine: Engine, options: z.output<typeof CleanupOptions>, now: () => number): Promise<CleanupReport> {
	const startedAt = now();
	const report: CleanupReport = {
		deletedImportedProfiles: 0,
		deletedProfileIds: [],
		keptImportedProfiles: 0,
		prunedSendLogRows: 0,
		prunedChangelogRows: 0,
		prunedReceipts: 0,
		prunedStaleDevices: 0,
		staleAfterDays: options.staleAfterDays || null,
		startedAt: new Date(startedAt),
		finishedAt: new Date(startedAt),
	};

	if (options.staleAfterDays) {
		const cutoff = startedAt - options.staleAfterDays * DAY_MS;
		const reason = `not seen for ${options.staleAfterDays} days`;
		// Each pass removes what it selected, or finds it refreshed meanwhile: the loop always ends.
		for (;;) {
			const pruned = await engine.transaction(async (tx) => {
				const stale = await tx
					.selectFrom('devices')
					.innerJoin('profiles', 'profiles.id', 'devices.profile_id')
					.selectAll('devices')
					.select('profiles.external_id')
					.where('last_seen_at', '<', cutoff)
					.orderBy('last_seen_at')
					.limit(options.batchSize)
					// (a device a rule holds is skipped; one refreshed meanwhile is re-read and left out)
					.forUpdate('devices')
					.skipLocked()
					.execute();
				if (stale.length === 0) return 0;
				await tx.deleteFrom('devices').where('id', 'in', stale.map((d) => d.id)).execute();
				await logEvents(tx, stale.map((d) => ({ type: 'removed', device: d, from: { id: d.profile_id, external_id: d.external_id }, reason })), now());
				await tx
					.deleteFrom('profiles')
					.where('id', 'in', [...new Set(stale.map((d) => d.profile_id))])
					.where('kind', '=', 'anonymous')
					.where(withoutDevices)
					.execute();
				return stale.length;
			});
			report.prunedStaleDevices += pruned;
			if (pruned < options.batchSize) break;
		}
	}

	let after = '';
	for (;;) {
		const page = await engine.db
			.selectFrom('profiles')
			.select('id')
			.where('kind', '=', 'imported')
			.where('id', '>', after)
			.where(withoutDevices)
			.orderBy('id')
			.limit(options.batchSize)
			.execute();
		if (page.length === 0) break;
		after = page[page.length - 1].id;
		const ids = page.map((p) => p.id);
		// Deleted only if still empty now, inside the transaction: a profile that got a token meanwhile stays.
		const deleted = await engine.transaction((tx) =>
			tx
				.deleteFrom('profiles')
				.where('id', 'in', ids)
				.where('kind', '=', 'imported')
				.where(withoutDevices)
				.returning('id')
				.execute(),
		);
		report.deletedImportedProfiles += deleted.length;
		for (const row of deleted) {
			if (report.deletedProfileIds.length >= options.reportLimit) break;
			report.deletedProfileIds.push(row.id);
		}
	}

	if (options.sendLogDays) {
		report.prunedSendLogRows = await pruneSends(engine, startedAt - options.sendLogDays * DAY_MS, options.batchSize);
		// (at most one per device: one transaction)
		report.prunedReceipts = await engine.transaction((tx) => pruneReceipts(tx, startedAt - options.sendLogDays * DAY_MS));
	}
	if (options.changelogDays) report.prunedChangelogRows = await pruneChangelog(engine, startedAt - options.changelogDays * DAY_MS, options.batchSize);

	const kept = await engine.db
		.selectFrom('profiles')
		.select(({ fn }) => fn.countAll<number>().as('n'))
		.where('kind', '=', 'imported')
		.executeTakeFirstOrThrow();
	report.keptImportedProfiles = Number(kept.n);
	report.finishedAt = new Date(now());
	return report;
}

/** Deletes the send ids first used before the cutoff, with their send-log rows, a batch of send ids per transaction. */
async function pruneSends(engine: Engine, cutoff: number, batchSize: number): Promise<number> {
	let deleted = 0;
	for (;;) {
		const pass = await engine.transaction(async (tx) => {
			const ids = (await tx.selectFrom('sends').select('id').where('at', '<', cutoff).orderBy('id').limit(batchSize).execute()).map((r) => r.id);
			if (ids.length === 0) return null;
			const rows = await tx.deleteFrom('send_log').where('send', 'in', ids).executeTakeFirst();
			await tx.deleteFrom('sends').where('id', 'in', ids).execute();
			return Number(rows.numDeletedRows);
		});
		if (pass === null) return deleted;
		deleted += pass;
	}
}

/**
 * Deletes the changelog's rows older than the cutoff, about a batch per transaction: each pass
 * deletes up to the time of the batch's last row (all rows of that instant, so it always moves on).
 */
async function pruneChangelog(engine: Engine, cutoff: number, batchSize: number): Promise<number> {
	let deleted = 0;
	for (;;) {
		const pass = await engine.transaction(async (tx) => {
			const last = await tx.selectFrom('token_events').select('at').where('at', '<', cutoff).orderBy('at').offset(batchSize - 1).limit(1).executeTakeFirst();
			const result = await tx
				.deleteFrom('token_events')
				.$call((q) => (last ? q.where('at', '<=', last.at) : q.where('at', '<', cutoff)))
				.executeTakeFirst();
			return { rows: Number(result.numDeletedRows), more: last !== undefined };
		});
		deleted += pass.rows;
		if (!pass.more) return deleted;
	}
}
