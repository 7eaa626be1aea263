/**
 * Delivery outcomes: what a provider's answer does to a token.
 *   delivered     → last_status sent, consecutive bounces reset
 *   invalid-token → the device is removed and its token tombstoned (it never becomes valid again)
 *   bounced       → bounced; the second consecutive bounce → suppressed (not sent to until identify)
 *   retry, config-error → no change (the sender retries, or the node fails on its credentials)
 * A test send changes nothing: providers do not invalidate tokens on test pushes either.
 */
import type { z } from 'zod/v4';
import type { OutcomeInput, Platform, Provider } from '../model';
import type { Tx } from '../store/schema';
import { sendLogKey, tokenKey } from '../store/keys';
import { byApp, dropIfEmpty, eventRow, lockDevices, logEvents, profileById } from './records';
import { Counts, isReported } from './reports';

/** What the store did; 'not-applied': the outcome was not applied, as asked (Send Push with Update Token Store off). */
export type OutcomeAction = 'sent' | 'bounced' | 'suppressed' | 'removed' | 'tombstoned' | 'unchanged' | 'not-found' | 'not-applied';

export interface OutcomeResult {
	appId: string;
	token: string;
	outcome: z.output<typeof OutcomeInput>['outcome'];
	action: OutcomeAction;
	userId: string | null;
}

/** Bounces in a row after which a device is suppressed. */
export const SUPPRESS_AFTER_BOUNCES = 2;

export async function recordOutcome(tx: Tx, input: z.output<typeof OutcomeInput>, now: number): Promise<OutcomeResult> {
	const result = (action: OutcomeAction, userId: string | null = null): OutcomeResult => ({
		appId: input.appId,
		token: input.token,
		outcome: input.outcome,
		action,
		userId,
	});
	if (input.test || input.outcome === 'retry' || input.outcome === 'config-error') return result('unchanged');

	const device = (await lockDevices(tx, input)).byToken;
	if (input.outcome === 'invalid-token') {
		const reason = input.reason ?? 'invalid token';
		await tx
			.insertInto('dead_tokens')
			.values({ app_id: input.appId, token: input.token, reason, at: now })
			.onConflict((oc) => oc.columns(['app_id', 'token']).doNothing())
			.execute();
		if (!device) return result('tombstoned');
		const owner = await profileById(tx, device.profile_id);
		await tx.deleteFrom('devices').where('id', '=', device.id).execute();
		await logEvents(tx, [{ type: 'removed', device, from: owner, reason }], now);
		await dropIfEmpty(tx, owner, { imported: false });
		return result('removed', owner.external_id);
	}
	if (!device) return result('not-found');
	const owner = await profileById(tx, device.profile_id);

	if (input.outcome === 'delivered') {
		// Only a delivery that changes the status is an event (the first, or the one after a bounce).
		if (device.last_status !== 'sent' || device.consecutive_bounces !== 0) {
			await tx.updateTable('devices').set({ last_status: 'sent', consecutive_bounces: 0 }).where('id', '=', device.id).execute();
			await logEvents(tx, [{ type: 'sent', device, to: owner, reason: input.reason }], now);
		}
		return result('sent', owner.external_id);
	}

	// bounced
	const bounces = device.consecutive_bounces + 1;
	const status = bounces >= SUPPRESS_AFTER_BOUNCES ? 'suppressed' : 'bounced';
	await tx.updateTable('devices').set({ last_status: status, consecutive_bounces: bounces }).where('id', '=', device.id).execute();
	await logEvents(tx, [{ type: status, device, to: owner, reason: input.reason ?? `bounce ${bounces} in a row` }], now);
	return result(status, owner.external_id);
}

/**
 * Many deliveries at once (a send batch): last_status sent and bounces reset with one UPDATE,
 * the changelog with one INSERT, per 1,000 tokens of an app, instead of four queries a device.
 * The tokens must be distinct (one final answer each).
 */
