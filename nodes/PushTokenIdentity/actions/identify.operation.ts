import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import type { TokenStore } from '../../core';
import { forEachItem, toJson } from '../../shared/items';
import { textParameter } from './fields';

/** Login: the device (./fields.ts deviceFields) and the user (userField) are all it takes. */
export const description: INodeProperties[] = [];

export async function execute(this: IExecuteFunctions, store: TokenStore): Promise<INodeExecutionData[]> {
	return forEachItem(this, async (i) => {
		const param = textParameter(this, i);
		return toJson(await store.identify({ appId: param('appId'), token: param('token'), deviceId: param('deviceId'), userId: param('userId') }));
	});
}
