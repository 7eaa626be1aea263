/**
 * The token store: the one object every node talks to. Each verb validates its input (zod),
 * runs its rule in one transaction, and returns what happened. Opened from a config object and
 * cached per process, so nodes never open a store per item.
 */
import { createHash } from 'node:crypto';
import { NotFoundError, parseInput } from '../errors';
import {
	AppId,
	AudienceQuery,
	ChangelogPage,
	keyedUnion,
	ClearIdentifyInput,
	CleanupOptions,
	IdentifyInput,
	OpenInput,
	OutcomeInput,
	ProfileRef,
	ReportRange,
	SendId,
	RegisterInput,
	SubscriptionInput,
	TokenOrSubscription,
	UserId,
	type DeviceView,
	type Outcome,
	type ProfileView,
	type Provider,
	type TokenEvent,
} from '../model';
import { cleanup, type CleanupReport } from '../lifecycle/cleanup';
import { clearIdentify, identify, type ClearIdentifyResult, type IdentifyResult } from '../lifecycle/identify';
import type { Caller } from '../lifecycle/claims';
import { importTokens, type ImportOptions, type ImportSummary } from '../lifecycle/import';
import { recordMarketing } from '../lifecycle/caps';
import { awaitReceipts, dueReceipts, forgetReceipts, type AwaitedReceipt } from '../lifecycle/receipts';
import { claimKey, claimedBy, claimSends, recordDelivered, recordOutcome, releaseSends, type OutcomeResult, type SendClaim } from '../lifecycle/outcomes';
import { countFinished, listSends, recordOpen, recordSkipped, sendReport, type Finished, type OpenResult, type SendHeadline, type SendReport } from '../lifecycle/reports';
import { audience, audienceCensus, changelog, devicesOfUsers, exportProfile, userExclusions, type AudienceDevice, type Exclusion, type ProfileExport } from '../lifecycle/queries';
import { byApp, deviceByToken, deviceView, findOrCreateUser, lockKeys, profileView } from '../lifecycle/records';
import { sendLogKey, tokenKey } from './keys';
import { register, type RegisterResult } from '../lifecycle/register';
import { openEngine, StoreConfig, type Engine } from './engines';
import { z } from 'zod/v4';

export interface StoreOptions {
	/** The store's clock, in epoch milliseconds (tests move it). */
	clock?: () => number;
}

// Lookups read their keys as writes store them (trimmed ids, canonical tokens).
const TokenLookup = z.object({ appId: AppId, token: TokenOrSubscription });
const ChangelogFilter = keyedUnion('userId', z.object({ userId: UserId }), TokenLookup);
const SendRef = z.object({ sendId: SendId });
const UserDevicesQuery = AudienceQuery.omit({ appId: true, pageSize: true }).extend({ appId: AppId.optional() });

export class TokenStore {
	private constructor(
		readonly engine: Engine,
		private readonly clock: () => number,
		/** The credential's cap on devices per user and app (0: none). */
		private readonly maxDevicesPerUser: number,
	) {}

	static async open(config: StoreConfig, options: StoreOptions = {}): Promise<TokenStore> {
		const { maxDevicesPerUser } = parseInput(StoreConfig, config, 'store config');
		return new TokenStore(await openEngine(config), options.clock ?? Date.now, maxDevicesPerUser);
	}

	/** The store's time (epoch ms): what a delivery control reads a device's clock and caps against. */
	now(): number {
		return this.clock();
	}

	get engineName(): Engine['name'] {
		return this.engine.name;
	}

	/**
	 * An app open / SDK registration of a token. `caller`: an outside caller (the app endpoint)
	 * and the user it proved; what it may change is ../lifecycle/claims.ts. Absent: a workflow.
	 */
	async register(input: unknown, caller?: Caller): Promise<RegisterResult> {
		const record = parseInput(RegisterInput, input, 'register');
		return this.engine.transaction((tx) => register(tx, record, this.clock(), caller, this.maxDevicesPerUser), { lock: lockKeys(record) });
	}

	/** Login: the device's token moves to the user (created if new). */
	async identify(input: unknown, caller?: Caller): Promise<IdentifyResult> {
		const record = parseInput(IdentifyInput, input, 'identify');
		return this.engine.transaction((tx) => identify(tx, record, this.clock(), caller, this.maxDevicesPerUser), { lock: lockKeys(record) });
	}