export async function recordDelivered(tx: Tx, records: Array<{ appId: string; token: string; reason?: string }>, now: number): Promise<OutcomeResult[]> {
	const found = new Map<string, { id: string; device_id: string | null; profile_id: string; last_status: string; consecutive_bounces: number; external_id: string | null }>();
	for (const [appId, tokens] of byApp(records, (r) => r.token)) {
		for (let i = 0; i < tokens.length; i += 1000) {
			const rows = await tx
				.selectFrom('devices')
				.innerJoin('profiles', 'profiles.id', 'devices.profile_id')
				.select(['devices.id', 'devices.token', 'devices.device_id', 'devices.profile_id', 'devices.last_status', 'devices.consecutive_bounces', 'profiles.external_id'])
				.where('devices.app_id', '=', appId)
				.where('devices.token', 'in', tokens.slice(i, i + 1000))
				.execute();
			for (const row of rows) found.set(tokenKey(appId, row.token), row);
		}
	}
	// Only the deliveries that change a status are written (the first, or the one after a bounce).
	const hits = records.flatMap((r) => {
		const device = found.get(tokenKey(r.appId, r.token));
		return device && (device.last_status !== 'sent' || device.consecutive_bounces !== 0) ? [{ record: r, device }] : [];
	});
	for (let i = 0; i < hits.length; i += 1000) {
		const chunk = hits.slice(i, i + 1000);
		await tx.updateTable('devices').set({ last_status: 'sent', consecutive_bounces: 0 }).where('id', 'in', chunk.map((h) => h.device.id)).execute();
		await tx
			.insertInto('token_events')
			.values(
				chunk.map(({ record, device }) =>
					eventRow({ type: 'sent', device: { app_id: record.appId, token: record.token, device_id: device.device_id }, to: { id: device.profile_id, external_id: device.external_id }, reason: record.reason }, now),
				),
			)
			.execute();
	}
	return records.map((r) => {
		const device = found.get(tokenKey(r.appId, r.token));
		return { appId: r.appId, token: r.token, outcome: 'delivered' as const, action: device ? ('sent' as const) : ('not-found' as const), userId: device?.external_id ?? null };
	});
}

/** A device under a send id: the send log's key; and, for its report (see ./reports), what it is and what it is sent. */
export interface SendClaim {
	sendId: string;
	appId: string;
	token: string;
	provider?: Provider;
	platform?: Platform;
	title?: string;
}
export const claimKey = (c: SendClaim) => `${c.sendId}\u0000${tokenKey(c.appId, c.token)}`;

/** The integer ids of these send ids, made for the ones new. */
async function sendRefs(tx: Tx, sendIds: string[], now: number): Promise<Map<string, number>> {
	const refs = new Map<string, number>();
	for (let i = 0; i < sendIds.length; i += 1000) {
		const chunk = sendIds.slice(i, i + 1000);
		await tx.insertInto('sends').values(chunk.map((send_id) => ({ send_id, at: now }))).onConflict((oc) => oc.column('send_id').doNothing()).execute();
		for (const row of await tx.selectFrom('sends').select(['id', 'send_id']).where('send_id', 'in', chunk).execute()) refs.set(row.send_id, row.id);
	}
	return refs;
}

/**
 * The send log as a claim, written before a push leaves (see Sender.send): inserts (send, device)
 * for these devices and answers the ones this call inserted — a device already in the log under
 * its send id (reached, or claimed by an earlier or concurrent run of the send id) is not
 * returned, so two runs can never both send to it.
 */
export async function claimSends(tx: Tx, claims: SendClaim[], now: number): Promise<Set<string>> {
	const refs = await sendRefs(tx, [...new Set(claims.map((c) => c.sendId))], now);
	// (send, device key) → the first claim of it: a token listed twice under one send id is claimed once
	const byKey = new Map<string, SendClaim>();
	const rows: Array<{ send: number; device_key: number }> = [];
	for (const c of claims) {
		const row = { send: refs.get(c.sendId)!, device_key: sendLogKey(c.appId, c.token) };
		const key = `${row.send}:${row.device_key}`;
		if (byKey.has(key)) continue;
		byKey.set(key, c);
		rows.push(row);
	}
	const claimed = new Set<string>();
	const counts = new Counts();
	const titles = new Map<string, string | null>();
	for (let i = 0; i < rows.length; i += 1000) {
		const chunk = rows.slice(i, i + 1000);
		const reported = chunk.filter((r) => isReported(byKey.get(`${r.send}:${r.device_key}`)!.sendId));
		// A device a run failed is claimed again (its row marked with its failure): the report takes its failure back.
		const failed = new Map<string, string>();
		if (reported.length > 0) {
			const marked = await tx
				.selectFrom('send_log')
				.select(['send', 'device_key', 'failure'])
				.where('send', 'in', [...new Set(reported.map((r) => r.send))])
				.where('device_key', 'in', reported.map((r) => r.device_key))
				.where('failure', 'is not', null)
				.execute();
			for (const m of marked) failed.set(`${m.send}:${m.device_key}`, m.failure!);
		}
		const inserted = await tx
			.insertInto('send_log')
			.values(chunk)
			.onConflict((oc) => oc.columns(['send', 'device_key']).doUpdateSet({ failure: null }).where('send_log.failure', 'is not', null))
			.returning(['send', 'device_key'])
			.execute();
		for (const row of inserted) {
			const key = `${row.send}:${row.device_key}`;
			const c = byKey.get(key)!;
			claimed.add(claimKey(c));
			if (!isReported(c.sendId)) continue;
			if (!titles.get(c.sendId)) titles.set(c.sendId, c.title ?? null);
			const failure = failed.get(key);
			if (failure !== undefined) for (const metric of failure.split('\n')) counts.add(c.sendId, metric, -1);
			else for (const metric of ['targeted', ...(c.provider ? [`provider:${c.provider}:targeted`] : []), ...(c.platform ? [`platform:${c.platform}:targeted`] : [])]) counts.add(c.sendId, metric);
		}
	}
	await counts.write(tx, now, { titles });
	return claimed;
}

