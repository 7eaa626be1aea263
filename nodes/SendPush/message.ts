/**
 * What Send Push says, whatever it is sent to: the message fields and options, read per item
 * (so every field may be an expression of that item), and the send options they set.
 */
import { createHash } from 'node:crypto';
import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeProperties } from 'n8n-workflow';
import { checkSizes, PushMessage, parseInput, SendOptionsKeys, type Provider, type SendOptions } from '../core';
import { optional } from '../shared/fields';
import type { ReadParameter } from '../shared/parameters';

export interface Options {
	transactional?: boolean;
	test?: boolean;
	sendId?: string;
	updateStore?: boolean;
	maxAttempts?: number;
	resendLostAnswers?: boolean;
	failureLimit?: number;
	includeAnonymous?: boolean;
	includeImported?: boolean;
	apnsPriority?: string;
	threadId?: string;
	category?: string;
	mutableContent?: boolean;
	interruptionLevel?: string;
	collapseId?: string;
	fcmPriority?: string;
	ttlSeconds?: number;
	channelId?: string;
	dataOnly?: boolean;
	urgency?: string;
	topic?: string;
}

export const messageProperties: INodeProperties[] = [
	{ displayName: 'Title', name: 'title', type: 'string', default: '' },
	{ displayName: 'Body', name: 'body', type: 'string', typeOptions: { rows: 3 }, default: '' },
	{
		displayName: 'Custom Data',
		name: 'customData',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		placeholder: 'Add Key-Value Pair',
		default: {},
		description: 'Key-value pairs for the app (APNs: payload keys; FCM: data; Web Push: data)',
		options: [
			{
				displayName: 'Pair',
				name: 'pairs',
				values: [
					{ displayName: 'Key', name: 'key', type: 'string', default: '' },
					{ displayName: 'Value', name: 'value', type: 'string', default: '' },
				],
			},
		],
	},
	{
		displayName: 'Additional Fields',
		name: 'message',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		options: [
			{ displayName: 'Badge', name: 'badge', type: 'number', typeOptions: { minValue: 0 }, default: 0 },
			{
				displayName: 'Custom Data (JSON)',
				name: 'dataJson',
				type: 'json',
				default: '{}',
				description: 'Nested key-value pairs, merged with the pairs above',
			},
			{ displayName: 'Deep Link', name: 'deepLink', type: 'string', default: '' },
			{
				displayName: 'Flatten Payload',
				name: 'flatten',
				type: 'boolean',
				default: false,
				description: 'Whether to put nested pairs at the top level under dotted keys, for legacy receivers',
			},
			{ displayName: 'Image URL', name: 'imageUrl', type: 'string', default: '' },
			{
				displayName: 'Silent (Background) Push',
				name: 'silent',
				type: 'boolean',
				default: false,
				description: 'Whether to wake the app without showing anything',
			},
			{ displayName: 'Sound', name: 'sound', type: 'string', default: '' },
			{ displayName: 'Subtitle (iOS)', name: 'subtitle', type: 'string', default: '' },
		],
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{ displayName: 'APNs Category', name: 'category', type: 'string', default: '' },
			{ displayName: 'APNs Collapse ID', name: 'collapseId', type: 'string', default: '' },
			{
				displayName: 'APNs Interruption Level',
				name: 'interruptionLevel',
				type: 'options',
				options: [
					{ name: 'Active', value: 'active' },
					{ name: 'Critical', value: 'critical' },
					{ name: 'Passive', value: 'passive' },
					{ name: 'Time Sensitive', value: 'time-sensitive' },
				],
				default: 'active',
			},
			{ displayName: 'APNs Mutable Content', name: 'mutableContent', type: 'boolean', default: false, description: 'Whether a notification service extension may change the push' },
			{
				displayName: 'APNs Priority',
				name: 'apnsPriority',
				type: 'options',
				options: [
					{ name: '10 (Immediate)', value: '10' },
					{ name: '5 (Power Considerate)', value: '5' },
				],
				default: '10',
			},
			{ displayName: 'APNs Thread ID', name: 'threadId', type: 'string', default: '' },
			{ displayName: 'FCM Channel ID', name: 'channelId', type: 'string', default: '' },
			{ displayName: 'FCM Data Only', name: 'dataOnly', type: 'boolean', default: false, description: 'Whether to send only data (the app renders it)' },
			{
				displayName: 'FCM Priority',
				name: 'fcmPriority',
				type: 'options',
				options: [
					{ name: 'High', value: 'high' },
					{ name: 'Normal', value: 'normal' },
				],
				default: 'high',
			},
			{ displayName: 'Include Anonymous Devices', name: 'includeAnonymous', type: 'boolean', default: false, description: 'Whether the audience includes devices nobody identified on' },
			{ displayName: 'Include Imported Profiles', name: 'includeImported', type: 'boolean', default: true, description: 'Whether the audience includes tokens imported from another provider' },
			{ displayName: 'Max Attempts', name: 'maxAttempts', type: 'number', typeOptions: { minValue: 1, maxValue: 10 }, default: 3, description: 'Per device, for transient errors (429, 5xx, resets, timeouts)' },
			{ displayName: 'Failures to List', name: 'failureLimit', type: 'number', typeOptions: { minValue: 0 }, default: 100, description: 'Audience: how many failed devices the summary lists' },
			{
				displayName: 'Resend Lost Answers',
				name: 'resendLostAnswers',
				type: 'boolean',
				default: false,
				description:
					'Whether a push whose answer was lost (connection reset after sending) is sent again: at least once instead of at most once, so a device may get it twice; set a Collapse ID so it shows once',
			},
			{ displayName: 'Send ID', name: 'sendId', type: 'string', default: '', description: "Run the same send ID again and devices it already reached are skipped, for 30 days (the Cleanup Trigger's Send Log Retention)" },
			{ displayName: 'Test Send', name: 'test', type: 'boolean', default: false, description: 'Whether this is a test: no token is changed, whatever the answer' },
			{ displayName: 'Time To Live (Seconds)', name: 'ttlSeconds', type: 'number', typeOptions: { minValue: 0 }, default: 86400, description: 'FCM and Web Push: how long the provider keeps trying' },
			{ displayName: 'Transactional', name: 'transactional', type: 'boolean', default: false, description: 'Whether unsubscribed users get it too (one-to-one messages they expect)' },
			{
				displayName: 'Update Token Store',
				name: 'updateStore',
				type: 'boolean',
				default: false,
				description: 'Whether to apply outcomes here (last_status, dead tokens removed). Off: route the output to Handle Push Feedback. An audience send always applies them.',
			},
			{ displayName: 'Web Push Topic', name: 'topic', type: 'string', default: '' },
			{
				displayName: 'Web Push Urgency',
				name: 'urgency',
				type: 'options',
				options: [
					{ name: 'High', value: 'high' },
					{ name: 'Low', value: 'low' },
					{ name: 'Normal', value: 'normal' },
					{ name: 'Very Low', value: 'very-low' },
				],
				default: 'normal',
			},
		],
	},
];

