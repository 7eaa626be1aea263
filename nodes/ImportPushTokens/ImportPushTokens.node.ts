import {
	NodeConnectionTypes,
	NodeOperationError,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeProperties,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { APNS_ENVIRONMENTS, detectPreset, mapColumns, presetById, PRESETS, PROVIDERS, readCsv, readJson, reader, type ColumnMap, type ImportOptions, type ImportPreset, type ImportSummary } from '../core';
import { appIdField, deviceIdField, languageField, oneOf, optional, platformField, platformOptions, timeZoneField, tokenField, userIdField } from '../shared/fields';
import { errorItem, toJson } from '../shared/items';
import { getStore, storeNode } from '../shared/store';

const fromItems = { show: { source: ['items'] } };
const fromFile = { show: { source: ['file'] } };
const mappingColumns = { show: { source: ['file'], preset: ['mapColumns'] } };
const EXPECTED_ROWS = { csv: 'a CSV file is a header row, then a row per token', json: 'a JSON file is an array of objects, or an object per line' };

/** Which export the file is. New nodes detect it; nodes saved before version 1.1 read this package's layout, as they did. */
const presetField = (defaultPreset: string, versions: INodeProperties['displayOptions']): INodeProperties => ({
	displayName: 'Source',
	name: 'preset',
	type: 'options',
	options: [
		{ name: 'Detect From Header', value: 'detect', description: 'Picks the preset by the first row\'s columns; the summary says which' },
		...PRESETS.map((p) => ({ name: p.name, value: p.id, description: p.description })),
		{ name: 'Map Columns', value: 'mapColumns', description: 'Any CSV or JSON: name the column that holds each field' },
	],
	// eslint-disable-next-line n8n-nodes-base/node-param-default-wrong-for-options -- the presets' options come from the core's list
	default: defaultPreset,
	description: 'Whose export the file is, read as that provider writes it',
	displayOptions: { ...versions, show: { ...versions?.show, source: ['file'] } },
});

/** Map Columns: the column for each field. */
const columnField = (field: keyof ColumnMap, displayName: string, description?: string): INodeProperties => ({
	displayName,
	name: field,
	type: 'string',
	default: '',
	...(description ? { description } : {}),
});

const header = storeNode();

/**
 * Migration from another provider (Braze's push_token_import): tokens from incoming items or
 * from a CSV / JSON file of any size, streamed in batches. Outputs one summary, never one item
 * per row.
 */
export class ImportPushTokens implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Import Push Tokens',
		name: 'importPushTokens',
		icon: { light: 'file:importPushTokens.svg', dark: 'file:importPushTokens.dark.svg' },
		group: ['transform'],
		// 1.1: Detect From Header by default; 1.2: items' Time Zone and Language
		version: [1, 1.1, 1.2],
		defaultVersion: 1.2,
		subtitle: '={{$parameter["mode"] === "anonymous" ? "push_token_import" : "with user IDs"}}',
		description: 'Import push tokens migrated from another provider, skipping tokens already known',
		defaults: { name: 'Import Push Tokens' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: header.credentials,
		properties: [
			{
				displayName: 'Mode',
				name: 'mode',
				type: 'options',
				options: [
					{
						name: 'Push Token Import (No User IDs)',
						value: 'anonymous',
						description: 'Each token gets a temporary profile until its user logs in; rows with a user ID are invalid',
					},
					{ name: 'With User IDs', value: 'withUsers', description: 'Rows with a user ID attach to that user' },
				],
				default: 'anonymous',
			},
			{
				displayName: 'Input',
				name: 'source',
				type: 'options',
				options: [
					{ name: 'Incoming Items', value: 'items', description: 'One token per item, fields mapped below' },
					{ name: 'File (CSV or JSON)', value: 'file', description: 'A binary file of any size, read as a stream: another provider\'s export as it is' },
				],
				default: 'items',
			},
			presetField('package', { show: { '@version': [1] } }),
			presetField('detect', { show: { '@version': [{ _cnd: { gte: 1.1 } }] } }),
			{ ...appIdField, displayOptions: fromItems },
			{ ...platformField, displayOptions: fromItems },
			{ ...tokenField, displayOptions: fromItems },
			{ ...deviceIdField, displayOptions: fromItems },
			{ ...userIdField, description: 'Only in the With User IDs mode', displayOptions: { show: { source: ['items'], mode: ['withUsers'] } } },
			{ ...timeZoneField, displayOptions: { show: { source: ['items'], '@version': [{ _cnd: { gte: 1.2 } }] } } },
			{ ...languageField, displayOptions: { show: { source: ['items'], '@version': [{ _cnd: { gte: 1.2 } }] } } },
			{
				displayName: 'Input Binary Field',
				name: 'binaryPropertyName',
				type: 'string',
				default: 'data',
				required: true,
				displayOptions: fromFile,
			},
			{
				displayName: 'File Format',
				name: 'format',
				type: 'options',
				options: [
					{ name: 'CSV', value: 'csv', description: 'A header row, then a row per record' },
					{ name: 'JSON', value: 'json', description: 'An array of objects, JSON Lines (one object per line), or pretty-printed objects' },
				],
				default: 'csv',
				displayOptions: fromFile,
			},
			{
				displayName: 'Token Column',
				name: 'tokenColumn',
				// eslint-disable-next-line n8n-nodes-base/node-param-type-options-password-missing -- a column's name, not a secret
				type: 'string',
				default: '',
				required: true,
				placeholder: 'e.g. push_token',
				description: 'The column that holds the token (for Web Push: the subscription JSON, or its endpoint with the key columns below)',
				displayOptions: mappingColumns,
			},
			{
				displayName: 'Other Columns',
				name: 'columns',
				type: 'collection',
				placeholder: 'Add Column',
				default: {},
				displayOptions: mappingColumns,
				options: [
					columnField('appId', 'App ID Column'),
					columnField('deviceId', 'Device ID Column'),
					columnField('environment', 'APNs Environment Column', `Values: ${oneOf(APNS_ENVIRONMENTS)}`),
					columnField('language', 'Language Column', 'BCP 47 language tags, such as fr or pt-BR'),
					columnField('platform', 'Platform Column', `Values: ${oneOf(platformOptions.map((o) => String(o.value)))} (any case)`),
					columnField('provider', 'Provider Column', `Values: ${oneOf(PROVIDERS)}; told from the platform when absent`),
					columnField('timeZone', 'Time Zone Column', 'IANA time zone names, such as Europe/Paris'),
					columnField('userId', 'User ID Column'),
					columnField('webPushAuth', 'Web Push Auth Column', 'The subscription\'s auth secret, when the token column holds only its endpoint'),
					columnField('webPushP256dh', 'Web Push P256DH Column', 'The subscription\'s p256dh key, when the token column holds only its endpoint'),
				],
			},
			{
				displayName: 'Default App ID',
				name: 'defaultAppId',
				type: 'string',
				default: '',
				description: 'For rows without an app_id column',
				displayOptions: fromFile,
			},
			{
				displayName: 'Default Platform',
				name: 'defaultPlatform',
				type: 'options',
				options: [{ name: 'None', value: '' }, ...platformOptions],
				default: '',
				description: 'For rows without a platform column',
				displayOptions: fromFile,
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				options: [
					{
						displayName: 'Batch Size',
						name: 'batchSize',
						type: 'number',
						typeOptions: { minValue: 1, maxValue: 10000 },
						default: 1000,
						description: 'Rows per transaction',
					},
					{
						displayName: 'Dry Run',
						name: 'dryRun',
						type: 'boolean',
						default: false,
						description: 'Whether to check and count everything without writing',
					},
					{
						displayName: 'Invalid Rows to List',
						name: 'invalidRowLimit',
						type: 'number',
						typeOptions: { minValue: 0 },
						default: 100,
						description: 'How many invalid rows the summary describes (all are counted)',
					},
				],
			},
		],
	};

	methods = header.methods;

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const store = await getStore(this);
		const items = this.getInputData();
		const source = this.getNodeParameter('source', 0) as 'items' | 'file';
		const options = this.getNodeParameter('options', 0, {}) as { batchSize?: number; dryRun?: boolean; invalidRowLimit?: number };
		const importOptions: ImportOptions = { ...options, anonymousOnly: this.getNodeParameter('mode', 0) === 'anonymous' };

		if (source === 'items') {
			// All items are one import: one summary, paired with every input item.
			try {
				const summary = await store.importTokens(rowsFromItems(this, items.length), importOptions);
				return [[{ json: toJson(summary), pairedItem: items.map((_, item) => ({ item })) }]];
			} catch (error) {
				return [[errorItem(this, error, 0, items.map((_, item) => ({ item })))]];
			}
		}

		// One summary per input item that carries a file.
		const out: INodeExecutionData[] = [];
		for (let i = 0; i < items.length; i++) {
			try {
				const { records, ...how } = await readFile(this, i);
				const summary: ImportSummary = await store.importTokens(records, { ...importOptions, ...how });
				// A summary of zeros would not tell a wrong file (format, encoding, binary field) from a done one.
				if (summary.rows === 0) throw new NodeOperationError(this.getNode(), `Item ${i + 1}: no rows found in the file (${EXPECTED_ROWS[this.getNodeParameter('format', i) as 'csv' | 'json']})`, { itemIndex: i });
				out.push({ json: toJson(summary), pairedItem: { item: i } });
			} catch (error) {
				out.push(errorItem(this, error, i));
			}
		}
		return [out];
	}
}

