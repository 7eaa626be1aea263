import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { DEFAULT_PROVIDER, parseInput, RegisterInput, tokenKey, type DeviceView } from '../../core';
import { appIdField, platformField } from '../../shared/fields';
import { readMessage, sendOptions } from '../message';
import { itemParameters } from '../../shared/parameters';
import { eachItem, sendItems, type ItemPlan } from './items';
import type { SendContext } from './context';

const show = { show: { target: ['token'] } };

export const description: INodeProperties[] = [
	{ ...appIdField, displayOptions: show },
	{ ...platformField, displayOptions: show },
	{
		displayName: 'Device Token',
		name: 'token',
		// eslint-disable-next-line n8n-nodes-base/node-param-type-options-password-missing -- a push token is a device address, not a secret
		type: 'string',
		required: true,
		default: '',
		description: 'The token (for Web Push, the subscription JSON). Used even if the store does not know it.',
		displayOptions: show,
	},
];

/** Each item to one device token (transactional): the store's record of it, or one made from the item. */
export async function execute(this: IExecuteFunctions, { store, sender, readFields }: SendContext): Promise<INodeExecutionData[]> {
	const read = itemParameters(this);
	return sendItems(this, sender, async (from, to) => {
		const asked = await eachItem(from, to, (i) => {
			const { message, options } = readMessage(this, read, i, readFields);
			const record = parseInput(RegisterInput, { appId: read('appId', i), platform: read('platform', i), token: read('token', i) }, 'device token');
			return { message, send: sendOptions(options), record };
		});
		const known = await store.getDevices(asked.flatMap((a) => (a instanceof Error ? [] : [a.record])));
		return asked.map((a): ItemPlan | Error => (a instanceof Error ? a : { message: a.message, send: a.send, devices: [known.get(tokenKey(a.record.appId, a.record.token)) ?? unknownDevice(a.record)] }));
	});
}

/** A token the store does not know: sent to as given. */
function unknownDevice(record: ReturnType<typeof RegisterInput.parse>): DeviceView {
	const now = new Date();
	return {
		id: '',
		appId: record.appId,
		platform: record.platform,
		provider: record.provider ?? DEFAULT_PROVIDER[record.platform],
		token: record.token,
		tokenKind: record.tokenKind,
		data: record.data,
		deviceId: null,
		profileId: '',
		foreground: true,
		pushEnabled: null,
		provisional: false,
		lastStatus: 'unused',
		consecutiveBounces: 0,
		registeredAt: now,
		lastSeenAt: now,
		lastActiveAt: null,
		timeZone: null,
		language: null,
	};
}