/** The message and options of item i. */
export function readMessage(context: IExecuteFunctions, read: ReadParameter, i: number): { message: PushMessage; options: Options } {
	const options = read<Options>('options', i, {});
	return { message: message(context, read, i, options), options };
}

/** The sender's options the node's options set (the store is updated only when asked, except by an audience send). */
export function sendOptions(options: Options): SendOptions & { sendId?: string } {
	const { sendId } = parseInput(SendOptionsKeys, { sendId: optional(options.sendId) }, 'send');
	return { sendId, test: !!options.test, maxAttempts: options.maxAttempts, resendLostAnswers: !!options.resendLostAnswers, record: !!options.updateStore };
}

/**
 * Item i's send id: the user's, or one made from the execution, the node, its run and the item,
 * so that n8n's Retry On Fail (the same run again) never pushes a device twice, while another
 * run of the node (a loop, a retry lap) or another item is a send of its own.
 */
export function itemSendId(context: IExecuteFunctions, given: string | undefined, i: number): string {
	if (given) return given;
	const runIndex = (context as unknown as { runIndex?: number }).runIndex ?? 0;
	return `n8n:${context.getExecutionId()}:${context.getNode().id}:${runIndex}:${i}`;
}

/**
 * With Resend Lost Answers a push may arrive twice: unless the message sets its own, its collapse
 * ID (APNs apns-collapse-id, FCM collapse_key, Web Push Topic) is made from the send id, so a
 * duplicate replaces the first on the device instead of showing twice.
 */
export function collapsedBy(message: PushMessage, sendId: string): PushMessage {
	const id = createHash('sha256').update(sendId).digest('base64url').slice(0, 32);
	return {
		...message,
		apns: { ...message.apns, collapseId: message.apns.collapseId ?? id },
		fcm: { ...message.fcm, collapseKey: message.fcm.collapseKey ?? id },
		webpush: { ...message.webpush, topic: message.webpush.topic ?? id },
	};
}

function message(context: IExecuteFunctions, read: ReadParameter, i: number, options: Options): PushMessage {
	const extra = read<IDataObject>('message', i, {});
	const pairs = read<Array<{ key: string; value: string }>>('customData.pairs', i, []).filter((p) => p.key !== '');
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
			apns: {
				priority: options.apnsPriority ? Number(options.apnsPriority) : undefined,
				threadId: optional(options.threadId),
				category: optional(options.category),
				mutableContent: options.mutableContent,
				interruptionLevel: optional(options.interruptionLevel),
				collapseId: optional(options.collapseId),
			},
			fcm: { priority: optional(options.fcmPriority), ttlSeconds: options.ttlSeconds, channelId: optional(options.channelId), dataOnly: options.dataOnly },
			webpush: { ttlSeconds: options.ttlSeconds, urgency: optional(options.urgency), topic: optional(options.topic) },
		},
		'message',
	);
}

export function sizeError(context: IExecuteFunctions, i: number, msg: PushMessage, providers: Iterable<Provider>): void {
	const problem = checkSizes(msg, providers);
	if (problem) throw new NodeOperationError(context.getNode(), `Item ${i + 1}: ${problem}; shorten the title, body or custom data`, { itemIndex: i });
}

