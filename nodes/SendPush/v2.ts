/**
 * Version 2's panel: version 1's fields (the same names, types and defaults), grouped as n8n's
 * own nodes group theirs, each shown only where it applies: the content in Message, each
 * provider's options in its own collection, delivery in Options, and the audience's filters
 * and summary with the audience.
 */
import type { INodeProperties } from 'n8n-workflow';
import { fromVersion2 } from '../shared/fields';
import type { ReadParameter } from '../shared/parameters';
import type { Fields, MessageFields, Options } from './message';
import { field } from './v1';

const v2 = { show: fromVersion2 };

const collection = (displayName: string, name: string, options: INodeProperties[], placeholder = 'Add Option'): INodeProperties => ({
	displayName,
	name,
	type: 'collection',
	placeholder,
	default: {},
	displayOptions: v2,
	options,
});

export const properties: INodeProperties[] = [
	collection(
		'Message',
		'message',
		[
			field('badge'),
			field('customData'),
			field('dataJson', { description: 'Nested key-value pairs; a key that is also in Custom Data takes the value of the pair' }),
			field('deepLink'),
			field('flatten'),
			field('imageUrl'),
			field('silent'),
			field('sound'),
			field('subtitle'),
		],
		'Add Field',
	),
	collection('APNs', 'apns', [
		field('category', { displayName: 'Category' }),
		field('collapseId', { displayName: 'Collapse ID' }),
		field('interruptionLevel', { displayName: 'Interruption Level' }),
		field('mutableContent', { displayName: 'Mutable Content' }),
		field('apnsPriority', { displayName: 'Priority' }),
		field('threadId', { displayName: 'Thread ID' }),
	]),
	collection('FCM', 'fcm', [field('channelId', { displayName: 'Channel ID' }), field('dataOnly', { displayName: 'Data Only' }), field('fcmPriority', { displayName: 'Priority' })]),
	collection('Web Push', 'webPush', [field('topic', { displayName: 'Topic' }), field('urgency', { displayName: 'Urgency' })]),
	collection('Options', 'options', [
		field('maxAttempts'),
		field('resendLostAnswers'),
		field('sendId'),
		field('test'),
		field('ttlSeconds'),
		field('transactional'),
		// An audience send always applies the outcomes.
		field('updateStore', {
			description: 'Whether to apply outcomes here (last_status, dead tokens removed). Off: route the output to Handle Push Feedback.',
			displayOptions: { hide: { '/target': ['audience'] } },
		}),
	]),
];

/** Who an audience send reaches and what its summary lists: fields of Send To = An Audience (its description places them). */
export const audienceProperties: INodeProperties[] = [
	field('includeAnonymous'),
	field('includeImported'),
	field('failureLimit', { description: 'How many failed devices the summary lists' }),
].map((p) => ({ ...p, displayOptions: { show: { ...fromVersion2, target: ['audience'] } } }));

/** The provider collections and the audience's fields hold version 1's option names: together they are its Options. */
export function readFields(read: ReadParameter, i: number): Fields {
	const { customData, ...message } = read<Omit<MessageFields, 'pairs'> & { customData?: { pairs?: MessageFields['pairs'] } }>('message', i, {});
	const audience = read('target', i) === 'audience' ? Object.fromEntries(audienceProperties.map((p) => [p.name, read(p.name, i, p.default)])) : {};
	const options: Options = { ...read<Options>('apns', i, {}), ...read<Options>('fcm', i, {}), ...read<Options>('webPush', i, {}), ...read<Options>('options', i, {}), ...audience };
	return { message: { ...message, pairs: customData?.pairs ?? [] }, options };
}
