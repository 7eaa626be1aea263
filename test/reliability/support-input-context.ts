/**
 * The faithful context of test/nodes/context.ts, widened for the reliability suite: any
 * credential data (the store credential as a user types it, the provider credentials), binary
 * input (what n8n's assertBinaryData and getBinaryStream do for small in-memory files), and a
 * snapshot of a SQLite store's tables, to prove a rejected item wrote nothing.
 */
import Database from 'better-sqlite3';
import { node, param, rawParameters, type Params } from '../nodes/context';
import { NodeOperationError, type IBinaryData, type IDataObject, type IExecuteFunctions, type INodeExecutionData, type INodeType } from 'n8n-workflow';

export interface InputItem {
	json?: IDataObject;
	/** Files of the item, as n8n keeps small ones: base64 data in memory. */
	binary?: Record<string, { text: string | Buffer; mimeType?: string; fileName?: string }>;
}

export interface RunOptions {
	items?: InputItem[];
	params: Params;
	/** Credential data by credential type name (pushTokenStoreApi, fcmServiceAccountApi, …). */
	credentials: Record<string, IDataObject>;
	continueOnFail?: boolean;
}

let executions = 0;

export async function execute(type: INodeType, options: RunOptions): Promise<INodeExecutionData[][]> {
	const executionId = String(++executions);
	const items: INodeExecutionData[] = (options.items ?? [{}]).map((item) => ({
		json: item.json ?? {},
		...(item.binary
			? {
					binary: Object.fromEntries(
						Object.entries(item.binary).map(([key, file]) => [
							key,
							{ data: Buffer.from(file.text).toString('base64'), mimeType: file.mimeType ?? 'text/csv', fileName: file.fileName ?? 'tokens.csv' } satisfies IBinaryData,
						]),
					),
				}
			: {}),
	}));
	const context = {
		getNode: () => ({ ...node, parameters: rawParameters(options.params) }),
		getInputData: () => items,
		getNodeParameter: (name: string, itemIndex: number, fallback?: unknown) => param(options.params, itemIndex, name, fallback),
		getCredentials: async (name: string) => {
			const data = options.credentials[name];
			if (data) return data;
			throw new NodeOperationError(node, `Node does not have any credentials set for "${name}"`);
		},
		continueOnFail: () => !!options.continueOnFail,
		getExecutionId: () => executionId,
		helpers: {
			// As n8n-core's: the item's binary property, or an error naming the item and the property.
			assertBinaryData: (itemIndex: number, property: string): IBinaryData => {
				const files = items[itemIndex]?.binary;
				if (!files) {
					throw new NodeOperationError(node, `This operation expects the node's input data to contain a binary file '${property}', but none was found [item ${itemIndex}]`, {
						itemIndex,
						description: 'Make sure that the previous node outputs a binary file',
					});
				}
				if (!files[property]) throw new NodeOperationError(node, `The item has no binary field '${property}' [item ${itemIndex}]`, { itemIndex });
				return files[property];
			},
			getBinaryStream: async () => {
				throw new Error('in-memory files carry no binary data id');
			},
		},
	} as unknown as IExecuteFunctions;
	return (await type.execute!.call(context)) as INodeExecutionData[][];
}

export interface StoreSnapshot {
	counts: Record<string, number>;
	/** The changelog, oldest first: type, app, token, reason. */
	events: string[];
	devices: string[];
	deadTokens: string[];
}

const TABLES = ['profiles', 'devices', 'token_events', 'dead_tokens', 'sends', 'send_log'];

/** Every table's row count, the changelog and the devices of a SQLite store, read from its file. */
export function snapshot(path: string): StoreSnapshot {
	const db = new Database(path, { readonly: true, fileMustExist: true });
	try {
		const counts = Object.fromEntries(TABLES.map((t) => [t, (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n]));
		const events = (db.prepare('SELECT type, app_id, token, reason FROM token_events ORDER BY id').all() as Array<Record<string, string>>).map((e) => `${e.type} ${e.app_id} ${e.token} ${e.reason ?? ''}`);
		const devices = (db.prepare('SELECT app_id, token, last_status, consecutive_bounces FROM devices ORDER BY app_id, token').all() as Array<Record<string, string>>).map(
			(d) => `${d.app_id} ${d.token} ${d.last_status} ${d.consecutive_bounces}`,
		);
		const deadTokens = (db.prepare('SELECT app_id, token FROM dead_tokens ORDER BY app_id, token').all() as Array<Record<string, string>>).map((d) => `${d.app_id} ${d.token}`);
		return { counts, events, devices, deadTokens };
	} finally {
		db.close();
	}
}
