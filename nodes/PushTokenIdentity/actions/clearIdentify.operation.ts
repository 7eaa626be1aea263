import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import type { TokenStore } from '../../core';
import { forEachItem, toJson } from '../../shared/items';
import { forOperations, textParameter } from './fields';

/** Logout: the device (./fields.ts deviceFields), and what becomes of its token. */
export const description: INodeProperties[] = [
	{
		displayName: 'On Logout',
		name: 'mode',
		type: 'options',
		options: [
			{ name: 'Make Anonymous', value: 'anonymous', description: 'The token stays, on an anonymous profile' },
			{ name: 'Remove Token', value: 'remove', description: 'The token is deleted; the app registers it again on next open' },
		],
		default: 'anonymous',
		displayOptions: forOperations('clearIdentify'),
	},
];

export async function execute(this: IExecuteFunctions, store: TokenStore): Promise<INodeExecutionData[]> {
	return forEachItem(this, async (i) => {
		const param = textParameter(this, i);
		return toJson(await store.clearIdentify({ appId: param('appId'), token: param('token'), deviceId: param('deviceId'), mode: param('mode') }));
	});
}
