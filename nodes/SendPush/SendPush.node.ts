import {
	NodeConnectionTypes,
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import {
	checkSizes,
	DEFAULT_PROVIDER,
	PushMessage,
	RegisterInput,
	Sender,
	parseInput,
	type AudienceDevice,
	type DeviceView,
	type Platform,
	type TokenStore,
} from '../core';
import { appIdField, optional, platformField, userIdField } from '../shared/fields';
import { errorItem, toJson } from '../shared/items';
import { apnsCredentialTest, fcmCredentialTest, getTransports, webPushCredentialTest } from '../shared/providers';
import { getStore, pushTokenStoreConnectionTest } from '../shared/store';

type Target = 'user' | 'token' | 'audience';
const show = (...target: Target[]) => ({ show: { target } });

interface Options {
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

/**
 * Sends a push through FCM, APNs and Web Push: to a user's devices (or the last active one), to
 * one device token (transactional), or to an app's audience streamed from the store.
 */
export class SendPush implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Send Push',
		name: 'sendPush',
		icon: { light: 'file:../shared/pushTokens.svg', dark: 'file:../shared/pushTokens.dark.svg' },
		group: ['output'],
		version: 1,
		subtitle: '={{"to " + $parameter["target"]}}',
		description: 'Send a push notification through FCM, APNs or Web Push to a user, a device or an audience',
		defaults: { name: 'Send Push' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{ name: 'pushTokenStoreApi', required: true, testedBy: 'pushTokenStoreConnectionTest' },
			{ name: 'fcmServiceAccountApi', required: false, testedBy: 'fcmCredentialTest' },
			{ name: 'apnsApi', required: false, testedBy: 'apnsCredentialTest' },
			{ name: 'webPushVapidApi', required: false, testedBy: 'webPushCredentialTest' },
		],
		properties: [
			{
				displayName: 'Send To',
				name: 'target',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'A User', value: 'user', description: "The user's push-registered devices (one output item per device)" },
					{ name: 'One Device Token', value: 'token', description: 'Transactional: exactly this device' },
					{ name: 'An Audience', value: 'audience', description: "A campaign to an app's audience, streamed from the store; outputs a summary" },
				],
				default: 'user',
			},
			{ ...userIdField, required: true, displayOptions: show('user') },
			{ ...appIdField, required: false, description: 'Only devices of this app (empty: every app of the user)', displayOptions: show('user') },
			{ ...appIdField, displayOptions: show('token', 'audience') },
			{ ...platformField, displayOptions: show('token') },
			{
				displayName: 'Device Token',
				name: 'token',
				// eslint-disable-next-line n8n-nodes-base/node-param-type-options-password-missing -- a push token is a device address, not a secret
				type: 'string',
				required: true,
				default: '',
				description: 'The token (for Web Push, the subscription JSON). Used even if the store does not know it.',
				displayOptions: show('token'),
			},
			{
				displayName: 'Platform Filter',
				name: 'audiencePlatform',
				type: 'options',
				options: [
					{ name: 'All', value: '' },
					{ name: 'Android', value: 'android' },
					{ name: 'iOS', value: 'ios' },
					{ name: 'Web', value: 'web' },
				],
				default: '',
				displayOptions: show('audience'),
			},
			{
				displayName: 'Last Active Device Only',
				name: 'lastActiveOnly',
				type: 'boolean',
				default: false,
				description: "Whether to send only to each user's most recently active device",
				displayOptions: show('user', 'audience'),
			},
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
					{ displayName: 'Send ID', name: 'sendId', type: 'string', default: '', description: 'Run the same send ID again and devices it already reached are skipped' },
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
		],
	};

	methods = { credentialTest: { pushTokenStoreConnectionTest, fcmCredentialTest, apnsCredentialTest, webPushCredentialTest } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const store = await getStore(this);
		const sender = new Sender(store, await getTransports(this));
		const target = this.getNodeParameter('target', 0) as Target;
		const items = this.getInputData();
		const out: INodeExecutionData[] = [];
		// An audience send is one campaign for the whole input; the others send once per item.
		const runs = target === 'audience' ? 1 : items.length;
		for (let i = 0; i < runs; i++) {
			const pairedItem = target === 'audience' ? items.map((_, item) => ({ item })) : { item: i };
			try {
				for (const json of await sendItem(this, store, sender, target, i)) out.push({ json, pairedItem });
			} catch (error) {
				out.push(errorItem(this, error, i, pairedItem));
			}
		}
		return [out];
	}
}