function* rowsFromItems(context: IExecuteFunctions, count: number): Generator<unknown> {
	const withUsers = context.getNodeParameter('mode', 0) === 'withUsers';
	for (let i = 0; i < count; i++) {
		yield {
			appId: context.getNodeParameter('appId', i),
			platform: context.getNodeParameter('platform', i),
			token: context.getNodeParameter('token', i),
			deviceId: optional(context.getNodeParameter('deviceId', i, '')),
			userId: withUsers ? optional(context.getNodeParameter('userId', i, '')) : undefined,
			timeZone: optional(context.getNodeParameter('timeZone', i, '')),
			language: optional(context.getNodeParameter('language', i, '')),
		};
	}
}

/** The file's records, and the preset that reads them. */
async function readFile(context: IExecuteFunctions, i: number): Promise<Required<Pick<ImportOptions, 'read' | 'source'>> & { records: AsyncIterable<unknown> }> {
	const property = context.getNodeParameter('binaryPropertyName', i) as string;
	const binary = context.helpers.assertBinaryData(i, property);
	const format = context.getNodeParameter('format', i) as 'csv' | 'json';
	if (!['csv', 'json'].includes(format)) throw new NodeOperationError(context.getNode(), `Item ${i + 1}: unknown file format "${format}"`, { itemIndex: i });
	// Files kept by n8n's binary data store are streamed; small in-memory ones are already a buffer.
	const stream: AsyncIterable<Buffer> | Buffer[] = binary.id ? await context.helpers.getBinaryStream(binary.id, 256 * 1024) : [Buffer.from(binary.data, 'base64')];
	let records: AsyncIterable<unknown> = format === 'csv' ? readCsv(stream) : readJson(stream);
	const defaults = {
		appId: context.getNodeParameter('defaultAppId', i, '') as string,
		platform: context.getNodeParameter('defaultPlatform', i, '') as string,
	};
	const choice = context.getNodeParameter('preset', i, 'package') as string;
	let preset: ImportPreset | undefined;
	let source: string;
	if (choice === 'detect') {
		({ preset, records } = await detectPreset(records));
		source = `${preset.name} (detected from the header)`;
	} else {
		preset =
			choice === 'mapColumns'
				? mapColumns({ ...(context.getNodeParameter('columns', i, {}) as ColumnMap), token: context.getNodeParameter('tokenColumn', i) as string })
				: presetById(choice);
		if (!preset) throw new NodeOperationError(context.getNode(), `Item ${i + 1}: unknown source "${choice}"`, { itemIndex: i });
		source = preset.name;
	}
	return { records, read: reader(preset, defaults), source };
}
