/**
 * Version 2's panel: version 1's fields (the same names, types and defaults), grouped as n8n's
 * own nodes group theirs, each shown only where it applies: the content in Message, each
 * provider's options in its own collection, delivery in Options, and the audience's filters
 * and summary with the audience.
 */
import type { INodeProperties } from 'n8n-workflow';
import { PROVIDERS, providerModule } from '../core';
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
	// Each provider's options, in its own collection.
	...PROVIDERS.map((provider) => {
		const { name, panel } = providerModule(provider);
		return collection(name, panel.parameter, panel.fields as INodeProperties[]);
	}),
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

const timeOfDay = (displayName: string, name: string, description: string): INodeProperties => ({ displayName, name, type: 'string', default: '', placeholder: 'HH:MM', description });

/** A campaign's delivery controls (core/send/controls.ts): when each device gets it, how often and how fast. */
export const deliveryProperty: INodeProperties = {
	displayName: 'Delivery',
	name: 'delivery',
	type: 'collection',
	placeholder: 'Add Control',
	default: {},
	displayOptions: { show: { ...fromVersion2, target: ['audience'] } },
	options: [
		{ displayName: 'Default Time Zone', name: 'defaultTimeZone', type: 'string', default: 'UTC', placeholder: 'Europe/Paris', description: 'The IANA time zone of devices that reported none' },
		timeOfDay('Deliver at Local Time', 'localTime', "Send when each device's local time reaches this. Run the node every hour (Schedule Trigger) with the same Send ID: each run reaches the devices whose time has come, each device once."),
		{ displayName: 'Frequency Cap: Pushes', name: 'frequencyCapPushes', type: 'number', default: 0, typeOptions: { minValue: 0, maxValue: 24 }, description: 'At most this many marketing pushes per device in the window below, counted across sends (0: no cap; transactional sends are exempt and not counted)' },
		{ displayName: 'Frequency Cap: Window (Hours)', name: 'frequencyCapHours', type: 'number', default: 24, typeOptions: { minValue: 1 }, description: 'The rolling window of the frequency cap' },
		{ displayName: 'Local Time Window (Minutes)', name: 'localTimeWindowMinutes', type: 'number', default: 60, typeOptions: { minValue: 1, maxValue: 1440 }, description: 'How long after the local time a device may still get it: the interval of the schedule that runs this node' },
		{ displayName: 'Pushes per Minute', name: 'pushesPerMinute', type: 'number', default: 0, typeOptions: { minValue: 0 }, description: "At most this many pushes a minute for this send, spread evenly, so the app's own servers take the opens (0: as fast as the providers allow)" },
		timeOfDay('Quiet Hours End', 'quietHoursEnd', '… until this local time (it may be the next morning)'),
		timeOfDay('Quiet Hours Start', 'quietHoursStart', 'No marketing push from this local time … (transactional sends are exempt; a later run with the same Send ID reaches the devices held)'),
	],
};

/** The text in other languages: each device gets its language's (fr-CA, then fr, then the Title and Body above). */
export const localizedProperty: INodeProperties = {
	displayName: 'Localized Content',
	name: 'localized',
	type: 'fixedCollection',
	placeholder: 'Add Language',
	typeOptions: { multipleValues: true },
	default: {},
	displayOptions: v2,
	description: "The title, subtitle and body in other languages. A device gets the text of its language (fr-CA, then fr), else the Title and Body above.",
	options: [
		{
			displayName: 'Language',
			name: 'texts',
			values: [
				{ displayName: 'Language', name: 'language', type: 'string', default: '', placeholder: 'fr', description: 'A BCP 47 language tag: fr, pt-BR, zh-Hant' },
				{ displayName: 'Title', name: 'title', type: 'string', default: '' },
				{ displayName: 'Subtitle', name: 'subtitle', type: 'string', default: '' },
				{ displayName: 'Body', name: 'body', type: 'string', typeOptions: { rows: 3 }, default: '' },
			],
		},
	],
};

/** The provider collections and the audience's fields hold version 1's option names: together they are its Options. */
export function readFields(read: ReadParameter, i: number): Fields {
	const { customData, ...message } = read<Omit<MessageFields, 'pairs'> & { customData?: { pairs?: MessageFields['pairs'] } }>('message', i, {});
	const audience = read('target', i) === 'audience' ? Object.fromEntries(audienceProperties.map((p) => [p.name, read(p.name, i, p.default)])) : {};
	const localized = read<{ texts?: MessageFields['localized'] }>('localized', i, {}).texts ?? [];
	const providers = PROVIDERS.map((p) => read<Options>(providerModule(p).panel.parameter, i, {}));
	const options: Options = Object.assign({}, ...providers, read<Options>('options', i, {}), audience);
	const delivery = read('target', i) === 'audience' ? read<Options['delivery']>('delivery', i, {}) : undefined;
	return { message: { ...message, pairs: customData?.pairs ?? [], localized }, options: { ...options, delivery } };
}