function message(context: IExecuteFunctions, i: number, options: Options): PushMessage {
	const extra = context.getNodeParameter('message', i, {}) as IDataObject;
	const pairs = (context.getNodeParameter('customData.pairs', i, []) as Array<{ key: string; value: string }>).filter((p) => p.key !== '');
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
			title: optional(context.getNodeParameter('title', i, '')),
			body: optional(context.getNodeParameter('body', i, '')),
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

async function sendItem(context: IExecuteFunctions, store: TokenStore, sender: Sender, target: Target, i: number): Promise<IDataObject[]> {
	const options = context.getNodeParameter('options', i, {}) as Options;
	const msg = message(context, i, options);
	const sendOptions = { sendId: optional(options.sendId) as string | undefined, test: !!options.test, maxAttempts: options.maxAttempts, resendLostAnswers: !!options.resendLostAnswers };

	if (target === 'audience') {
		sizeError(context, i, msg, sender.providers);
		const summary = await sender.sendAudience(
			{
				appId: context.getNodeParameter('appId', i) as string,
				platform: (optional(context.getNodeParameter('audiencePlatform', i, '')) as Platform | undefined) ?? undefined,
				lastActiveOnly: context.getNodeParameter('lastActiveOnly', i, false) as boolean,
				transactional: !!options.transactional,
				includeImported: options.includeImported ?? true,
				includeAnonymous: !!options.includeAnonymous,
				visible: !msg.silent,
			},
			msg,
			{ ...sendOptions, record: true, failureLimit: options.failureLimit ?? 100 },
		);
		return [toJson({ ...summary, test: sendOptions.test, ...(sendOptions.sendId ? { sendId: sendOptions.sendId } : {}) })];
	}

	let devices: Array<DeviceView | AudienceDevice>;
	if (target === 'user') {
		const userId = context.getNodeParameter('userId', i) as string;
		devices = await store.devicesOfUser(userId, {
			appId: optional(context.getNodeParameter('appId', i, '')),
			lastActiveOnly: context.getNodeParameter('lastActiveOnly', i, false),
			transactional: !!options.transactional,
			visible: !msg.silent,
		});
		if (devices.length === 0) return [{ userId, sent: 0, reason: 'the user has no push-registered device for this push' }];
	} else {
		devices = [await oneDevice(context, store, i)];
	}
	sizeError(context, i, msg, devices.map((d) => d.provider));
	const results = await sender.send(devices, msg, { ...sendOptions, record: !!options.updateStore });
	if (results.every((r) => r.outcome === 'config-error')) {
		throw new NodeOperationError(context.getNode(), `Item ${i + 1}: ${results[0].reason}`, { itemIndex: i, description: 'No device was sent to: check the provider credential and the topic/bundle ID' });
	}
	return results.map((r) => toJson(r));
}

function sizeError(context: IExecuteFunctions, i: number, msg: PushMessage, providers: Iterable<DeviceView['provider']>): void {
	const problem = checkSizes(msg, providers);
	if (problem) throw new NodeOperationError(context.getNode(), `Item ${i + 1}: ${problem}; shorten the title, body or custom data`, { itemIndex: i });
}

/** The device of a transactional send: the store's record, or one made from the parameters. */
async function oneDevice(context: IExecuteFunctions, store: TokenStore, i: number): Promise<DeviceView> {
	const record = parseInput(RegisterInput, { appId: context.getNodeParameter('appId', i), platform: context.getNodeParameter('platform', i), token: context.getNodeParameter('token', i) }, 'device token');
	const known = await store.getDevice(record.appId, record.token);
	if (known) return known;
	const now = new Date();
	return {
		id: '',
		appId: record.appId,
		platform: record.platform,
		provider: record.provider ?? DEFAULT_PROVIDER[record.platform],
		token: record.token,
		webPushKeys: record.webPushKeys,
		deviceId: null,
		environment: null,
		profileId: '',
		foreground: true,
		pushEnabled: null,
		provisional: false,
		lastStatus: 'unused',
		consecutiveBounces: 0,
		registeredAt: now,
		lastSeenAt: now,
		lastActiveAt: null,
	};
}
