/**
 * Receipts: a provider that accepts a push and answers for it later (its transport's `receipts`)
 * leaves an id per push, awaited here until a receipt check asks for it (../send/receipts.ts).
 * Only each device's latest push is awaited: a newer push's receipt says as much of the token as
 * an older one's, and the table stays as large as the devices, however many pushes they get.
 */
import { sql } from 'kysely';
import type { Provider } from '../model';
import type { Tx } from '../store/schema';

export interface AwaitedReceipt {
	appId: string;
	token: string;
	provider: Provider;
	receiptId: string;
	sentAt: number;
}

/** Awaits the receipts of pushes just accepted (in the transaction that records their outcomes). */
export async function awaitReceipts(tx: Tx, receipts: Array<Omit<AwaitedReceipt, 'sentAt'>>, now: number): Promise<void> {
	for (let i = 0; i < receipts.length; i += 500) {
		const rows = receipts.slice(i, i + 500).map((r) => ({ app_id: r.appId, token: r.token, provider: r.provider, receipt_id: r.receiptId, sent_at: now }));
		await tx
			.insertInto('receipts')
			.values(rows)
			.onConflict((c) => c.columns(['app_id', 'token']).doUpdateSet({ provider: sql.ref('excluded.provider'), receipt_id: sql.ref('excluded.receipt_id'), sent_at: sql.ref('excluded.sent_at') }))
			.execute();
	}
}

/** A provider's awaited receipts sent before `sentBefore`, oldest first, after the page before (its last row). */
export async function dueReceipts(db: Tx, provider: Provider, sentBefore: number, limit: number, after?: AwaitedReceipt): Promise<AwaitedReceipt[]> {
	let query = db.selectFrom('receipts').selectAll().where('provider', '=', provider).where('sent_at', '<', sentBefore);
	if (after) query = query.where((eb) => eb.or([eb('sent_at', '>', after.sentAt), eb.and([eb('sent_at', '=', after.sentAt), eb.or([eb('app_id', '>', after.appId), eb.and([eb('app_id', '=', after.appId), eb('token', '>', after.token)])])])]));
	const rows = await query.orderBy('sent_at').orderBy('app_id').orderBy('token').limit(limit).execute();
	return rows.map((r) => ({ appId: r.app_id, token: r.token, provider: r.provider, receiptId: r.receipt_id, sentAt: Number(r.sent_at) }));
}

/** Stops awaiting these receipts (answered or expired); a newer push's receipt, awaited meanwhile, stays. */
export async function forgetReceipts(tx: Tx, receipts: AwaitedReceipt[]): Promise<void> {
	for (const r of receipts) await tx.deleteFrom('receipts').where('app_id', '=', r.appId).where('token', '=', r.token).where('receipt_id', '=', r.receiptId).execute();
}

/** Receipts no provider will answer any more (sent before `before`), whatever their provider: the clean-up's. */
export async function pruneReceipts(tx: Tx, before: number): Promise<number> {
	const result = await tx.deleteFrom('receipts').where('sent_at', '<', before).executeTakeFirst();
	return Number(result.numDeletedRows);
}
