/**
 * Sending: devices in, one result per device out. Groups devices by provider, sends through
 * the transports, retries what certainly did not reach the provider with exponential backoff and
 * jitter honouring Retry-After, within a bound, and records what happened in one transaction per
 * batch. A send id makes a rerun skip the devices it already reached; a test send changes no token.
 *
 * The delivery promise: **a device is pushed at most once by a send, and every device ends
 * delivered or failed with a reason.** Per device, a failure is one of:
 *   - certainly not processed by the provider — a 429 or 5xx answer, a connection refused, a
 *     request never sent, a stream refused (REFUSED_STREAM) or above a GOAWAY's last stream id:
 *     retried, up to `maxAttempts`, then reported failed ('retry');
 *   - ambiguous — the request went out and its answer was lost (a connection reset or closed
 *     mid-request, no answer in time): the provider may have delivered it, and neither APNs
 *     (apns-id) nor FCM (message name) deduplicates a resent request, so it is **not retried**:
 *     reported failed ('retry', `deliveryUnknown`, reason "connection lost after the push was sent:
 *     delivery unknown, …") and never sent again by this send — unless `resendLostAnswers`
 *     asks for at least once instead: then it is retried like the first kind, and may arrive twice;
 *   - a dead token ('invalid-token', removed) or a configuration error ('config-error').
 * No token is removed or suppressed because of a transient or ambiguous failure.
 *
 * A configuration error is the credential's only when it is: a Web Push endpoint names its own
 * push service, so whoever registers a subscription chooses who answers it (or points it at an
 * address our guard refuses). Such a refusal (`endpointRefused`) is judged by what else the
 * credential reached: once this sender delivered to any device of that provider, the key is
 * good, and the refusal is the device's ('bounced': suppressed at the second in a row). Until
 * then it changes nothing; a campaign holds it and judges it at its end, and fails only if it
 * reached no device at all. So an attacker can fill a page with refusing endpoints, never stop
 * the campaign, while a key refused everywhere still stops it and suppresses nobody.
 *
 * What a send id adds: **at most once per device across runs**, even across a crash. Each chunk
 * handed to a transport (500 FCM or APNs devices, 50 Web Push) is first claimed in the send log in
 * a transaction of its own (claimSends: INSERT … ON CONFLICT DO NOTHING RETURNING), and only the
 * devices this run claimed are sent to. Devices the send certainly did not reach (a transient
 * failure after the last attempt, a dead token, a configuration error) are released in the
 * transaction that records their outcomes, so a rerun tries them again; a delivered device and an ambiguous one stay
 * claimed, so a rerun skips them. (Under a send id that keeps a report, a released claim stays in
 * the log marked with its failure, which the report takes back when a rerun claims it again: see
 * ../lifecycle/reports.ts; that transaction also counts the devices in the report.) So:
 *   - a rerun, or a second worker running the same send id at the same time, never sends to a
 *     device already reached, possibly reached, or in flight;
 *   - if the process dies between the claim and the recording (provider accepted or not — we
 *     cannot know), the device stays claimed and a rerun skips it: such a device is reached
 *     once or not at all, never twice. At most the chunks in flight at the crash (one per
 *     provider) are affected, plus the unreached devices of a batch whose outcomes did not commit.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AudienceDevice } from '../lifecycle/queries';
import { parseInput } from '../errors';
import { SendOptionsKeys, type AudienceQuery, type DeviceView, type Outcome, type Provider } from '../model';
import { everyLanguage, localize, payloadSize, type PushMessage } from '../payload/message';
import { providerModule } from '../providers';
import type { Delivery, Transport } from '../providers/provider';
import type { TokenStore } from '../store/TokenStore';
import { claimKey, type OutcomeAction, type SendClaim } from '../lifecycle/outcomes';
import { tokenKey } from '../store/keys';
import { isReported, SEND_ID_DATA_KEY } from '../lifecycle/reports';
import { holdRule, HOLDS, Pacer, type DeliveryControls, type Hold } from './controls';

export interface SendOptions {
	/** Idempotency: devices this id already reached are skipped. One for every device, or one per device (`sendId[i]` for `devices[i]`). */
	sendId?: string | readonly string[];
	/** A test send: delivered or not, no token changes. */
	test?: boolean;
	/** Apply the outcomes to the store (last_status, removal of dead tokens). */
	record?: boolean;
	/** Attempts per device, the first included. */
	maxAttempts?: number;
	/**
	 * At least once instead of at most once: a push whose answer was lost is sent again like any
	 * transient failure, so a device may get it twice (set a collapse ID so it shows once).
	 */
	resendLostAnswers?: boolean;
	/** The longest single wait between attempts, in seconds. */
	maxWaitSeconds?: number;
	/** Devices in flight at once per provider. */
	concurrency?: number;
	/** For tests: how to wait. */
	wait?: (ms: number) => Promise<unknown>;
	/** Marketing pushes (not transactional): the delivered ones count toward frequency caps (when recorded). */
	marketing?: boolean;
	/** Paces the pushes (shared by the pages of a campaign). */
	pacer?: Pacer;
}

