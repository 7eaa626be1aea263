import {
	NodeConnectionTypes,
	NodeOperationError,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { readCsv, readJson, toImportRow, type ImportSummary } from '../core';
import { appIdField, deviceIdField, optional, platformField, tokenField, userIdField } from '../shared/fields';
import { errorItem, toJson } from '../shared/items';
import { getStore, pushTokenStoreConnectionTest } from '../shared/store';

const fromItems = { show: { source: ['items'] } };
const fromFile = { show: { source: ['file'] } };
const EXPECTED_ROWS = { csv: 'a CSV file is a header row, then a row per token', json: 'a JSON file is an array of objects, or an object per line' };

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
		version: 1,
		subtitle: '={{$parameter["mode"] === "anonymous" ? "push_token_import" : "with user IDs"}}',
		description: 'Import push tokens migrated from another provider, skipping tokens already known',
		defaults: { name: 'Import Push Tokens' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'pushTokenStoreApi', required: true, testedBy: 'pushTokenStoreConnectionTest' }],
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
				displayName: 'Source',
				name: 'source',
				type: 'options',
				options: [
					{ name: 'Incoming Items', value: 'items', description: 'One token per item, fields mapped below' },
					{ name: 'File (CSV or JSON)', value: 'file', description: 'A binary file of any size, read as a stream' },
				],
				default: 'items',
			},
			{ ...appIdField, displayOptions: fromItems },
			{ ...platformField, displayOptions: fromItems },
			{ ...tokenField, displayOptions: fromItems },
			{ ...deviceIdField, displayOptions: fromItems },
			{ ...userIdField, description: 'Only in the With User IDs mode', displayOptions: { show: { source: ['items'], mode: ['withUsers'] } } },
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
					{ name: 'CSV', value: 'csv', description: 'A header row: app_id, platform, token, device_id, user_id, provider, environment' },
					{ name: 'JSON', value: 'json', description: 'An array of objects, or JSON Lines (one object per line)' },
				],
				default: 'csv',
				displayOptions: fromFile,
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
				options: [
					{ name: 'None', value: '' },
					{ name: 'Android', value: 'android' },
					{ name: 'iOS', value: 'ios' },
					{ name: 'Web', value: 'web' },
				],
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

	methods = { credentialTest: { pushTokenStoreConnectionTest } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const store = await getStore(this);
		const items = this.getInputData();
		const source = this.getNodeParameter('source', 0) as 'items' | 'file';
		const options = this.getNodeParameter('options', 0, {}) as { batchSize?: number; dryRun?: boolean; invalidRowLimit?: number };
		const importOptions = { ...options, anonymousOnly: this.getNodeParameter('mode', 0) === 'anonymous' };

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
				const summary: ImportSummary = await store.importTokens(await rowsFromFile(this, i), importOptions);
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
		};
	}
}

async function rowsFromFile(context: IExecuteFunctions, i: number): Promise<AsyncGenerator<unknown>> {
	const property = context.getNodeParameter('binaryPropertyName', i) as string;
	const binary = context.helpers.assertBinaryData(i, property);
	// Files kept by n8n's binary data store are streamed; small in-memory ones are already a buffer.
	const stream: AsyncIterable<Buffer> | Buffer[] = binary.id ? await context.helpers.getBinaryStream(binary.id, 256 * 1024) : [Buffer.from(binary.data, 'base64')];
	const format = context.getNodeParameter('format', i) as 'csv' | 'json';
	const defaults = {
		appId: context.getNodeParameter('defaultAppId', i, '') as string,
		platform: context.getNodeParameter('defaultPlatform', i, '') as string,
	};
	if (!['csv', 'json'].includes(format)) throw new NodeOperationError(context.getNode(), `Item ${i + 1}: unknown file format "${format}"`, { itemIndex: i });
	return (async function* () {
		for await (const row of format === 'csv' ? readCsv(stream) : readJson(stream)) yield toImportRow(row, defaults);
	})();
}
