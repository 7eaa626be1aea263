/**
 * A push message, and what each provider receives for it. Custom key-value pairs go where the
 * platform expects them: top-level payload keys for APNs, `data` for FCM (whose values must be
 * strings: anything else is JSON-serialised on purpose), the JSON body for Web Push. "Flatten"
 * puts nested pairs at the top level under dotted keys, for legacy receivers (Braze's Flatten
 * Push Payload). Sizes are checked against each provider's limit before anything is sent.
 */
import { z } from 'zod/v4';
import type { Provider } from '../model';

const optionalText = (what: string, max = 1000) => z.string({ error: `expected ${what} as text` }).max(max, `expected ${what} of at most ${max} characters`).optional();

/** A plain object (of any realm, or without a prototype): JSON's objects, not arrays, dates or class instances. */
function isPairs(value: unknown): value is Record<string, unknown> {
	if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
	const proto = Object.getPrototypeOf(value) as object | null;
	return proto === null || Object.getPrototypeOf(proto) === null;
}

/** Deeper than any payload needs, shallow enough that flattening and JSON never exhaust the stack. */
const MAX_DATA_DEPTH = 32;

/** How deep objects and arrays nest in a value, counted without recursion (the value may be hostile); stops past the bound. */
function depth(value: unknown): number {
	let deepest = 0;
	const todo: Array<[unknown, number]> = [[value, 1]];
	while (todo.length > 0) {
		const [v, d] = todo.pop()!;
		if (v === null || typeof v !== 'object') continue;
		deepest = Math.max(deepest, d);
		if (deepest > MAX_DATA_DEPTH) break;
		for (const child of Object.values(v)) todo.push([child, d + 1]);
	}
	return deepest;
}

export const PushMessage = z.object({
	title: optionalText('a title'),
	body: optionalText('a body', 4000),
	subtitle: optionalText('a subtitle'),
	imageUrl: z.url({ error: 'expected imageUrl to be a URL' }).optional(),
	deepLink: optionalText('a deep link', 2000),
	badge: z.number().int().min(0, 'expected badge to be 0 or more').optional(),
	sound: optionalText('a sound name', 200),
	/** Custom key-value pairs (any key: z.record refuses a key named "constructor", or throws a TypeError on one set to null). */
	data: z
		.custom<Record<string, unknown>>(isPairs, { error: 'expected data to be an object of key-value pairs' })
		.refine((data) => depth(data) <= MAX_DATA_DEPTH, `expected data nested at most ${MAX_DATA_DEPTH} levels deep`)
		.default({}),
	flatten: z.boolean().default(false),
	/** A background (silent) push: no alert, wakes the app. */
	silent: z.boolean().default(false),
	apns: z
		.object({
			priority: z.union([z.literal(5), z.literal(10)]).optional(),
			threadId: optionalText('a thread id', 200),
			category: optionalText('a category', 200),
			mutableContent: z.boolean().optional(),
			interruptionLevel: z.enum(['passive', 'active', 'time-sensitive', 'critical']).optional(),
			collapseId: z.string().max(64, 'expected an APNs collapse id of at most 64 bytes').optional(),
			/** Seconds since the epoch after which APNs stops trying. */
			expiration: z.number().int().min(0).optional(),
		})
		.default({}),
	fcm: z
		.object({
			priority: z.enum(['high', 'normal']).optional(),
			ttlSeconds: z.number().int().min(0).max(2_419_200, 'expected an FCM TTL of at most 28 days').optional(),
			collapseKey: optionalText('a collapse key', 200),
			channelId: optionalText('a channel id', 200),
			/** Only `data`, no `notification`: the app renders it (legacy receivers). */
			dataOnly: z.boolean().optional(),
		})
		.default({}),
	webpush: z
		.object({
			ttlSeconds: z.number().int().min(0).optional(),
			urgency: z.enum(['very-low', 'low', 'normal', 'high']).optional(),
			topic: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'expected a Web Push topic of 1 to 32 URL-safe characters').optional(),
		})
		.default({}),
});
export type PushMessage = z.output<typeof PushMessage>;
export type PushMessageInput = z.input<typeof PushMessage>;