export interface DeviceResult {
	appId: string;
	token: string;
	provider: Provider;
	platform: DeviceView['platform'];
	userId: string | null;
	outcome: Outcome;
	reason: string;
	/** The provider's own code (UNREGISTERED, Unregistered, 410), beside the outcome it means. */
	code?: string;
	statusCode?: number;
	/** The provider's Retry-After, in seconds. */
	retryAfterSeconds?: number;
	/** Attempts at this push (a Send Push → Handle Push Feedback → Wait loop adds the attempts of the laps before). */
	attempts: number;
	/** What the store did (removed, sent, …), or 'skipped' for a device this send id already reached. */
	action: OutcomeAction | 'skipped';
	/** The push was sent and its answer lost: it may have been delivered; not retried (never twice). */
	deliveryUnknown?: true;
	/** A configuration error of this device's own push service, not judged yet (see the top of this file). */
	endpointRefused?: true;
	test: boolean;
	sendId?: string;
	messageId?: string;
}

export type Transports = Partial<Record<Provider, Transport>>;

/** Exponential backoff with full jitter (0.5 s base), never shorter than Retry-After, capped. */
export function backoffMs(attempt: number, retryAfterSeconds: number | undefined, maxWaitSeconds: number): number {
	const jittered = Math.random() * 500 * 2 ** (attempt - 1);
	return Math.min(maxWaitSeconds * 1000, Math.max((retryAfterSeconds ?? 0) * 1000, jittered));
}

/** Checks the message fits every provider that will carry it; the error names the provider and the sizes. */
export function checkSizes(message: PushMessage, providers: Iterable<Provider>): string | null {
	for (const provider of new Set(providers)) {
		for (const [language, variant] of everyLanguage(message)) {
			const { bytes, limit } = payloadSize(provider, variant);
			if (bytes > limit) return `the ${provider} payload${language ? ` in ${language}` : ''} is ${bytes} bytes, over its ${limit}-byte limit`;
		}
	}
	return null;
}

/**
 * The message a device gets under a send id that keeps a report: its data carries the send id
 * (SEND_ID_DATA_KEY, over a custom pair of that name), so the app can report the open.
 */
export function withSendId(message: PushMessage, sendId: string | undefined): PushMessage {
	if (!sendId || !isReported(sendId) || message.data[SEND_ID_DATA_KEY] === sendId) return message;
	return { ...message, data: { ...message.data, [SEND_ID_DATA_KEY]: sendId } };
}

/** A configuration error that is the credential's (or the topic's): every device of its provider fails alike. */
const credentialRefused = (r: Pick<DeviceResult, 'outcome' | 'endpointRefused'>): boolean => r.outcome === 'config-error' && !r.endpointRefused;

/** Endpoint refusals a campaign holds to judge at its end; past this many they stay unjudged (unchanged) for this run. */
const MAX_HELD_REFUSALS = 10_000;

export class Sender {
	/** Providers through which this sender delivered: their credential is proven good. */
	private readonly reached = new Set<Provider>();

	constructor(
		private readonly store: TokenStore,
		private readonly transports: Transports,
	) {}

	/** The providers this sender can reach. */
	get providers(): Provider[] {
		return Object.keys(this.transports) as Provider[];
	}