/** Which of these devices a send id holds claimed (reached, possibly reached, or in flight), by tokenKey. */
export async function claimedBy(tx: Tx, sendId: string, devices: Array<{ appId: string; token: string }>): Promise<Set<string>> {
	const claimed = new Set<string>();
	const send = await tx.selectFrom('sends').select('id').where('send_id', '=', sendId).executeTakeFirst();
	if (!send) return claimed;
	const keys = new Map(devices.map((d) => [String(sendLogKey(d.appId, d.token)), tokenKey(d.appId, d.token)]));
	const all = [...keys.keys()].map(Number);
	for (let i = 0; i < all.length; i += 1000) {
		const rows = await tx.selectFrom('send_log').select('device_key').where('send', '=', send.id).where('device_key', 'in', all.slice(i, i + 1000)).where('failure', 'is', null).execute();
		for (const row of rows) claimed.add(keys.get(String(row.device_key))!);
	}
	return claimed;
}

/**
 * Gives back the claims of devices the send did not reach (a transient failure, a dead token): a
 * rerun of the send id tries them again. A claim with a failure (`failures`, by claimKey: the
 * report's counts it added) stays in the log marked with it, so the rerun takes them back.
 */
export async function releaseSends(tx: Tx, all: SendClaim[], failures: Map<string, string> = new Map()): Promise<void> {
	// Marked a send id and a failure at a time (usually a few distinct failures per batch).
	const marks = new Map<string, { sendId: string; failure: string; keys: number[] }>();
	for (const c of all) {
		const failure = failures.get(claimKey(c));
		if (failure === undefined) continue;
		const group = `${c.sendId}\u0000${failure}`;
		(marks.get(group) ?? marks.set(group, { sendId: c.sendId, failure, keys: [] }).get(group)!).keys.push(sendLogKey(c.appId, c.token));
	}
	for (const { sendId, failure, keys } of marks.values()) {
		for (let i = 0; i < keys.length; i += 1000) {
			await tx
				.updateTable('send_log')
				.set({ failure })
				.where('send', '=', (eb) => eb.selectFrom('sends').select('id').where('send_id', '=', sendId))
				.where('device_key', 'in', keys.slice(i, i + 1000))
				.execute();
		}
	}
	const claims = all.filter((c) => !failures.has(claimKey(c)));
	if (claims.length === 0) return;
	const sendIds = [...new Set(claims.map((c) => c.sendId))];
	const refs = new Map((await tx.selectFrom('sends').select(['id', 'send_id']).where('send_id', 'in', sendIds).execute()).map((r) => [r.send_id, r.id]));
	const bySend = new Map<number, number[]>();
	for (const c of claims) {
		const send = refs.get(c.sendId);
		if (send === undefined) continue;
		const keys = bySend.get(send) ?? [];
		keys.push(sendLogKey(c.appId, c.token));
		bySend.set(send, keys);
	}
	for (const [send, keys] of bySend) {
		for (let i = 0; i < keys.length; i += 1000) await tx.deleteFrom('send_log').where('send', '=', send).where('device_key', 'in', keys.slice(i, i + 1000)).execute();
	}
	// A send id that reached nothing leaves nothing behind.
	if (bySend.size > 0) {
		await tx
			.deleteFrom('sends')
			.where('id', 'in', [...bySend.keys()])
			.where(({ not, exists, selectFrom }) => not(exists(selectFrom('send_log').select('send_log.send').whereRef('send_log.send', '=', 'sends.id'))))
			.execute();
	}
}
