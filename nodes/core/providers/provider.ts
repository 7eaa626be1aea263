/**
 * What a provider module is (one folder per provider: ./fcm, ./apns, ./webpush), and the pieces
 * their transports share. The registry (./index.ts) lists the modules; the model, the payload,
 * the sender, the answer tables and the credential mapping iterate it. How to add one:
 * CONTRIBUTING.md.
 */
import type { z } from 'zod/v4';
import type { DeviceView, Outcome, Platform, ProviderData } from '../types';
import type { MessageBase } from '../payload/base';
import type { Resolve } from '../net/guard';
import { NoAnswer } from './http2';
import type { ProviderPanel } from './panel';

export interface ProviderModule<Id extends string = string, Options extends z.ZodType = z.ZodType, Config extends z.ZodType = z.ZodType> {
	readonly id: Id;
	/** How messages name it. */
	readonly name: string;
	/** The platforms whose devices it may reach, and those it reaches unless a record says otherwise. */
	readonly platforms: readonly Platform[];
	readonly defaultFor: readonly Platform[];
	/** The kinds of address it has (recorded per device); the first is the default. */
	readonly tokenKinds: readonly [string, ...string[]];
	/** An address of its shape in the one form it is stored and looked up in; null when the text is not of its shape. */
	canonical?(raw: string): string | null;
	/** Fields of its own a register or import record may carry (APNs: `environment`), checked on every record whatever its provider. */
	readonly recordFields?: Readonly<Record<string, z.ZodType>>;
	/**
	 * Checks an address given to register or import; `kind` as the record declares it, if it does;
	 * `record` the whole record, its own fields (`recordFields`) checked.
	 */
	address(token: unknown, kind: string | undefined, record: Readonly<Record<string, unknown>>): Address | AddressIssue[];
	/** Whether a token given with no provider named has its shape (e.g. Expo's ExponentPushToken[…]): it then goes to it rather than to the platform's default. */
	owns?(raw: unknown): boolean;
	/** The token a value given to find a device by stands for, when the value is of its shape (Web Push: a subscription, found by its endpoint); undefined otherwise. */
	lookupToken?(value: unknown): unknown;
	/** Its data of a device (`Address.data`) read back from the store's JSON; null when it keeps none (or cannot read it). */
	parseData?(stored: unknown): ProviderData | null;
	/** The data a re-registration keeps, from the device's (`previous`) and the record's (`next`); without this rule, the record's. */
	mergeData?(previous: ProviderData | null, next: ProviderData | null): ProviderData | null;
	/** The fields its devices show beside the common ones (node outputs, profiles, changes), from its data; each null when it has none. */
	show?(data: ProviderData | null): Record<string, unknown>;
	/** Why a device's new address of kind `next` replaced its address of kind `previous` (both its own), when the replacement is no new token but a move it knows; null otherwise. */
	supersedeReason?(previous: string, next: string): string | null;
	/** The longest address it stores, in characters (all are ASCII as stored, so in bytes too): it must fit the index (see MAX_TOKEN_LENGTH in ../model.ts). */
	readonly maxTokenLength: number;
	/** Its options of a message (under `message[id]`). */
	readonly options: Options;
	/** What its options need of the rest of the message (paths from the message's top). */
	messageIssues?(message: MessageBase & { [K in Id]: z.output<Options> }): AddressIssue[];
	/** What it receives for a message, measured against its limit before anything is sent. */
	readonly payloadLimit: number;
	payloadBytes(message: MessageBase & { [K in Id]: z.output<Options> }): number;
	readonly answers: Answers;
	/** Devices the sender hands its transport at once. */
	readonly chunkSize: number;
	/** The config of its transport, and how n8n's credential (`credential`, its fields) is read into it. */
	readonly config: Config;
	readonly credential: { readonly name: string; config(data: Record<string, unknown>): z.input<Config> };
	/** A check of a config the schema cannot make (a key's type); throws with the field named. */
	checkConfig?(config: z.output<Config>): void;
	/** The credential test's own check (an access token fetched), where it has one; what it answers is the test's message. */
	verify?(config: z.input<Config>): Promise<string | void>;
	transport(config: z.input<Config>, network?: Network): Transport;
	/** Its transport answers for pushes later (Transport.receipts): a receipt check needs its credential. */
	readonly receipts?: true;
	/** What n8n's editor shows of it. */
	readonly panel: ProviderPanel;
}

/** How a transport reaches the network; tests inject a resolver. Proxies are read from the environment (./net/proxy). */
export interface Network {
	resolve?: Resolve;
	env?: NodeJS.ProcessEnv;
}

export interface Address {
	token: string;
	kind: string;
	/** What the provider keeps of the device beside its token (stored as JSON, read back by its `parseData`); null: nothing. */
	data: ProviderData | null;
}
export interface AddressIssue {
	/** Under `field` (e.g. ['keys', 'p256dh']). */
	path: string[];
	message: string;
	/** The record's field it is about; absent: `token`. */
	field?: string;
}

export interface Delivery {
	outcome: Outcome;
	reason: string;
	statusCode?: number;
	retryAfterSeconds?: number;
	messageId?: string;
	/** The provider's own code of its answer (UNREGISTERED, Unregistered, or the HTTP status for Web Push). */
	code?: string;
	/** Sent, and the answer lost: outcome 'retry' that the sender does not resend (the delivery promise: ../send/sender.ts). */
	deliveryUnknown?: true;
	/**
	 * A 'config-error' from the device's own push service (the server its endpoint names, or our
	 * address guard refusing that server): the device's failure or the credential's, as the sender
	 * judges it (../send/sender.ts, Refusals).
	 */
	endpointRefused?: true;
	/** Accepted, and answered for later under this id (the transport's `receipts`): a dead token shows only then. */
	receipt?: string;
}