/** Provider payload limits, in bytes. Web Push: 4096 after encryption, less the aes128gcm overhead (86 + 16 + 1). */
export const PAYLOAD_LIMITS: Record<Provider, number> = { apns: 4096, fcm: 4096, webpush: 3993 };

/**
 * `{ a: { b: 1 } }` → `{ 'a.b': 1 }`. Built with Object.fromEntries, which keeps every key as its
 * own property: assigning `out[key]` would drop a key named "__proto__" (or set the prototype).
 */
export function flatten(data: Record<string, unknown>): Record<string, unknown> {
	return Object.fromEntries(flatEntries(data, ''));
}

function flatEntries(data: Record<string, unknown>, prefix: string): Array<[string, unknown]> {
	return Object.entries(data).flatMap(([key, value]) => {
		const name = prefix ? `${prefix}.${key}` : key;
		return value !== null && typeof value === 'object' && !Array.isArray(value) ? flatEntries(value as Record<string, unknown>, name) : [[name, value] as [string, unknown]];
	});
}

function customPairs(message: PushMessage): Record<string, unknown> {
	const pairs = message.flatten ? flatten(message.data) : { ...message.data };
	if (message.deepLink !== undefined) pairs.deep_link ??= message.deepLink;
	return pairs;
}

/** FCM data values are strings: strings stay, everything else is JSON. */
export function fcmData(pairs: Record<string, unknown>): Record<string, string> {
	return Object.fromEntries(Object.entries(pairs).flatMap(([key, value]) => (value === undefined ? [] : [[key, typeof value === 'string' ? value : JSON.stringify(value)]])));
}

/** The FCM v1 message, without its target token. */
export function fcmMessage(message: PushMessage) {
	const data = fcmData(customPairs(message));
	const visible = !message.silent && !message.fcm.dataOnly;
	return {
		...(visible ? { notification: { title: message.title, body: message.body, imageUrl: message.imageUrl } } : {}),
		...(Object.keys(data).length ? { data } : {}),
		android: {
			priority: message.fcm.priority ?? (message.silent ? 'normal' : 'high'),
			...(message.fcm.ttlSeconds !== undefined ? { ttl: message.fcm.ttlSeconds * 1000 } : {}),
			...(message.fcm.collapseKey ? { collapseKey: message.fcm.collapseKey } : {}),
			...(visible && (message.fcm.channelId || message.sound) ? { notification: { channelId: message.fcm.channelId, sound: message.sound } } : {}),
		},
	};
}

/** The APNs payload ({ aps, ...custom }) and the headers that go with it. */
export function apnsPayload(message: PushMessage) {
	const aps: Record<string, unknown> = {};
	if (message.silent) aps['content-available'] = 1;
	else {
		aps.alert = { title: message.title, subtitle: message.subtitle, body: message.body };
		if (message.sound) aps.sound = message.sound;
		if (message.badge !== undefined) aps.badge = message.badge;
		if (message.apns.threadId) aps['thread-id'] = message.apns.threadId;
		if (message.apns.category) aps.category = message.apns.category;
		if (message.apns.mutableContent || message.imageUrl) aps['mutable-content'] = 1;
		if (message.apns.interruptionLevel) aps['interruption-level'] = message.apns.interruptionLevel;
	}
	const custom = customPairs(message);
	if (message.imageUrl) custom.image_url ??= message.imageUrl;
	return {
		payload: { ...custom, aps },
		pushType: message.silent ? ('background' as const) : ('alert' as const),
		priority: message.apns.priority ?? (message.silent ? 5 : 10),
		collapseId: message.apns.collapseId,
		expiration: message.apns.expiration,
	};
}

/** The JSON a service worker receives in its push event. */
export function webPushBody(message: PushMessage): string {
	return JSON.stringify({
		title: message.title,
		body: message.body,
		image: message.imageUrl,
		badge: message.badge,
		data: customPairs(message),
		silent: message.silent || undefined,
	});
}

/** The size of what the provider will receive, and its limit. */
export function payloadSize(provider: Provider, message: PushMessage): { bytes: number; limit: number } {
	const body = provider === 'apns' ? JSON.stringify(apnsPayload(message).payload) : provider === 'fcm' ? JSON.stringify(fcmMessage(message)) : webPushBody(message);
	return { bytes: Buffer.byteLength(body), limit: PAYLOAD_LIMITS[provider] };
}
