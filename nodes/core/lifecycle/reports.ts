/**
 * Send reports: what a send id reached, why the rest failed, who opened it — one header row and a
 * handful of counts per send id (send_reports, send_report_counts), never a row per device, so
 * they outlive the send log's retention while the store's size still follows its devices.
 *
 * The rule, stated once: **a report counts each device of its send id once, in the state its
 * latest try left it** — sent, delivery unknown, or failed (with its outcome and provider code).
 * The send log's claim makes this exact across reruns (a retry, Retry On Fail, an hourly run of
 * the same send id): a device is targeted when a run first claims it; a reached or possibly
 * reached device stays claimed, so no rerun counts it again; a failed one keeps in its send-log
 * row the counts its failure added (`failure`), which the run that claims it again takes back. Counts
 * change in the transaction that claims or records the devices they count: nothing half-written.
 *
 * Skipped devices (unsubscribed, suppressed, …) are the latest run's census, set, not added.
 * Opens count once per device (the send-log row's `opened` mark) while the send log holds the
 * send id; after its retention an open is ignored with a reason.
 * The send ids Send Push makes itself (AUTO_SEND_ID_PREFIX: one per item and run, for Retry On
 * Fail) keep no report: their number follows traffic, not sends.
 */
import { sql, type Kysely } from 'kysely';
import type { z } from 'zod/v4';
import type { OpenInput, Outcome, Platform, Provider, ReportRange } from '../model';
import type { Database, Tx } from '../store/schema';
import { findDevice } from './records';

export const AUTO_SEND_ID_PREFIX = 'n8n:';
/** Whether a send id keeps a report. */
export const isReported = (sendId: string): boolean => !sendId.startsWith(AUTO_SEND_ID_PREFIX);

/** The timeline: per-minute buckets from the report's start; anything later lands in the last (bounded rows). */
export const TIMELINE_MINUTES = 24 * 60;
const MINUTE_MS = 60_000;

/** The key under which data a push carries its send id, for the app to report the open. */
export const SEND_ID_DATA_KEY = 'push_send_id';

/** A device a run claimed under a reported send id, at the end of its tries. */
export interface Finished {
	sendId: string;
	provider: Provider;
	platform: Platform;
	outcome: Outcome;
	code?: string;
	deliveryUnknown?: boolean;
	/** The store removed the dead token (counted as it happens: an event, not a state). */
	removed: boolean;
}

type State = 'sent' | 'deliveryUnknown' | 'failed';

/** The counts a device's state adds (each 1). */
export function stateMetrics(f: Omit<Finished, 'sendId' | 'removed'>): string[] {
	const state: State = f.outcome === 'delivered' ? 'sent' : f.deliveryUnknown ? 'deliveryUnknown' : 'failed';
	const metrics = [state, `provider:${f.provider}:${state}`, `platform:${f.platform}:${state}`];
	if (state === 'failed') metrics.push(`outcome:${f.outcome}`, ...(f.code ? [`code:${f.provider}:${f.code.slice(0, 100)}`] : []));
	return metrics;
}

/**
 * Opens come one by one from many callers at once: each counts into one of this many rows of its
 * figure (by device), so that concurrent opens do not all queue on one row's lock until commit.
 */
const OPEN_SHARDS = 16;

/** Deltas per send id, metric and shard, written in one upsert per 1,000. */
export class Counts {
	private readonly deltas = new Map<string, Map<string, { metric: string; shard: number; count: number }>>();

	add(sendId: string, metric: string, delta = 1, shard = 0): void {
		const metrics = this.deltas.get(sendId) ?? this.deltas.set(sendId, new Map()).get(sendId)!;
		const key = `${metric}\u0000${shard}`;
		const entry = metrics.get(key) ?? metrics.set(key, { metric, shard, count: 0 }).get(key)!;
		entry.count += delta;
	}

	/**
	 * Adds the deltas to the reports, made if new with `titles`' titles, their `ended_at` moved to
	 * now; `set`: replaces the counts instead; `touch: false` (an open): the reports exist, unchanged.
	 * Rows in one order (send id, metric), so two transactions on one report lock its rows alike.
	 */
	async write(tx: Tx, now: number, options: { titles?: Map<string, string | null>; set?: boolean; touch?: boolean } = {}): Promise<void> {
		const titles = options.titles ?? new Map<string, string | null>();
		const sendIds = [...new Set([...this.deltas.keys(), ...titles.keys()])].sort();
		for (let i = 0; options.touch !== false && i < sendIds.length; i += 1000) {
			await tx
				.insertInto('send_reports')
				.values(sendIds.slice(i, i + 1000).map((send_id) => ({ send_id, title: titles.get(send_id) ?? null, started_at: now, ended_at: now })))
				.onConflict((oc) => oc.column('send_id').doUpdateSet({ ended_at: now, title: sql`COALESCE(send_reports.title, excluded.title)` }))
				.execute();
		}
		const rows = [...this.deltas]
			.flatMap(([send_id, metrics]) => [...metrics.values()].filter((m) => options.set || m.count !== 0).map((m) => ({ send_id, ...m })))
			.sort((a, b) => (a.send_id !== b.send_id ? (a.send_id < b.send_id ? -1 : 1) : a.metric !== b.metric ? (a.metric < b.metric ? -1 : 1) : a.shard - b.shard));
		for (let i = 0; i < rows.length; i += 1000) {
			await tx
				.insertInto('send_report_counts')
				.values(rows.slice(i, i + 1000))
				.onConflict((oc) => oc.columns(['send_id', 'metric', 'shard']).doUpdateSet({ count: options.set ? sql`excluded.count` : sql`send_report_counts.count + excluded.count` }))
				.execute();
		}
	}
}