	/** Logout: the token leaves the user (anonymous again, or removed). */
	async clearIdentify(input: unknown, caller?: Caller): Promise<ClearIdentifyResult> {
		const record = parseInput(ClearIdentifyInput, input, 'clear identify');
		return this.engine.transaction((tx) => clearIdentify(tx, record, this.clock(), caller), { lock: lockKeys(record) });
	}

	/** push_token_import: streams rows in batches; invalid rows are counted with their reasons. */
	importTokens(rows: Iterable<unknown> | AsyncIterable<unknown>, options: ImportOptions = {}): Promise<ImportSummary> {
		return importTokens(this.engine, rows, options, this.clock);
	}

	/** Applies one provider answer to its token. */
	async recordOutcome(input: unknown): Promise<OutcomeResult> {
		const record = parseInput(OutcomeInput, input, 'outcome');
		return this.engine.transaction((tx) => recordOutcome(tx, record, this.clock()), { lock: lockKeys(record) });
	}

	/**
	 * Many answers (one send batch) in one transaction, or none of them: the outcomes applied to
	 * the tokens (unless `record` is false), and the claims in `release` (devices the send
	 * certainly did not reach) given back under its send id, so a rerun tries them again; and
	 * `report[i]`, when set, counts entry i's device in its send id's report (../lifecycle/reports).
	 */
	async recordOutcomes(
		entries: unknown[],
		options: { record?: boolean; release?: SendClaim[]; report?: Array<Omit<Finished, 'removed'> | undefined>; marketing?: boolean; receipts?: Array<{ provider: Provider; receiptId: string } | undefined> } = {},
	): Promise<OutcomeResult[]> {
		const records = entries.map((entry, i) => parseInput(OutcomeInput, entry, `outcome ${i + 1}`));
		const apply = options.record !== false;
		// Deliveries of distinct tokens (a send batch) in bulk; anything else one by one, in order, under its token's lock.
		const counts = new Map<string, number>();
		for (const r of records) counts.set(tokenKey(r.appId, r.token), (counts.get(tokenKey(r.appId, r.token)) ?? 0) + 1);
		const bulk = apply ? records.flatMap((r, i) => (r.outcome === 'delivered' && !r.test && counts.get(tokenKey(r.appId, r.token)) === 1 ? [i] : [])) : [];
		const inBulk = new Set(bulk);
		const lock = [...(apply ? records.flatMap((r, i) => (inBulk.has(i) ? [] : lockKeys(r))) : []), ...sendLocks(options.release ?? [])];
		return this.engine.transaction(
			async (tx) => {
				const now = this.clock();
				const results = new Array<OutcomeResult>(records.length);
				if (!apply) {
					records.forEach((r, i) => (results[i] = { appId: r.appId, token: r.token, outcome: r.outcome, action: r.test ? 'unchanged' : 'not-applied', userId: null }));
				} else {
					const delivered = await recordDelivered(tx, bulk.map((i) => records[i]), now);
					bulk.forEach((i, k) => (results[i] = delivered[k]));
					for (let i = 0; i < records.length; i++) results[i] ??= await recordOutcome(tx, records[i], now);
					// (a frequency cap counts the marketing pushes its devices received)
					if (options.marketing) await recordMarketing(tx, results.filter((r) => r.action === 'sent'), now);
				}
				// A receipt is awaited for every push accepted (not a test), store updated or not: a
				// provider that answers later tells of a dead token only there (Check Receipts applies it).
				const receipts = options.receipts ?? [];
				await awaitReceipts(tx, records.flatMap((r, i) => (receipts[i] && r.outcome === 'delivered' && !r.test ? [{ appId: r.appId, token: r.token, ...receipts[i]! }] : [])), now);
				const counted = (options.report ?? []).flatMap((f, i) => (f ? [{ i, finished: { ...f, removed: results[i].action === 'removed' } }] : []));
				const failures = await countFinished(tx, counted.map((c) => c.finished), now);
				const marks = new Map(counted.flatMap(({ i, finished }, k) => (failures[k] === null ? [] : [[claimKey({ sendId: finished.sendId, appId: records[i].appId, token: records[i].token }), failures[k]!] as const])));
				if (options.release && options.release.length > 0) await releaseSends(tx, options.release, marks);
				return results;
			},
			{ lock },
		);
	}

	/** A provider's awaited receipts of pushes sent before `sentBefore`, a page at a time (../lifecycle/receipts.ts). */
	dueReceipts(provider: Provider, sentBefore: number, limit: number, after?: AwaitedReceipt): Promise<AwaitedReceipt[]> {
		return dueReceipts(this.engine.db, provider, sentBefore, limit, after);
	}

