/**
 * A receipt check: for each provider whose transport answers later (its `receipts`), the
 * receipts awaited for pushes old enough to have one are asked for a page at a time, and each
 * answer is applied once as its token's outcome (../lifecycle/receipts.ts). A receipt not ready
 * yet stays awaited until its provider stops keeping it; then it is dropped as expired.
 */
import { z } from 'zod/v4';
import { parseInput } from '../errors';
import { PROVIDERS, type Outcome, type Provider } from '../model';
import type { AwaitedReceipt } from '../lifecycle/receipts';
import type { OutcomeAction } from '../lifecycle/outcomes';
import type { TokenStore } from '../store/TokenStore';
import type { Transports } from './sender';

export const ReceiptCheckOptions = z.object({
	/** Receipts of pushes younger than this are not asked for yet (Expo advises waiting 15 minutes). */
	minAgeMinutes: z.number({ error: 'expected minAgeMinutes as a number' }).int().min(0, 'expected minAgeMinutes of 0 or more').default(15),
	pageSize: z.number().int().min(1).max(10_000).default(1000),
});
export type ReceiptCheckOptions = z.input<typeof ReceiptCheckOptions>;

export interface ReceiptCheck {
	/** Receipts asked for, and of those: answered, not ready yet, expired (never to be answered). */
	checked: number;
	answered: number;
	notReady: number;
	expired: number;
	/** The answers, per outcome, and what they did to the tokens. */
	byOutcome: Partial<Record<Outcome, number>>;
	byAction: Partial<Record<OutcomeAction, number>>;
	/** Each provider's codes among the answers that were not 'delivered'. */
	byCode: Partial<Record<Provider, Record<string, number>>>;
}

export async function checkReceipts(store: TokenStore, transports: Transports, input: ReceiptCheckOptions = {}): Promise<ReceiptCheck> {
	const options = parseInput(ReceiptCheckOptions, input, 'receipt check');
	const report: ReceiptCheck = { checked: 0, answered: 0, notReady: 0, expired: 0, byOutcome: {}, byAction: {}, byCode: {} };
	const now = store.now();
	for (const provider of PROVIDERS) {
		const receipts = transports[provider]?.receipts;
		if (!receipts) continue;
		const expiredBefore = now - receipts.keptHours * 3_600_000;
		let after: AwaitedReceipt | undefined;
		for (;;) {
			const page = await store.dueReceipts(provider, now - options.minAgeMinutes * 60_000, options.pageSize, after);
			if (page.length === 0) break;
			after = page[page.length - 1];
			const answers = await receipts.check(page.map((r) => r.receiptId));
			const answered = page.flatMap((receipt) => {
				const delivery = answers.get(receipt.receiptId);
				return delivery ? [{ receipt, outcome: delivery.outcome, reason: delivery.reason, code: delivery.code }] : [];
			});
			const expired = page.filter((r) => !answers.has(r.receiptId) && r.sentAt < expiredBefore);
			const results = await store.settleReceipts(answered, expired);
			report.checked += page.length;
			report.answered += answered.length;
			report.expired += expired.length;
			report.notReady += page.length - answered.length - expired.length;
			answered.forEach((a, i) => {
				report.byOutcome[a.outcome] = (report.byOutcome[a.outcome] ?? 0) + 1;
				report.byAction[results[i].action] = (report.byAction[results[i].action] ?? 0) + 1;
				if (a.outcome !== 'delivered' && a.code) {
					const codes = (report.byCode[provider] ??= {});
					codes[a.code] = (codes[a.code] ?? 0) + 1;
				}
			});
		}
	}
	return report;
}