/** When each report started (for its timeline's buckets). */
async function startTimes(tx: Tx, sendIds: string[]): Promise<Map<string, number>> {
	const out = new Map<string, number>();
	for (let i = 0; i < sendIds.length; i += 1000) {
		for (const r of await tx.selectFrom('send_reports').select(['send_id', 'started_at']).where('send_id', 'in', sendIds.slice(i, i + 1000)).execute()) out.set(r.send_id, r.started_at);
	}
	return out;
}

const minuteOf = (at: number, startedAt: number) => Math.min(TIMELINE_MINUTES - 1, Math.max(0, Math.floor((at - startedAt) / MINUTE_MS)));

/**
 * Counts the devices a run finished (in the transaction recording their outcomes): answers, per
 * finished device that failed, the counts its failure added, for its send-log row (see the top).
 */
export async function countFinished(tx: Tx, finished: Finished[], now: number): Promise<Array<string | null>> {
	const counts = new Counts();
	const started = await startTimes(tx, [...new Set(finished.map((f) => f.sendId))]);
	const failures = finished.map((f) => {
		const metrics = stateMetrics(f);
		for (const m of metrics) counts.add(f.sendId, m);
		if (f.removed) counts.add(f.sendId, 'removed');
		if (metrics[0] === 'sent') counts.add(f.sendId, `minute:${minuteOf(now, started.get(f.sendId) ?? now)}:sent`);
		return metrics[0] === 'failed' ? metrics.join('\n') : null;
	});
	await counts.write(tx, now);
	return failures;
}

/** Sets the skipped devices of a send by reason (the latest run's census: set, not added). */
export async function recordSkipped(tx: Tx, sendId: string, skipped: Record<string, number>, now: number): Promise<void> {
	const counts = new Counts();
	for (const [reason, n] of Object.entries(skipped)) counts.add(sendId, `skipped:${reason}`, n);
	await counts.write(tx, now, { set: true });
}

export interface OpenResult {
	counted: boolean;
	/** Why an open was not counted. */
	reason?: string;
}

/** An open of a push by a device: counted once per device while the send log holds the send id; anything else ignored with a reason. */
export async function recordOpen(tx: Tx, input: z.output<typeof OpenInput>, now: number, sendLogKey: (appId: string, token: string) => number): Promise<OpenResult> {
	const report = await tx
		.selectFrom('send_reports')
		.leftJoin('sends', 'sends.send_id', 'send_reports.send_id')
		.select(['send_reports.started_at', 'sends.id as send'])
		.where('send_reports.send_id', '=', input.sendId)
		.executeTakeFirst();
	if (!report) return { counted: false, reason: 'no report for this send id (unknown, or sent without a send id of its own)' };
	const token = input.token ?? (await findDevice(tx, input))?.token;
	if (token === undefined) return { counted: false, reason: 'no device of this app has that device id' };
	if (report.send === null) return { counted: false, reason: 'the send log of this send id was removed by the retention: opens are no longer counted' };
	const key = sendLogKey(input.appId, token);
	// (one statement: two opens of one device at once count once)
	const marked = await tx.updateTable('send_log').set({ opened: 1 }).where('send', '=', report.send).where('device_key', '=', key).where('opened', '=', 0).where('failure', 'is', null).returning('device_key').execute();
	if (marked.length === 0) {
		const row = await tx.selectFrom('send_log').select('opened').where('send', '=', report.send).where('device_key', '=', key).executeTakeFirst();
		return { counted: false, reason: row?.opened ? 'already counted: an open counts once per device' : 'this send id did not reach that device' };
	}
	const counts = new Counts();
	const shard = key % OPEN_SHARDS;
	counts.add(input.sendId, 'opened', 1, shard);
	counts.add(input.sendId, `minute:${minuteOf(Math.min(input.openedAt ?? now, now), report.started_at)}:opened`, 1, shard);
	await counts.write(tx, now, { touch: false });
	return { counted: true };
}

type Breakdown = { targeted: number; sent: number; deliveryUnknown: number; failed: number };