	/**
	 * Sends to these devices (users', tokens, a page of an audience) one message, or each device
	 * its own (`messages[i]` to `devices[i]`: the items of an execution, each personalised).
	 */
	async send(devices: Array<DeviceView & { userId?: string | null }>, messages: PushMessage | readonly PushMessage[], options: SendOptions = {}): Promise<DeviceResult[]> {
		const test = !!options.test;
		const sendIdOf = sendIds(options.sendId);
		// (one copy per distinct message and send id: an audience's million devices share one)
		const stamped = new Map<PushMessage, Map<string | undefined, PushMessage>>();
		const messageOf = (index: number): PushMessage => {
			const message = localize(isMessageList(messages) ? messages[index] : messages, devices[index].language);
			const sendId = sendIdOf(index);
			const bySendId = stamped.get(message) ?? stamped.set(message, new Map()).get(message)!;
			return bySendId.get(sendId) ?? bySendId.set(sendId, withSendId(message, sendId)).get(sendId)!;
		};
		const claimOf = (index: number): SendClaim | null => {
			const sendId = sendIdOf(index);
			const d = devices[index];
			return sendId ? { sendId, appId: d.appId, token: d.token, provider: d.provider, platform: d.platform, title: messageOf(index).title } : null;
		};
		const base = (index: number) => {
			const d = devices[index];
			const sendId = sendIdOf(index);
			return { appId: d.appId, token: d.token, provider: d.provider, platform: d.platform, userId: d.userId ?? null, test, ...(sendId ? { sendId } : {}) };
		};
		const results = new Array<DeviceResult>(devices.length);
		type Pending = { device: (typeof devices)[number]; index: number };
		/** Claims a chunk in the send log before it is sent; the devices already claimed are skipped. */
		const claim = async (chunk: Pending[]): Promise<Pending[]> => {
			const claims = chunk.flatMap(({ index }) => claimOf(index) ?? []);
			if (claims.length === 0) return chunk;
			const claimed = await this.store.claimSends(claims);
			return chunk.filter(({ index }) => {
				const key = claimOf(index);
				// (claimed once: a token listed twice under one send id is sent once)
				if (!key || claimed.delete(claimKey(key))) return true;
				results[index] = { ...base(index), outcome: 'delivered', reason: 'already reached by this send id (or in flight when an earlier run stopped)', attempts: 0, action: 'skipped' };
				return false;
			});
		};

		const maxAttempts = options.maxAttempts ?? 3;
		const final: Array<{ index: number; delivery: Delivery; attempts: number }> = [];
		/** Devices one of whose pushes may have been delivered: never released for a rerun of the send id. */
		const deliveryUnknown = new Set<number>();
		await Promise.all(
			groupBy(
				devices.map((device, index) => ({ device, index })),
				(p) => p.device.provider,
			).map(async ([provider, group]) => {
				const transport = this.transports[provider];
				if (!transport) {
					for (const p of group) final.push({ index: p.index, attempts: 0, delivery: { outcome: 'config-error', reason: `no ${provider} credential is set on the node` } });
					return;
				}
				const chunkSize = options.concurrency ?? providerModule(provider).chunkSize;
				const limit = options.pacer ? options.pacer.chunk(chunkSize) : chunkSize;
				let todo = group;
				for (let attempt = 1; todo.length > 0; attempt++) {
					const sent: Array<{ p: Pending; delivery: Delivery }> = [];
					for (let i = 0; i < todo.length; i += limit) {
						// At most `limit` devices handed to the transport at once; claimed first on the first attempt.
						const chunk = attempt === 1 ? await claim(todo.slice(i, i + limit)) : todo.slice(i, i + limit);
						if (chunk.length === 0) continue;
						await options.pacer?.take(chunk.length);
						const deliveries = await transport.send(
							chunk.map((p) => p.device),
							chunk.map((p) => messageOf(p.index)),
						);
						deliveries.forEach((delivery, k) => sent.push({ p: chunk[k], delivery }));
					}
					const again: typeof todo = [];
					let waitMs = 0;
					for (const { p, delivery } of sent) {
						if (delivery.deliveryUnknown) deliveryUnknown.add(p.index);
						// (an ambiguous failure is not sent again unless asked: the provider may have delivered it)
						if (delivery.outcome === 'retry' && (!delivery.deliveryUnknown || options.resendLostAnswers) && attempt < maxAttempts) {
							again.push(p);
							waitMs = Math.max(waitMs, backoffMs(attempt, delivery.retryAfterSeconds, options.maxWaitSeconds ?? 30));
						} else final.push({ index: p.index, delivery, attempts: attempt });
					}
					todo = again;
					if (todo.length > 0) await (options.wait ?? sleep)(waitMs);
				}
			}),
		);

		for (const { index, delivery } of final) if (delivery.outcome === 'delivered') this.reached.add(devices[index].provider);
		for (const f of final) if (f.delivery.endpointRefused && this.reached.has(devices[f.index].provider)) f.delivery = this.bounce(f.delivery);

		// (attempts 0: never claimed by this run — no transport — so not ours to release; a device
		// that may have been reached stays claimed: a rerun of the send id must not push it again)
		const unreached = final.flatMap(({ index, delivery, attempts }) => (delivery.outcome !== 'delivered' && !deliveryUnknown.has(index) && attempts > 0 ? (claimOf(index) ?? []) : []));
		// The report counts the devices this run claimed (attempts > 0), in the same transaction as their outcomes.
		const report = final.map(({ index, delivery, attempts }) => {
			const sendId = sendIdOf(index);
			if (!sendId || !isReported(sendId) || attempts === 0) return undefined;
			return { sendId, provider: devices[index].provider, platform: devices[index].platform, outcome: delivery.outcome, code: delivery.code, deliveryUnknown: deliveryUnknown.has(index) };
		});
		const recorded = await this.store.recordOutcomes(
			final.map(({ index, delivery }) => ({ appId: devices[index].appId, token: devices[index].token, outcome: delivery.outcome, reason: delivery.reason, test })),
			{
				record: !!options.record,
				release: unreached,
				report,
				marketing: !!options.marketing && !test,
				receipts: final.map(({ index, delivery }) => (delivery.receipt ? { provider: devices[index].provider, receiptId: delivery.receipt } : undefined)),
			},
		);
		final.forEach(({ index, delivery, attempts }, k) => {
			results[index] = {
				...base(index),
				outcome: delivery.outcome,
				reason: delivery.reason,
				...(delivery.code ? { code: delivery.code } : {}),
				...(delivery.statusCode ? { statusCode: delivery.statusCode } : {}),
				...(delivery.retryAfterSeconds !== undefined ? { retryAfterSeconds: delivery.retryAfterSeconds } : {}),
				...(delivery.messageId ? { messageId: delivery.messageId } : {}),
				...(delivery.deliveryUnknown ? { deliveryUnknown: true as const } : {}),
				...(delivery.endpointRefused ? { endpointRefused: true as const } : {}),
				attempts,
				action: recorded[k].action,
			};
		});
		return results;
	}

