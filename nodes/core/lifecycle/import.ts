/**
 * import (Braze's push_token_import): tokens migrated from another provider, streamed in batches.
 * A row without a user id gets its own temporary profile flagged imported, so it can be messaged
 * until its user logs in (identify then merges it). A row with a user id attaches to that user.
 * A token already in the store, or known dead, is skipped and counted: re-running an import
 * changes nothing. Each batch is one transaction.
 */
import { fieldIssues, type FieldIssue } from '../errors';
import { UnreadableRow } from '../import/sources';
import { SourceSkip, type PresetOutput } from '../import/presets/preset';
import { ImportRow } from '../model';
import type { Engine } from '../store/engines/engine';
import { platformKey, type BatchCounts, type ImportBatchRow, type ImportCounts } from './import-rows';

export type { ImportCounts } from './import-rows';

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

/** Distinct invalid reasons kept in the summary; the rest are counted under one more. */
const MAX_REASONS = 100;
const OTHER_REASONS = 'other reasons';
const zeroCounts = (): ImportCounts => ({ imported: 0, skippedExisting: 0, skippedDead: 0, skippedBySource: 0 });
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
	let batch: ImportBatchRow[] = [];

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

class DryRunRollback extends Error {
	constructor(readonly counts: BatchCounts) {
		super('dry run');
	}
}

async function importBatch(engine: Engine, batch: ImportBatchRow[], dryRun: boolean, now: number): Promise<BatchCounts> {
	try {
		return await engine.transaction(async (tx) => {
			const counts = await engine.importBatch(tx, batch, now);
			if (dryRun) throw new DryRunRollback(counts);
			return counts;
		});
	} catch (error) {
		if (error instanceof DryRunRollback) return error.counts;
		throw error;
	}
}

