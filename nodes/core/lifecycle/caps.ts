/**
 * A frequency cap's memory: each device keeps the times of its latest marketing pushes in one
 * short column (`marketing_sent`: epoch minutes, eight digits each, space-separated, newest last,
 * at most MAX_FREQUENCY_CAP of them), so a cap is read from the device's own row and never from a
 * scan of a send history: the store's size still follows its devices.
 */
import { sql } from 'kysely';
import type { Tx } from '../store/schema';
import { byApp } from './records';

/** The most pushes a cap may allow in its window (the stamps a device keeps). */
export const MAX_FREQUENCY_CAP = 24;
const STAMP = 8;

/** How many of a device's kept marketing pushes left after `since` (epoch ms). */
export function pushesSince(stamps: string | null, since: number): number {
	if (!stamps) return 0;
	const after = since / 60_000;
	let n = 0;
	for (let end = stamps.length; end > 0; end -= STAMP + 1) if (Number(stamps.slice(end - STAMP, end)) >= after) n++;
	return n;
}

/** Stamps these devices' marketing push at `now`, dropping the oldest past the kept number (one statement per 1,000 tokens of an app). */
export async function recordMarketing(tx: Tx, devices: Array<{ appId: string; token: string }>, now: number): Promise<void> {
	const stamp = String(Math.floor(now / 60_000)).padStart(STAMP, '0');
	const full = MAX_FREQUENCY_CAP * (STAMP + 1) - 1;
	const appended = sql<string>`CASE
		WHEN marketing_sent IS NULL THEN ${stamp}
		WHEN length(marketing_sent) >= ${sql.lit(full)} THEN substr(marketing_sent, ${sql.lit(STAMP + 2)}) || ' ' || ${stamp}
		ELSE marketing_sent || ' ' || ${stamp} END`;
	for (const [appId, tokens] of byApp(devices, (d) => d.token)) {
		for (let i = 0; i < tokens.length; i += 1000) {
			await tx.updateTable('devices').set({ marketing_sent: appended }).where('app_id', '=', appId).where('token', 'in', tokens.slice(i, i + 1000)).execute();
		}
	}
}
