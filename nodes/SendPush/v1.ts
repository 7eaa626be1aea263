/**
 * Version 1's panel, kept as it was for the workflows made with it: content in Custom Data and
 * Additional Fields, every send option (APNs, FCM, Web Push, delivery, audience) in one Options.
 */
import type { INodeProperties } from 'n8n-workflow';
import type { Fields, MessageFields, Options } from './message';
import type { ReadParameter } from '../shared/parameters';

const v1 = { show: { '@version': [1] } };

export const properties: INodeProperties[] = [
	{
		displayName: 'Custom Data',
		name: 'customData',
		displayOptions: v1,
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
		displayOptions: v1,
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
		displayOptions: v1,
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
			{ displayName: 'Failures to List', name: 'failureLimit', type: 'number', typeOptions: { minValue: 0 }, default: 100, description: 'Audience: how many failed devices the summary lists' },
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

/** Options is version 1's collection as it is; the pairs are beside the other message fields. */
export function readFields(read: ReadParameter, i: number): Fields {
	return {
		message: { ...read<Omit<MessageFields, 'pairs'>>('message', i, {}), pairs: read<MessageFields['pairs']>('customData.pairs', i, []) },
		options: read<Options>('options', i, {}),
	};
}

/** A version 1 field's definition (type, default, description), for a later panel to place under a new label. */
export function field(name: string, changes: Partial<INodeProperties> = {}): INodeProperties {
	const found = properties.flatMap((p) => [p, ...((p.options ?? []) as INodeProperties[])]).find((p) => p.name === name);
	if (!found) throw new Error(`Send Push v1 has no field "${name}"`);
	const copy: INodeProperties = { ...found };
	delete copy.displayOptions; // (v1's own, shown for version 1 only)
	return { ...copy, ...changes };
}
