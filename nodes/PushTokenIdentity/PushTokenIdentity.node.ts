import { NodeConnectionTypes, type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';
import { appIdField, deviceIdField, optional, userIdField } from '../shared/fields';
import { forEachItem, toJson } from '../shared/items';
import { getStore, pushTokenStoreConnectionTest } from '../shared/store';
import { parseInput, ProfileByUserId, type TokenStore } from '../core';

const onDevice = { show: { operation: ['identify', 'clearIdentify'] } };

type Operation = 'identify' | 'clearIdentify' | 'getProfile' | 'setSubscription';

/**
 * Who a token belongs to: login moves it to the user (identify, Braze's changeUser), logout lets
 * it go (clear identify), and the profile's export view and subscription state.
 */
export class PushTokenIdentity implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Push Token Identity',
		name: 'pushTokenIdentity',
		icon: { light: 'file:../shared/pushTokens.svg', dark: 'file:../shared/pushTokens.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["operation"]}}',
		description: 'Move a push token to the user who logged in, let it go on logout, read a profile, or unsubscribe a user',
		defaults: { name: 'Push Token Identity' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'pushTokenStoreApi', required: true, testedBy: 'pushTokenStoreConnectionTest' }],
		properties: [
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				options: [
					{
						name: 'Clear Identify',
						value: 'clearIdentify',
						description: "Logout: the device's token leaves the user",
						action: 'Clear identify a device token',
					},
					{ name: 'Get Profile', value: 'getProfile', description: 'A user with their push tokens', action: 'Get a profile' },
					{
						name: 'Identify',
						value: 'identify',
						description: "Login: move the device's token to the user",
						action: 'Identify a device token',
					},
					{
						name: 'Set Subscription',
						value: 'setSubscription',
						description: 'Unsubscribe or resubscribe a user',
						action: 'Set the subscription of a user',
					},
				],
				default: 'identify',
			},
			{ ...appIdField, displayOptions: onDevice },
			{
				displayName: 'Token',
				name: 'token',
				// eslint-disable-next-line n8n-nodes-base/node-param-type-options-password-missing -- a push token is a device address, not a secret: users must see what they map
				type: 'string',
				default: '',
				description: 'The push token of the device (or its Web Push subscription). Empty: find the device by its ID.',
				displayOptions: onDevice,
			},
			{ ...deviceIdField, description: "The app's ID for the install, used when no token is given", displayOptions: onDevice },
			{ ...userIdField, required: true, displayOptions: { show: { operation: ['identify', 'getProfile', 'setSubscription'] } } },
			{
				displayName: 'On Logout',
				name: 'mode',
				type: 'options',
				options: [
					{ name: 'Make Anonymous', value: 'anonymous', description: 'The token stays, on an anonymous profile' },
					{ name: 'Remove Token', value: 'remove', description: 'The token is deleted; the app registers it again on next open' },
				],
				default: 'anonymous',
				displayOptions: { show: { operation: ['clearIdentify'] } },
			},
			{
				displayName: 'Unsubscribed',
				name: 'unsubscribed',
				type: 'boolean',
				default: true,
				description: 'Whether the user is unsubscribed: no campaign pushes, transactional ones still go',
				displayOptions: { show: { operation: ['setSubscription'] } },
			},
		],
	};

	methods = { credentialTest: { pushTokenStoreConnectionTest } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const store = await getStore(this);
		const operation = this.getNodeParameter('operation', 0) as Operation;
		return [await forEachItem(this, async (i) => toJson(await run(this, store, operation, i)))];
	}
}

async function run(context: IExecuteFunctions, store: TokenStore, operation: Operation, i: number): Promise<unknown> {
	const param = (name: string) => optional(context.getNodeParameter(name, i, ''));
	switch (operation) {
		case 'identify':
			return store.identify({ appId: param('appId'), token: param('token'), deviceId: param('deviceId'), userId: param('userId') });
		case 'clearIdentify':
			return store.clearIdentify({ appId: param('appId'), token: param('token'), deviceId: param('deviceId'), mode: param('mode') });
		case 'getProfile': {
			const { userId } = parseInput(ProfileByUserId, { userId: context.getNodeParameter('userId', i, '') }, 'get profile');
			const profile = await store.getProfile({ userId });
			return profile ? { found: true, ...profile } : { found: false, userId };
		}
		case 'setSubscription':
			return store.setSubscription({ userId: param('userId'), unsubscribed: context.getNodeParameter('unsubscribed', i) });
	}
}
