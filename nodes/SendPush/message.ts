/**
 * What Send Push says, whatever it is sent to: the message fields and options, read per item
 * (so every field may be an expression of that item), and the send options they set. Each
 * version's panel (v1.ts, v2.ts) has its reader into one shape, Fields; the rest is shared.
 */
import { createHash } from 'node:crypto';
import { NodeOperationError, type IExecuteFunctions, type INodeProperties } from 'n8n-workflow';
import { AUTO_SEND_ID_PREFIX, checkSizes, DeliveryControls, PROVIDERS, providerModule, PushMessage, parseInput, SendOptionsKeys, withSendId, type Provider, type SendOptions } from '../core';
import { optional } from '../shared/fields';
import type { ReadParameter } from '../shared/parameters';

/** The send options, flat (as version 1's Options collection holds them), beside each provider's options (its panel's fields, by name). */
export interface Options {
	[providerField: string]: unknown;
	transactional?: boolean;
	test?: boolean;
	sendId?: string;
	updateStore?: boolean;
	maxAttempts?: number;
	resendLostAnswers?: boolean;
	failureLimit?: number;
	includeAnonymous?: boolean;
	includeImported?: boolean;
	ttlSeconds?: number;
	/** Version 2's Delivery collection (an audience send). */
	delivery?: {
		localTime?: string;
		localTimeWindowMinutes?: number;
		defaultTimeZone?: string;
		quietHoursStart?: string;
		quietHoursEnd?: string;
		frequencyCapPushes?: number;
		frequencyCapHours?: number;
		pushesPerMinute?: number;
	};
}

/** The message's fields beside the title and body. */
export interface MessageFields {
	subtitle?: string;
	imageUrl?: string;
	deepLink?: string;
	badge?: number;
	sound?: string;
	silent?: boolean;
	flatten?: boolean;
	/** Nested custom data: JSON text, or an object an expression gave. */
	dataJson?: unknown;
	/** Custom data's key-value pairs, over the JSON's keys. */
	pairs: Array<{ key: string; value: string }>;
	/** Version 2's Localized Content. */
	localized?: Array<{ language: string; title?: string; subtitle?: string; body?: string }>;
}

/** What an item's panel says, whichever version it is. */
export interface Fields {
	message: MessageFields;
	options: Options;
}

/** Every version's first message fields; the rest is each version's panel (v1.ts, v2.ts). */
export const messageProperties: INodeProperties[] = [
	{ displayName: 'Title', name: 'title', type: 'string', default: '' },
	{ displayName: 'Body', name: 'body', type: 'string', typeOptions: { rows: 3 }, default: '' },
];

/** The message and options of item i. */
export function readMessage(context: IExecuteFunctions, read: ReadParameter, i: number, readFields: (read: ReadParameter, i: number) => Fields): { message: PushMessage; options: Options } {
	const { message: fields, options } = readFields(read, i);
	return { message: message(context, read, i, fields, options), options };
}

/** An audience's delivery controls, as the core checks them (an empty field is no control). */
export function deliveryControls(options: Options): DeliveryControls {
	const d = options.delivery ?? {};
	const quiet = optional(d.quietHoursStart) !== undefined || optional(d.quietHoursEnd) !== undefined;
	return parseInput(
		DeliveryControls,
		{
			localTime: optional(d.localTime),
			localTimeWindowMinutes: d.localTimeWindowMinutes,
			defaultTimeZone: optional(d.defaultTimeZone),
			quietHours: quiet ? { start: d.quietHoursStart ?? '', end: d.quietHoursEnd ?? '' } : undefined,
			frequencyCap: d.frequencyCapPushes ? { pushes: d.frequencyCapPushes, hours: d.frequencyCapHours ?? 24 } : undefined,
			pushesPerMinute: d.pushesPerMinute || undefined,
		},
		'delivery',
	);
}