	/**
	 * The answers of awaited receipts, each applied once as its token's outcome (a dead token
	 * removed and tombstoned), and those receipts no longer awaited, with the expired ones: one
	 * transaction.
	 */
	async settleReceipts(answered: Array<{ receipt: AwaitedReceipt; outcome: Outcome; reason: string }>, expired: AwaitedReceipt[]): Promise<OutcomeResult[]> {
		const records = answered.map(({ receipt, outcome, reason }, i) => parseInput(OutcomeInput, { appId: receipt.appId, token: receipt.token, outcome, reason }, `receipt ${i + 1}`));
		return this.engine.transaction(
			async (tx) => {
				const now = this.clock();
				const results: OutcomeResult[] = [];
				for (const r of records) results.push(r.outcome === 'delivered' ? { appId: r.appId, token: r.token, outcome: r.outcome, action: 'unchanged', userId: null } : await recordOutcome(tx, r, now));
				await forgetReceipts(tx, [...answered.map((a) => a.receipt), ...expired]);
				return results;
			},
			{ lock: records.flatMap((r) => lockKeys(r)) },
		);
	}

	/** Claims devices under their send ids before a push leaves (see claimSends): the claims this call made. */
	claimSends(claims: SendClaim[]): Promise<Set<string>> {
		return this.engine.transaction((tx) => claimSends(tx, claims, this.clock()), { lock: sendLocks(claims) });
	}

	/** Which of these devices a send id already holds (by tokenKey): held back by a delivery control, they count as reached. */
	claimedBy(sendId: string, devices: Array<{ appId: string; token: string }>): Promise<Set<string>> {
		return claimedBy(this.engine.db, sendId, devices);
	}

	/** The app reports a push opened: counted once per device of the send id, or ignored with a reason (never an error for an unknown send id or token). */
	async recordOpen(input: unknown): Promise<OpenResult> {
		const record = parseInput(OpenInput, input, 'open');
		return this.engine.transaction((tx) => recordOpen(tx, record, this.clock(), sendLogKey));
	}

	/** Sets the devices a campaign skipped, by reason (its latest run's census). */
	async recordSkipped(sendId: string, skipped: Record<string, number>): Promise<void> {
		const ref = parseInput(SendRef, { sendId }, 'skipped devices');
		await this.engine.transaction((tx) => recordSkipped(tx, ref.sendId, skipped, this.clock()));
	}

	/** A send id's report; null when the store keeps none for it. */
	async sendReport(sendId: string): Promise<SendReport | null> {
		return sendReport(this.engine.db, parseInput(SendRef, { sendId }, 'send report').sendId);
	}

	/** The sends started in a range (from inclusive, to exclusive), newest first, with their headline figures. */
	async listSends(range: ReportRange = {}): Promise<SendHeadline[]> {
		return listSends(this.engine.db, parseInput(ReportRange, range, 'send list'));
	}

	async cleanup(options: unknown = {}): Promise<CleanupReport> {
		return cleanup(this.engine, parseInput(CleanupOptions, options, 'clean-up options'), this.clock);
	}

	/** Unsubscribe or resubscribe a user (created if unknown, so an opt-out is never lost). */
	async setSubscription(input: unknown): Promise<ProfileView> {
		const record = parseInput(SubscriptionInput, input, 'subscription');
		return this.engine.transaction(async (tx) => {
			const now = this.clock();
			const user = await findOrCreateUser(tx, record.userId, now);
			const unsubscribed = record.unsubscribed ? 1 : 0;
			await tx.updateTable('profiles').set({ unsubscribed, updated_at: now }).where('id', '=', user.id).execute();
			return profileView({ ...user, unsubscribed, updated_at: now });
		}, { lock: lockKeys(record) });
	}

	/** The export view of a profile: who it is and its push tokens. Null when unknown. */
	async getProfile(ref: ProfileRef): Promise<ProfileExport | null> {
		const parsed = parseInput(ProfileRef, ref, 'profile');
		const profile = await this.engine.db
			.selectFrom('profiles')
			.selectAll()
			.$call((q) => ('userId' in parsed ? q.where('external_id', '=', parsed.userId) : q.where('id', '=', parsed.profileId)))
			.executeTakeFirst();
		return profile ? exportProfile(this.engine.db, profile) : null;
	}

	async getDevice(appId: string, token: string): Promise<DeviceView | null> {
		const key = parseInput(TokenLookup, { appId, token }, 'device lookup');
		const row = await deviceByToken(this.engine.db, key.appId, key.token);
		return row ? deviceView(row) : null;
	}