	/** An endpoint refusal judged the device's own. */
	private bounce<D extends { reason: string; endpointRefused?: true }>(delivery: D): D & { outcome: 'bounced' } {
		return { ...delivery, outcome: 'bounced', endpointRefused: undefined, reason: `${delivery.reason} (other devices were reached with the same credential: this device's own failure)` };
	}

	/**
	 * A campaign: the audience streamed from the store page by page, each page sent and recorded
	 * before the next is read, so memory stays flat however large the audience.
	 */
	async sendAudience(query: AudienceQuery, message: PushMessage, options: SendOptions & { failureLimit?: number; controls?: DeliveryControls } = {}): Promise<CampaignSummary> {
		const summary: CampaignSummary = { devices: 0, delivered: 0, skipped: 0, invalidToken: 0, failed: 0, deliveryUnknown: 0, configError: 0, removed: 0, ...zeroHolds(), byProvider: {}, failures: [] };
		const held: DeviceResult[] = [];
		const { controls } = options;
		const marketing = !query.transactional;
		const send: SendOptions = { ...options, marketing, ...(controls?.pushesPerMinute ? { pacer: new Pacer(controls.pushesPerMinute, options.wait) } : {}) };
		for await (const page of this.store.audience(query)) {
			const results = await this.send(await this.hold(page, controls && holdRule(controls, marketing, this.store.now()), options.sendId, summary), message, send);
			for (const r of results) {
				summary.devices++;
				const p = (summary.byProvider[r.provider] ??= { devices: 0, delivered: 0 });
				p.devices++;
				if (r.action === 'skipped') summary.skipped++;
				else if (r.outcome === 'delivered') {
					summary.delivered++;
					p.delivered++;
				} else {
					if (r.outcome === 'invalid-token') summary.invalidToken++;
					else if (r.outcome === 'config-error') {
						summary.configError++;
						if (r.endpointRefused && held.length < MAX_HELD_REFUSALS) held.push(r);
					}
					else {
						summary.failed++;
						if (r.deliveryUnknown) summary.deliveryUnknown++;
					}
					if (r.action === 'removed') summary.removed++;
					if (summary.failures.length < (options.failureLimit ?? 0)) summary.failures.push(r);
				}
			}
			// A credential or topic problem fails every device: stop instead of burning the audience.
			if (results.length > 0 && results.every((r) => r.outcome === 'config-error') && results.some(credentialRefused)) {
				throw new SendConfigError(results.find(credentialRefused)!.reason, summary);
			}
		}
		await this.judge(held, summary, options);
		return summary;
	}