export interface Transport {
	readonly provider: string;
	/** `messages[i]` goes to `devices[i]`; a message shared by many devices is built once. */
	send(devices: DeviceView[], messages: readonly MessageBase[]): Promise<Delivery[]>;
	/** A provider that answers for each push later: its answers to receipt ids (../send/receipts.ts). */
	readonly receipts?: Receipts;
	close(): Promise<void>;
}

export interface Receipts {
	/** How long after a push the provider keeps its receipt: one not answered by then never will be. */
	readonly keptHours: number;
	/** The answers ready so far, by receipt id; an id left out is not ready yet. */
	check(ids: string[]): Promise<Map<string, Delivery>>;
}

/** A provider's answer table: its codes (case-insensitive) to outcomes, and what a table cannot say. */
export interface Answers {
	/** What its answer means: the code read with its message. */
	outcome(code: string, message: string | undefined): { outcome: Outcome; reason: string } | null;
	/** The code alone, from its table (for an answer whose provider nobody named). */
	known(code: string): Outcome | null;
}

export function answerTable(
	entries: Partial<Record<Outcome, string[]>>,
	/** Consulted first, for codes whose meaning depends on the message. */
	special?: (lower: string, code: string, message: string | undefined) => { outcome: Outcome; reason: string } | null,
): Answers {
	const table = new Map(Object.entries(entries).flatMap(([outcome, codes]) => codes.map((c) => [c.toLowerCase(), outcome as Outcome] as const)));
	const known = (code: string) => table.get(code.trim().toLowerCase()) ?? null;
	return {
		known,
		outcome(code, message) {
			const found = special?.(code.trim().toLowerCase(), code, message) ?? null;
			if (found) return found;
			const outcome = known(code);
			return outcome ? { outcome, reason: code } : null;
		},
	};
}

/** Web Push (RFC 8030) answers only by status; FCM and APNs statuses back up their codes. */
export function byStatus(statusCode: number): Outcome | null {
	if (statusCode >= 200 && statusCode < 300) return 'delivered';
	if (statusCode === 404 || statusCode === 410) return 'invalid-token';
	if (statusCode === 408 || statusCode === 429 || statusCode >= 500) return 'retry';
	if (statusCode === 400 || statusCode === 401 || statusCode === 403 || statusCode === 413) return 'config-error';
	return null;
}

/** An answer through the provider's table, then its status. */
export function answered(provider: string, answers: Answers, code: string | undefined, statusCode: number | undefined, message?: string, retryAfterSeconds?: number): Delivery {
	const known = code ? answers.outcome(code, message) : null;
	const status = statusCode ? byStatus(statusCode) : null;
	const outcome = known?.outcome ?? status;
	const reason = known?.reason ?? (status ? (code ? `${code} (HTTP ${statusCode})` : `HTTP ${statusCode}`) : `unknown answer ${code || `HTTP ${statusCode}`} from ${provider}`);
	const given = code ?? (statusCode ? String(statusCode) : undefined);
	// An answer no table knows is treated as transient: never remove a token on a guess.
	return { outcome: outcome ?? 'retry', reason, ...(given ? { code: given } : {}), statusCode, retryAfterSeconds };
}

/** Seconds from a Retry-After header (seconds or an HTTP date). */
export function retryAfter(value: unknown): number | undefined {
	if (value === undefined || value === null || value === '') return undefined;
	const seconds = Number(value);
	if (Number.isFinite(seconds)) return Math.max(0, seconds);
	const at = Date.parse(String(value));
	return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** `build` memoised per message (a campaign's one message, or each item's own). */
export function perMessage<M extends object, T>(build: (message: M) => T): (message: M) => T {
	const built = new Map<M, T>();
	return (message) => {
		let value = built.get(message);
		if (value === undefined) built.set(message, (value = build(message)));
		return value;
	};
}

/** Node errors of a request that never reached the server (no connection, no TLS, refused by the proxy): safe to send again. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT', 'ERR_TLS_CERT_ALTNAME_INVALID', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_HAS_EXPIRED', 'ERR_PROXY_CONNECT']);

export const DELIVERY_UNKNOWN_REASON = 'connection lost after the push was sent: delivery unknown, not retried so it is never pushed twice';

/**
 * A request with no answer: certainly not processed (NOT_SENT, or a NoAnswer that says so) is a
 * transient 'retry'; anything else — a reset, a close or a timeout after the request went out, an
 * error nobody knows — may have been delivered: `deliveryUnknown`.
 */
export function networkFailure(error: unknown): Delivery {
	const e = error as { code?: string; message?: string };
	const detail = `${e.code && !String(e.message).includes(e.code) ? `${e.code} ` : ''}${e.message ?? String(error)}`.trim();
	const unknown = error instanceof NoAnswer ? error.deliveryUnknown : !(e.code && NOT_SENT.has(e.code));
	if (!unknown) return { outcome: 'retry', reason: `not sent (safe to retry): ${detail}` };
	return { outcome: 'retry', deliveryUnknown: true, reason: `${DELIVERY_UNKNOWN_REASON} (${detail})` };
}
