/**
 * A small, faithful stand-in for the n8n execution context, for fast feedback on the nodes'
 * own logic (item loop, errors, outputs) against a real store. The real-n8n suite (test/e2e)
 * is the proof that they run inside n8n; this is the quick loop.
 */
import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INode, type INodeExecutionData, type INodeType, type ITriggerFunctions } from 'n8n-workflow';
import type { StoreConfig } from '../../nodes/core';

export type Params = Record<string, unknown> | ((itemIndex: number) => Record<string, unknown>);

export interface RunOptions {
	items?: IDataObject[];
	params: Params;
	store: StoreConfig;
	continueOnFail?: boolean;
	/** The node's version (default 1). */
	typeVersion?: number;
}

export const node: INode = { id: 'node-under-test', name: 'Node under test', type: 'test', typeVersion: 1, position: [0, 0], parameters: {} };

function credentials(store: StoreConfig) {
	return store.engine === 'sqlite' ? { engine: 'sqlite', path: store.path } : { engine: 'postgres', connection: 'url', url: store.connectionString };
}

/**
 * The node's raw parameters, as n8n keeps them: parameters given per item stand for
 * expressions (in n8n only an expression differs between items), fixed ones are as given.
 */
export function rawParameters(params: Params): INode['parameters'] {
	if (typeof params !== 'function') return params as INode['parameters'];
	return new Proxy({}, { get: () => '={{ a value per item }}' });
}

/** Reads `a.b.c` from the item's parameters, as n8n's getNodeParameter does for collections. */
export function param(params: Params, itemIndex: number, name: string, fallback?: unknown): unknown {
	const values = typeof params === 'function' ? params(itemIndex) : params;
	const value = name.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), values);
	if (value !== undefined) return value;
	if (fallback !== undefined) return fallback;
	throw new NodeOperationError(node, `Could not get parameter "${name}"`);
}

let executions = 0;

export async function execute(type: INodeType, options: RunOptions): Promise<INodeExecutionData[][]> {
	const executionId = String(++executions);
	const items = (options.items ?? [{}]).map((json) => ({ json }));
	const context = {
		getNode: () => ({ ...node, typeVersion: options.typeVersion ?? 1, parameters: rawParameters(options.params) }),
		getInputData: () => items,
		getNodeParameter: (name: string, itemIndex: number, fallback?: unknown) => param(options.params, itemIndex, name, fallback),
		getCredentials: async (name: string) => {
			if (name === 'pushTokenStoreApi') return credentials(options.store);
			throw new NodeOperationError(node, `Node does not have any credentials set for "${name}"`);
		},
		continueOnFail: () => !!options.continueOnFail,
		getExecutionId: () => executionId,
		helpers: {},
	} as unknown as IExecuteFunctions;
	return (await type.execute!.call(context)) as INodeExecutionData[][];
}

/** Runs a trigger's manual run (what "Execute step" does in the editor) and returns what it emitted. */
export async function triggerOnce(type: INodeType, options: Omit<RunOptions, 'items'>): Promise<INodeExecutionData[][]> {
	let emitted: INodeExecutionData[][] = [];
	const crons: unknown[] = [];
	const context = {
		getNode: () => node,
		getNodeParameter: (name: string, fallback?: unknown) => param(options.params, 0, name, fallback),
		getCredentials: async () => credentials(options.store),
		emit: (data: INodeExecutionData[][]) => {
			emitted = data;
		},
		emitError: (error: Error) => {
			throw error;
		},
		helpers: { registerCron: (cron: unknown) => crons.push(cron) },
	} as unknown as ITriggerFunctions;
	const response = (await type.trigger!.call(context))!;
	expect(crons).toHaveLength(1);
	await response.manualTriggerFunction!();
	await response.closeFunction?.();
	return emitted;
}
