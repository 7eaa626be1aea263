import { NodeConnectionTypes, type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';
import { storeNode } from '../shared/store';
import { deviceFields, userField } from './actions/fields';
import { operations, router } from './actions/router';

const header = storeNode();

/**
 * Who a token belongs to: login moves it to the user (identify, Braze's changeUser), logout lets
 * it go (clear identify), the profile's export view, its token history, and subscription state.
 * Version 2 makes Set Subscription say Unsubscribe or Resubscribe (version 1's Unsubscribed
 * switch was on by default) and outputs profiles in camelCase, without the store's own ids.
 */
export class PushTokenIdentity implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Push Token Identity',
		name: 'pushTokenIdentity',
		icon: { light: 'file:pushTokenIdentity.svg', dark: 'file:pushTokenIdentity.dark.svg' },
		group: ['transform'],
		version: [1, 2],
		subtitle:
			'={{ { identify: "Identify", clearIdentify: "Clear Identify", getProfile: "Get Profile", getTokenHistory: "Get Token History", setSubscription: "Set Subscription" }[$parameter["operation"]] }}',
		description: 'Move a push token to the user who logged in, let it go on logout, read a profile or its token history, or unsubscribe a user',
		defaults: { name: 'Push Token Identity' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: header.credentials,
		properties: [
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'Clear Identify', value: 'clearIdentify', description: "Logout: the device's token leaves the user", action: 'Log a user out of a device' },
					{ name: 'Get Profile', value: 'getProfile', description: 'A user with their push tokens', action: 'Get the profile of a user' },
					{ name: 'Get Token History', value: 'getTokenHistory', description: "The changelog of a user's or a token's push tokens, newest first", action: 'Get the history of push tokens' },
					{ name: 'Identify', value: 'identify', description: "Login: move the device's token to the user", action: 'Log a user in on a device' },
					{ name: 'Set Subscription', value: 'setSubscription', description: 'Unsubscribe or resubscribe a user', action: 'Set the subscription of a user' },
				],
				default: 'identify',
			},
			...deviceFields,
			userField,
			...operations.identify.description,
			...operations.getTokenHistory.description,
			...operations.clearIdentify.description,
			...operations.setSubscription.description,
			...operations.getProfile.description,
		],
	};

	methods = header.methods;

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return router.call(this);
	}
}
