import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { ChangelogPage, parseInput, type TokenStore } from '../../core';
import { appIdField, returnAllAndLimit, userIdField } from '../../shared/fields';
import { forEachItem, toJson } from '../../shared/items';
import { forOperations } from './fields';

const historyOf = (of: 'user' | 'token') => ({ show: { operation: ['getTokenHistory'], historyOf: [of] } });

export const description: INodeProperties[] = [
	{
		displayName: 'History Of',
		name: 'historyOf',
		type: 'options',
		options: [
			{ name: 'A Token', value: 'token', description: 'Everything that happened to one push token of an app' },
			{ name: 'A User', value: 'user', description: 'The tokens that came to or left the user' },
		],
		default: 'user',
		displayOptions: forOperations('getTokenHistory'),
	},
	{ ...userIdField, required: true, displayOptions: historyOf('user') },
	{ ...appIdField, displayOptions: historyOf('token') },
	{
		displayName: 'Token',
		name: 'token',
		// eslint-disable-next-line n8n-nodes-base/node-param-type-options-password-missing -- a push token is a device address, not a secret: users must see what they map
		type: 'string',
		required: true,
		default: '',
		description: 'The push token (or Web Push subscription)',
		displayOptions: historyOf('token'),
	},
	...returnAllAndLimit('getTokenHistory'),
];

/** Each item: the events of a user or a token, newest first, 500 a page (Return All) or up to the limit. */
export async function execute(this: IExecuteFunctions, store: TokenStore): Promise<INodeExecutionData[]> {
	return forEachItem(this, async (i) => {
		const param = (name: string) => this.getNodeParameter(name, i, '');
		const filter = param('historyOf') === 'token' ? { appId: param('appId') as string, token: param('token') } : { userId: param('userId') as string };
		const wanted = param('returnAll') ? Infinity : parseInput(ChangelogPage.pick({ limit: true }), { limit: Number(param('limit')) }, 'token history').limit;
		const out: IDataObject[] = [];
		let before: number | undefined;
		while (out.length < wanted) {
			const page = await store.changelog(filter, { limit: Math.min(500, wanted - out.length), newestFirst: true, before });
			for (const { id, at, type, appId, token, deviceId, fromUserId, toUserId, reason } of page) out.push(toJson({ id, at, type, appId, token, deviceId, fromUserId, toUserId, reason }));
			if (page.length < 500) break;
			before = page[page.length - 1].id;
		}
		return out;
	});
}