	/** The changelog of a token (or its Web Push subscription) or of a user, oldest first (or as `page` says). */
	async changelog(filter: { appId: string; token: unknown } | { userId: string }, page: number | ChangelogPage = 1000): Promise<TokenEvent[]> {
		return changelog(this.engine.db, parseInput(ChangelogFilter, filter, 'changelog filter'), parseInput(ChangelogPage, typeof page === 'number' ? { limit: page } : page, 'changelog page'));
	}

	/** The devices a push to this user may go to. */
	async devicesOfUser(userId: string, query: unknown = {}): Promise<AudienceDevice[]> {
		const user = parseInput(UserId, userId, 'user id');
		const devices = (await this.devicesOfUsers([user], query)).get(user);
		if (!devices) throw new NotFoundError(`no profile with user id "${user}"`);
		return devices;
	}

	/**
	 * The devices a push to each user may go to, in as few queries as the users allow: an empty
	 * list for a known user none of whose devices fits, null for a user the store does not know.
	 * The ids must be parsed (UserId) already.
	 */
	async devicesOfUsers(userIds: string[], query: unknown = {}): Promise<Map<string, AudienceDevice[] | null>> {
		const found: Map<string, AudienceDevice[] | null> = await devicesOfUsers(this.engine.db, userIds, parseInput(UserDevicesQuery, query, 'user devices query'));
		const missing = [...new Set(userIds.filter((u) => !found.has(u)))];
		for (let i = 0; i < missing.length; i += 1000) {
			const known = await this.engine.db.selectFrom('profiles').select('external_id').where('external_id', 'in', missing.slice(i, i + 1000)).execute();
			for (const { external_id } of known) found.set(external_id!, []);
		}
		for (const user of missing) if (!found.has(user)) found.set(user, null);
		return found;
	}

	/** For users none of whose devices a push may go to: how many devices each rule left out (no entry: no device at all). */
	async userExclusions(userIds: string[], query: unknown = {}): Promise<Map<string, Partial<Record<Exclusion, number>>>> {
		return userExclusions(this.engine.db, userIds, parseInput(UserDevicesQuery, query, 'user devices query'));
	}

	/** Before a campaign: the providers its audience reaches, and how many of the app's devices each rule leaves out. */
	async audienceCensus(query: AudienceQuery): Promise<{ providers: Provider[]; excluded: Record<Exclusion, number> }> {
		return audienceCensus(this.engine.db, parseInput(AudienceQuery, query, 'audience query'));
	}

	/** The devices these tokens belong to, keyed by tokenKey(appId, token); the keys must be parsed (canonical) already. */
	async getDevices(keys: Array<{ appId: string; token: string }>): Promise<Map<string, DeviceView>> {
		const out = new Map<string, DeviceView>();
		for (const [appId, tokens] of byApp(keys, (k) => k.token)) {
			const distinct = [...new Set(tokens)];
			for (let i = 0; i < distinct.length; i += 1000) {
				const rows = await this.engine.db.selectFrom('devices').selectAll().where('app_id', '=', appId).where('token', 'in', distinct.slice(i, i + 1000)).execute();
				for (const row of rows) out.set(tokenKey(appId, row.token), deviceView(row));
			}
		}
		return out;
	}

	/** The audience of an app, page by page. */
	async *audience(query: AudienceQuery): AsyncGenerator<AudienceDevice[]> {
		yield* audience(this.engine.db, parseInput(AudienceQuery, query, 'audience query'));
	}

	close(): Promise<void> {
		return this.engine.close();
	}
}

/** A claim or a release of send ids holds each one's key: a release that drops a send id cannot race a claim under it. */
const sendLocks = (claims: SendClaim[]) => [...new Set(claims.map((c) => c.sendId))].flatMap((sendId) => lockKeys({ sendId }));

/** Stores opened by this process, one per distinct config. */
const openStores = new Map<string, Promise<TokenStore>>();

/** The store for a config, opened once per process and shared by every node and execution. */
export function openStore(config: StoreConfig): Promise<TokenStore> {
	// The key is a hash so no password is kept as a readable map key.
	const key = createHash('sha256').update(JSON.stringify(config)).digest('hex');
	let store = openStores.get(key);
	if (!store) {
		store = TokenStore.open(config);
		store.catch(() => openStores.delete(key));
		openStores.set(key, store);
	}
	return store;
}

export async function closeAllStores(): Promise<void> {
	const stores = [...openStores.values()];
	openStores.clear();
	await Promise.all(stores.map(async (s) => (await s.catch(() => null))?.close()));
}
