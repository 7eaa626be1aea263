import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import type { TokenStore } from '../../core';
import { fromVersion2 } from '../../shared/fields';
import { forEachItem, toJson } from '../../shared/items';
import { textParameter, withoutId } from './fields';

/** A user (./fields.ts userField) unsubscribed or resubscribed: version 1's switch was on by default, version 2 says which. */
export const description: INodeProperties[] = [
	{
		displayName: 'Unsubscribed',
		name: 'unsubscribed',
		type: 'boolean',
		default: true,
		description: 'Whether the user is unsubscribed: no campaign pushes, transactional ones still go',
		displayOptions: { show: { '@version': [1], operation: ['setSubscription'] } },
	},
	{
		displayName: 'Subscription',
		name: 'subscription',
		type: 'options',
		options: [
			{ name: 'Resubscribe', value: 'resubscribe', description: 'Campaign pushes reach the user again' },
			{ name: 'Unsubscribe', value: 'unsubscribe', description: 'No campaign pushes to the user; transactional ones still go' },
		],
		default: 'unsubscribe',
		displayOptions: { show: { ...fromVersion2, operation: ['setSubscription'] } },
	},
];

export async function execute(this: IExecuteFunctions, store: TokenStore): Promise<INodeExecutionData[]> {
	return forEachItem(this, async (i) => {
		const userId = textParameter(this, i)('userId');
		if (this.getNode().typeVersion < 2) return toJson(await store.setSubscription({ userId, unsubscribed: this.getNodeParameter('unsubscribed', i) }));
		return toJson(withoutId(await store.setSubscription({ userId, unsubscribed: this.getNodeParameter('subscription', i) === 'unsubscribe' })));
	});
}
