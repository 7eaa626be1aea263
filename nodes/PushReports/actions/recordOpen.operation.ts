import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import type { TokenStore } from '../../core';
import { appIdField, deviceIdField, optional } from '../../shared/fields';
import { forEachItem } from '../../shared/items';
import { instant } from './instant';

const show = { show: { operation: ['recordOpen'] } };

export const description: INodeProperties[] = [
	{ ...appIdField, displayOptions: show },
	{ displayName: 'Send ID', name: 'sendId', type: 'string', required: true, default: '', description: 'The push_send_id the push carried in its data', displayOptions: show },
	{
		displayName: 'Token',
		name: 'token',
		// eslint-disable-next-line n8n-nodes-base/node-param-type-options-password-missing -- a push token is a device address, not a secret: users must see what they map
		type: 'string',
		default: '',
		description: 'The push token of the device that opened it (or its Web Push subscription). Empty: found by its device ID.',
		displayOptions: show,
	},
	{ ...deviceIdField, description: "The app's ID for the install, used when no token is given", displayOptions: show },
	{ displayName: 'Opened At', name: 'openedAt', type: 'dateTime', default: '', description: 'When the push was opened (empty: now)', displayOptions: show },
];

/** Each item one open: counted once per device of the send, or not, with the reason (never an error for an unknown send id or device). */
export async function execute(this: IExecuteFunctions, store: TokenStore): Promise<INodeExecutionData[]> {
	return forEachItem(this, async (i) => {
		const param = (name: string) => optional(this.getNodeParameter(name, i, ''));
		const open = { appId: param('appId'), sendId: param('sendId'), token: param('token'), deviceId: param('deviceId'), openedAt: instant(this, i, 'openedAt') };
		return { sendId: open.sendId as string, ...(await store.recordOpen(open)) };
	});
}
