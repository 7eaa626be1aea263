import { NodeConnectionTypes, type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';
import { credentialSlots, credentialTests } from '../shared/providers';
import { storeNode } from '../shared/store';
import { router, targets } from './actions/router';
import { messageProperties } from './message';
import * as v1 from './v1';
import * as v2 from './v2';

const header = storeNode(credentialSlots, credentialTests);

/**
 * Sends a push through FCM, APNs and Web Push: to a user's devices (or the last active one), to
 * one device token (transactional), or to an app's audience streamed from the store. Version 2
 * groups version 1's fields by what they apply to; both read into the same message and options.
 */
export class SendPush implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Send Push',
		name: 'sendPush',
		icon: { light: 'file:sendPush.svg', dark: 'file:sendPush.dark.svg' },
		group: ['output'],
		version: [1, 2],
		subtitle: '={{ { user: "To a user", token: "To one device token", audience: "To an audience" }[$parameter["target"]] }}',
		description: 'Send a push notification through FCM, APNs or Web Push to a user, a device or an audience',
		defaults: { name: 'Send Push' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: header.credentials,
		properties: [
			{
				displayName: 'Send To',
				name: 'target',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'A User', value: 'user', description: "The user's push-registered devices (one output item per device)" },
					{ name: 'One Device Token', value: 'token', description: 'Transactional: exactly this device' },
					{ name: 'An Audience', value: 'audience', description: "A campaign to an app's audience, streamed from the store; outputs a summary" },
				],
				default: 'user',
			},
			...targets.user.description,
			...targets.token.description,
			...targets.audience.description,
			...messageProperties,
			...v1.properties,
			...v2.properties,
			v2.localizedProperty,
			v2.deliveryProperty,
		],
	};

	methods = header.methods;

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return router.call(this);
	}
}