export interface SendReport {
	sendId: string;
	title: string | null;
	startedAt: Date;
	/** The last time a run recorded devices (an open does not move it: opens would all queue on the report's one row). */
	endedAt: Date;
	targeted: number;
	sent: number;
	deliveryUnknown: number;
	failed: number;
	removed: number;
	opened: number;
	/** Opened of sent, 0 to 1. */
	openRate: number;
	failedByOutcome: Partial<Record<Outcome, number>>;
	/** Per provider, its own codes (UNREGISTERED, BadDeviceToken, 410, …). */
	failedByCode: Partial<Record<Provider, Record<string, number>>>;
	skipped: Record<string, number>;
	byProvider: Partial<Record<Provider, Breakdown>>;
	byPlatform: Partial<Record<Platform, Breakdown>>;
	/** Non-empty minutes from the start, oldest first (the last holds anything later than TIMELINE_MINUTES). */
	timeline: Array<{ minute: Date; sent: number; opened: number }>;
}

export type SendHeadline = Pick<SendReport, 'sendId' | 'title' | 'startedAt' | 'endedAt' | 'targeted' | 'sent' | 'deliveryUnknown' | 'failed' | 'opened' | 'openRate'>;

const HEADLINE = ['targeted', 'sent', 'deliveryUnknown', 'failed', 'opened'] as const;

const rate = (opened: number, sent: number) => (sent > 0 ? Math.round((opened / sent) * 10_000) / 10_000 : 0);

function headline(row: { send_id: string; title: string | null; started_at: number; ended_at: number }, counts: Map<string, number>): SendHeadline {
	const [targeted, sent, deliveryUnknown, failed, opened] = HEADLINE.map((m) => counts.get(m) ?? 0);
	return { sendId: row.send_id, title: row.title, startedAt: new Date(row.started_at), endedAt: new Date(row.ended_at), targeted, sent, deliveryUnknown, failed, opened, openRate: rate(opened, sent) };
}

/** One send id's report, read in two indexed queries whatever its audience (its rows: a few per figure); null when unknown. */
export async function sendReport(db: Kysely<Database>, sendId: string): Promise<SendReport | null> {
	const row = await db.selectFrom('send_reports').selectAll().where('send_id', '=', sendId).executeTakeFirst();
	if (!row) return null;
	const rows = await db
		.selectFrom('send_report_counts')
		.select(({ fn }) => ['metric', fn.sum<number>('count').as('count')])
		.where('send_id', '=', sendId)
		.groupBy('metric')
		.execute();
	const counts = new Map(rows.map((c) => [c.metric, Number(c.count)]));
	const report: SendReport = { ...headline(row, counts), removed: counts.get('removed') ?? 0, failedByOutcome: {}, failedByCode: {}, skipped: {}, byProvider: {}, byPlatform: {}, timeline: [] };
	const minutes = new Map<number, { sent: number; opened: number }>();
	for (const [metric, count] of counts) {
		if (count === 0) continue;
		const [kind, a, b] = metric.split(':');
		if (kind === 'outcome') report.failedByOutcome[a as Outcome] = count;
		else if (kind === 'code') (report.failedByCode[a as Provider] ??= {})[metric.slice(`code:${a}:`.length)] = count;
		else if (kind === 'skipped') report.skipped[metric.slice(kind.length + 1)] = count;
		else if (kind === 'provider' || kind === 'platform') {
			const breakdowns = (kind === 'provider' ? report.byProvider : report.byPlatform) as Record<string, Breakdown>;
			(breakdowns[a] ??= { targeted: 0, sent: 0, deliveryUnknown: 0, failed: 0 })[b as keyof Breakdown] = count;
		} else if (kind === 'minute') {
			const bucket = minutes.get(Number(a)) ?? minutes.set(Number(a), { sent: 0, opened: 0 }).get(Number(a))!;
			bucket[b as 'sent' | 'opened'] = count;
		}
	}
	report.timeline = [...minutes].sort(([x], [y]) => x - y).map(([m, c]) => ({ minute: new Date(row.started_at + m * MINUTE_MS), ...c }));
	return report;
}

/** The reports started in a range, newest first, with their headline figures. */
export async function listSends(db: Kysely<Database>, range: z.output<typeof ReportRange>): Promise<SendHeadline[]> {
	const rows = await db
		.selectFrom('send_reports')
		.selectAll()
		.$call((q) => (range.from !== undefined ? q.where('started_at', '>=', range.from) : q))
		.$call((q) => (range.to !== undefined ? q.where('started_at', '<', range.to) : q))
		.orderBy('started_at', 'desc')
		.orderBy('send_id')
		.limit(range.limit)
		.execute();
	if (rows.length === 0) return [];
	const counts = new Map<string, Map<string, number>>();
	for (let i = 0; i < rows.length; i += 1000) {
		const found = await db
			.selectFrom('send_report_counts')
			.select(({ fn }) => ['send_id', 'metric', fn.sum<number>('count').as('count')])
			.where('send_id', 'in', rows.slice(i, i + 1000).map((r) => r.send_id))
			.where('metric', 'in', [...HEADLINE])
			.groupBy(['send_id', 'metric'])
			.execute();
		for (const c of found) (counts.get(c.send_id) ?? counts.set(c.send_id, new Map()).get(c.send_id)!).set(c.metric, Number(c.count));
	}
	return rows.map((r) => headline(r, counts.get(r.send_id) ?? new Map()));
}
