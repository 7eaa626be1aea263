/**
 * Sending: devices in, one result per device out. Groups devices by provider, sends through
 * the transports, retries transient answers (429, 5xx, resets, timeouts) with exponential
 * backoff and jitter honouring Retry-After, within a bound, and records what happened in one
 * transaction per batch. A send id makes a rerun skip the devices it already reached; a test
 * send changes no token.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AudienceDevice } from '../lifecycle/queries';
import type { AudienceQuery, DeviceView, Outcome, Provider } from '../model';
import { payloadSize, type PushMessage } from '../payload/message';
import type { Delivery, Transport } from '../providers/transports';
import type { TokenStore } from '../store/TokenStore';
import type { OutcomeAction } from '../lifecycle/outcomes';
import { byApp, tokenKey } from '../lifecycle/records';

export interface SendOptions {
	/** Idempotency: devices this id already reached are skipped. */
	sendId?: string;
	/** A test send: delivered or not, no token changes. */
	test?: boolean;
	/** Apply the outcomes to the store (last_status, removal of dead tokens). */
	record?: boolean;
	/** Attempts per device, the first included. */
	maxAttempts?: number;
	/** The longest single wait between attempts, in seconds. */
	maxWaitSeconds?: number;
	/** Devices in flight at once per provider. */
	concurrency?: number;
	/** For tests: how to wait. */
	wait?: (ms: number) => Promise<unknown>;
}

export interface DeviceResult {
	appId: string;
	token: string;
	provider: Provider;
	platform: DeviceView['platform'];
	userId: string | null;
	outcome: Outcome;
	reason: string;
	statusCode?: number;
	attempts: number;
	/** What the store did (removed, sent, …), or 'skipped' for a device this send id already reached. */
	action: OutcomeAction | 'skipped';
	test: boolean;
	sendId?: string;
	messageId?: string;
}

export type Transports = Partial<Record<Provider, Transport>>;

/** Devices handed to a transport at once: FCM's sendEach takes 500, APNs multiplexes HTTP/2 streams, Web Push is one HTTPS request (and an ECDH) each. */
const CONCURRENCY: Record<Provider, number> = { fcm: 500, apns: 500, webpush: 50 };

/** Exponential backoff with full jitter (0.5 s base), never shorter than Retry-After, capped. */
export function backoffMs(attempt: number, retryAfterSeconds: number | undefined, maxWaitSeconds: number): number {
	const jittered = Math.random() * 500 * 2 ** (attempt - 1);
	return Math.min(maxWaitSeconds * 1000, Math.max((retryAfterSeconds ?? 0) * 1000, jittered));
}

/** Checks the message fits every provider that will carry it; the error names the provider and the sizes. */
export function checkSizes(message: PushMessage, providers: Iterable<Provider>): string | null {
	for (const provider of new Set(providers)) {
		const { bytes, limit } = payloadSize(provider, message);
		if (bytes > limit) return `the ${provider} payload is ${bytes} bytes, over its ${limit}-byte limit`;
	}
	return null;
}

export class Sender {
	constructor(
		private readonly store: TokenStore,
		private readonly transports: Transports,
	) {}

	/** The providers this sender can reach. */
	get providers(): Provider[] {
		return Object.keys(this.transports) as Provider[];
	}