	/**
	 * The devices of a page the delivery controls let this run reach now; the rest counted in the
	 * summary by why — except those the send id already reached, which count as skipped.
	 */
	private async hold(page: AudienceDevice[], rule: ReturnType<typeof holdRule> | undefined, sendId: SendOptions['sendId'], summary: CampaignSummary): Promise<AudienceDevice[]> {
		if (!rule) return page;
		const now: AudienceDevice[] = [];
		const later: Array<[AudienceDevice, Hold]> = [];
		for (const device of page) {
			const hold = rule(device);
			if (hold) later.push([device, hold]);
			else now.push(device);
		}
		const reached = typeof sendId === 'string' && later.length > 0 ? await this.store.claimedBy(sendId, later.map(([d]) => d)) : new Set<string>();
		for (const [device, hold] of later) {
			summary.devices++;
			if (reached.has(tokenKey(device.appId, device.token))) summary.skipped++;
			else summary[hold]++;
		}
		return now;
	}

	/** The endpoint refusals a campaign held, judged now that it has reached all it could (see the top of this file). */
	private async judge(held: DeviceResult[], summary: CampaignSummary, options: SendOptions): Promise<void> {
		if (held.length > 0 && summary.delivered === 0 && summary.skipped === 0) throw new SendConfigError(`no device was reached and every push service refused: ${held[0].reason}`, summary);
		const devices = held.filter((r) => this.reached.has(r.provider));
		if (devices.length === 0) return;
		const bounced = devices.map((r) => this.bounce(r));
		const recorded = await this.store.recordOutcomes(
			bounced.map((r) => ({ appId: r.appId, token: r.token, outcome: r.outcome, reason: r.reason, test: r.test })),
			{ record: !!options.record, release: [] },
		);
		devices.forEach((r, k) => {
			Object.assign(r, bounced[k], { action: recorded[k].action });
			delete r.endpointRefused;
			summary.configError--;
			summary.failed++;
		});
	}
}

export interface CampaignSummary extends Record<Hold, number> {
	/** The audience's devices this run went through, whatever became of them. */
	devices: number;
	delivered: number;
	/** Already reached by this send id. */
	skipped: number;
	invalidToken: number;
	/** Transient failures left after the last attempt, and ambiguous ones (deliveryUnknown). */
	failed: number;
	/** Of `failed`: sent, the answer lost — possibly delivered, not retried (never twice). */
	deliveryUnknown: number;
	configError: number;
	/** Dead tokens removed from the store. */
	removed: number;
	byProvider: Partial<Record<Provider, { devices: number; delivered: number }>>;
	failures: DeviceResult[];
}

export class SendConfigError extends Error {
	override readonly name = 'SendConfigError';
	constructor(
		readonly reason: string,
		readonly summary: CampaignSummary,
	) {
		super(`every device of a batch was refused because of the configuration: ${reason}`);
	}
}

/** The send id of each device: none, one for all, or one each; every one checked. */
function sendIds(ids: SendOptions['sendId']): (index: number) => string | undefined {
	if (ids === undefined) return () => undefined;
	const check = (id: string) => parseInput(SendOptionsKeys, { sendId: id }, 'send').sendId;
	if (typeof ids === 'string') {
		const id = check(ids);
		return () => id;
	}
	const checked = ids.map(check);
	return (index) => checked[index];
}

const zeroHolds = () => Object.fromEntries(HOLDS.map((h) => [h, 0])) as Record<Hold, number>;

function isMessageList(messages: PushMessage | readonly PushMessage[]): messages is readonly PushMessage[] {
	return Array.isArray(messages);
}

function groupBy<T, K>(items: T[], key: (item: T) => K): Array<[K, T[]]> {
	const groups = new Map<K, T[]>();
	for (const item of items) {
		const k = key(item);
		const group = groups.get(k);
		if (group) group.push(item);
		else groups.set(k, [item]);
	}
	return [...groups];
}


/** Lets pending I/O (a chunk's requests and their answers) run before more synchronous work, such as reading the next items. */
export const yieldToIo = (): Promise<void> => new Promise((done) => setImmediate(done));