/** The sender's options the node's options set (the store is updated only when asked, except by an audience send). */
export function sendOptions(options: Options): SendOptions & { sendId?: string } {
	const { sendId } = parseInput(SendOptionsKeys, { sendId: optional(options.sendId) }, 'send');
	return { sendId, test: !!options.test, maxAttempts: options.maxAttempts, resendLostAnswers: !!options.resendLostAnswers, record: !!options.updateStore, marketing: !options.transactional };
}

/**
 * Item i's send id: the user's, or one made from the execution, the node, its run and the item,
 * so that n8n's Retry On Fail (the same run again) never pushes a device twice, while another
 * run of the node (a loop, a retry lap) or another item is a send of its own. (Such ids keep no
 * report: a report is for a Send ID the user names.)
 */
export function itemSendId(context: IExecuteFunctions, given: string | undefined, i: number): string {
	if (given) return given;
	const runIndex = (context as unknown as { runIndex?: number }).runIndex ?? 0;
	return `${AUTO_SEND_ID_PREFIX}${context.getExecutionId()}:${context.getNode().id}:${runIndex}:${i}`;
}

/**
 * With Resend Lost Answers a push may arrive twice: unless the message sets its own, its collapse
 * ID (APNs apns-collapse-id, FCM collapse_key, Web Push Topic) is made from the send id, so a
 * duplicate replaces the first on the device instead of showing twice.
 */
export function collapsedBy(message: PushMessage, sendId: string): PushMessage {
	const id = createHash('sha256').update(sendId).digest('base64url').slice(0, 32);
	const collapsed = PROVIDERS.map((p) => {
		const option = providerModule(p).panel.collapseOption;
		const own = message[p] as Record<string, unknown>;
		return [p, option ? { ...own, [option]: own[option] ?? id } : own];
	});
	return { ...message, ...Object.fromEntries(collapsed) };
}

function message(context: IExecuteFunctions, read: ReadParameter, i: number, extra: MessageFields, options: Options): PushMessage {
	const pairs = extra.pairs.filter((p) => p.key !== '');
	let json: unknown = extra.dataJson ?? {};
	if (typeof json === 'string') {
		try {
			json = JSON.parse(json || '{}');
		} catch {
			throw new NodeOperationError(context.getNode(), `Item ${i + 1}: Custom Data (JSON) is not valid JSON`, { itemIndex: i });
		}
	}
	// An array, a string or null spread into the pairs would become keys "0", "1", … or nothing.
	if (json === null || typeof json !== 'object' || Array.isArray(json)) {
		throw new NodeOperationError(context.getNode(), `Item ${i + 1}: Custom Data (JSON): expected a JSON object of key-value pairs, got ${Array.isArray(json) ? 'an array' : json === null ? 'null' : `a ${typeof json}`}`, { itemIndex: i });
	}
	// (an empty text is no option)
	const values = Object.fromEntries(Object.entries(options).map(([name, value]) => [name, optional(value)]));
	return parseInput(
		PushMessage,
		{
			title: optional(read('title', i, '')),
			body: optional(read('body', i, '')),
			subtitle: optional(extra.subtitle),
			imageUrl: optional(extra.imageUrl),
			deepLink: optional(extra.deepLink),
			badge: extra.badge,
			sound: optional(extra.sound),
			data: { ...(json as object), ...Object.fromEntries(pairs.map((p) => [p.key, p.value])) },
			flatten: extra.flatten,
			silent: extra.silent,
			localized: extra.localized?.map((t) => ({ language: t.language, title: optional(t.title), subtitle: optional(t.subtitle), body: optional(t.body) })),
			...Object.fromEntries(PROVIDERS.map((p) => [p, providerModule(p).panel.options(values)])),
		},
		'message',
	);
}

/** Item i's message, as each provider will carry it (with its send id when it keeps a report), fits them all. */
export function sizeError(context: IExecuteFunctions, i: number, msg: PushMessage, providers: Iterable<Provider>, sendId: string | undefined): void {
	const problem = checkSizes(withSendId(msg, sendId), providers);
	if (problem) throw new NodeOperationError(context.getNode(), `Item ${i + 1}: ${problem}; shorten the title, body or custom data`, { itemIndex: i });
}