	/** Sends to these devices (a user's, one token, a page of an audience). */
	async send(devices: Array<DeviceView & { userId?: string | null }>, message: PushMessage, options: SendOptions = {}): Promise<DeviceResult[]> {
		const test = !!options.test;
		const base = (d: DeviceView & { userId?: string | null }) => ({
			appId: d.appId,
			token: d.token,
			provider: d.provider,
			platform: d.platform,
			userId: d.userId ?? null,
			test,
			...(options.sendId ? { sendId: options.sendId } : {}),
		});
		const results = new Array<DeviceResult>(devices.length);
		let pending = devices.map((device, index) => ({ device, index }));

		if (options.sendId) {
			const reached = new Set<string>();
			for (const [appId, tokens] of byApp(devices, (d) => d.token)) {
				for (const token of await this.store.alreadySent(options.sendId, appId, tokens)) reached.add(tokenKey(appId, token));
			}
			pending = pending.filter(({ device, index }) => {
				if (!reached.has(tokenKey(device.appId, device.token))) return true;
				results[index] = { ...base(device), outcome: 'delivered', reason: 'already reached by this send id', attempts: 0, action: 'skipped' };
				return false;
			});
		}

		const maxAttempts = options.maxAttempts ?? 3;
		const final: Array<{ index: number; delivery: Delivery; attempts: number }> = [];
		await Promise.all(
			groupBy(pending, (p) => p.device.provider).map(async ([provider, group]) => {
				const transport = this.transports[provider];
				if (!transport) {
					for (const p of group) final.push({ index: p.index, attempts: 0, delivery: { outcome: 'config-error', reason: `no ${provider} credential is set on the node` } });
					return;
				}
				let todo = group;
				for (let attempt = 1; todo.length > 0; attempt++) {
					const deliveries = await sendLimited(transport, todo.map((p) => p.device), message, options.concurrency ?? CONCURRENCY[provider]);
					const again: typeof todo = [];
					let waitMs = 0;
					deliveries.forEach((delivery, k) => {
						if (delivery.outcome === 'retry' && attempt < maxAttempts) {
							again.push(todo[k]);
							waitMs = Math.max(waitMs, backoffMs(attempt, delivery.retryAfterSeconds, options.maxWaitSeconds ?? 30));
						} else final.push({ index: todo[k].index, delivery, attempts: attempt });
					});
					todo = again;
					if (todo.length > 0) await (options.wait ?? sleep)(waitMs);
				}
			}),
		);

		const recorded = await this.store.recordOutcomes(
			final.map(({ index, delivery }) => ({ appId: devices[index].appId, token: devices[index].token, outcome: delivery.outcome, reason: delivery.reason.slice(0, 500) })),
			{ sendId: options.sendId, record: !!options.record && !test },
		);
		final.forEach(({ index, delivery, attempts }, k) => {
			results[index] = {
				...base(devices[index]),
				outcome: delivery.outcome,
				reason: delivery.reason,
				...(delivery.statusCode ? { statusCode: delivery.statusCode } : {}),
				...(delivery.messageId ? { messageId: delivery.messageId } : {}),
				attempts,
				action: recorded[k].action,
			};
		});
		return results;
	}

	/**
	 * A campaign: the audience streamed from the store page by page, each page sent and recorded
	 * before the next is read, so memory stays flat however large the audience.
	 */
	async sendAudience(query: AudienceQuery, message: PushMessage, options: SendOptions & { failureLimit?: number } = {}): Promise<CampaignSummary> {
		const summary: CampaignSummary = { devices: 0, delivered: 0, skipped: 0, invalidToken: 0, failed: 0, configError: 0, removed: 0, byProvider: {}, failures: [] };
		for await (const page of this.store.audience(query)) {
			const results = await this.send(page as AudienceDevice[], message, options);
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
					else if (r.outcome === 'config-error') summary.configError++;
					else summary.failed++;
					if (r.action === 'removed') summary.removed++;
					if (summary.failures.length < (options.failureLimit ?? 0)) summary.failures.push(r);
				}
			}
			// A credential or topic problem fails every device: stop instead of burning the audience.
			if (results.length > 0 && results.every((r) => r.outcome === 'config-error')) {
				throw new SendConfigError(results[0].reason, summary);
			}
		}
		return summary;
	}
}

export interface CampaignSummary {
	devices: number;
	delivered: number;
	/** Already reached by this send id. */
	skipped: number;
	invalidToken: number;
	/** Transient failures left after the last attempt. */
	failed: number;
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

/** At most `limit` devices handed to a transport at once. */
async function sendLimited(transport: Transport, devices: DeviceView[], message: PushMessage, limit: number): Promise<Delivery[]> {
	const out: Delivery[] = [];
	for (let i = 0; i < devices.length; i += limit) out.push(...(await transport.send(devices.slice(i, i + limit), message)));
	return out;
}
