/**
 * The per-item loop every action node shares: each input item is handled on its own, a core
 * error becomes a NodeOperationError naming the item and the field, continueOnFail turns it
 * into an error item, and every output item is paired with its input item.
 */
import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import { NotFoundError, SendConfigError, UnknownSourceError, ValidationError } from '../core';

export function toNodeError(context: IExecuteFunctions, error: unknown, itemIndex: number): Error {
	if (error instanceof NodeOperationError) return error;
	if (error instanceof SendConfigError) {
		return new NodeOperationError(context.getNode(), `Item ${itemIndex + 1}: ${error.message}`, { itemIndex, description: 'Check the provider credential and the topic or bundle ID' });
	}
	// The node is what was parsed: the message names the item and the field, once.
	if (error instanceof ValidationError) return new NodeOperationError(context.getNode(), `Item ${itemIndex + 1}: ${error.detail}`, { itemIndex });
	if (error instanceof NotFoundError || error instanceof UnknownSourceError) {
		return new NodeOperationError(context.getNode(), `Item ${itemIndex + 1}: ${error.message}`, { itemIndex });
	}
	return new NodeOperationError(context.getNode(), error as Error, { itemIndex });
}

/**
 * A failed item: thrown as a NodeOperationError naming it, or, with Continue On Fail, an error
 * item (the input's fields kept when given) so the rest of the batch goes on.
 */
export function errorItem(
	context: IExecuteFunctions,
	error: unknown,
	itemIndex: number,
	pairedItem: INodeExecutionData['pairedItem'] = { item: itemIndex },
	keep: IDataObject = {},
): INodeExecutionData {
	const nodeError = toNodeError(context, error, itemIndex);
	if (!context.continueOnFail()) throw nodeError;
	return { json: { ...keep, error: nodeError.message }, pairedItem };
}

/**
 * Runs `handle` for each input item. What it returns (one object or several) becomes output
 * items paired with that input item.
 */
export async function forEachItem(
	context: IExecuteFunctions,
	handle: (itemIndex: number, item: INodeExecutionData) => Promise<IDataObject | IDataObject[]>,
): Promise<INodeExecutionData[]> {
	const items = context.getInputData();
	const out: INodeExecutionData[] = [];
	for (let i = 0; i < items.length; i++) {
		try {
			const result = await handle(i, items[i]);
			for (const json of Array.isArray(result) ? result : [result]) out.push({ json, pairedItem: { item: i } });
		} catch (error) {
			out.push(errorItem(context, error, i));
		}
	}
	return out;
}

/** Core results hold Dates and nested objects; n8n items want plain JSON. */
export function toJson(value: unknown): IDataObject {
	return JSON.parse(JSON.stringify(value)) as IDataObject;
}
