import { NodeConnectionTypes, type IDataObject, type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';
import { appIdField, deviceIdField, fromVersion2, optional, userIdField } from '../shared/fields';
import { forEachItem, toJson } from '../shared/items';
import { getStore, storeNode } from '../shared/store';
import { ChangelogPage, parseInput, ProfileByUserId, type ProfileExport, type TokenStore } from '../core';

type Operation = 'identify' | 'clearIdentify' | 'getProfile' | 'getTokenHistory' | 'setSubscription';

const operations = (...names: Operation[]) => ({ show: { operation: names } });
const onDevice = operations('identify', 'clearIdentify');
const historyOf = (of: 'user' | 'token') => ({ show: { operation: ['getTokenHistory' as Operation], historyOf: [of] } });


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
			{
				displayName: 'History Of',
				name: 'historyOf',
				type: 'options',
				options: [
					{ name: 'A Token', value: 'token', description: 'Everything that happened to one push token of an app' },
					{ name: 'A User', value: 'user', description: 'The tokens that came to or left the user' },
				],
				default: 'user',
				displayOptions: operations('getTokenHistory'),
			},
			{ ...userIdField, required: true, displayOptions: operations('identify', 'getProfile', 'setSubscription') },
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
			{
				displayName: 'Return All',
				name: 'returnAll',
				type: 'boolean',
				default: false,
				description: 'Whether to return all results or only up to a given limit',
				displayOptions: operations('getTokenHistory'),
			},
			{
				displayName: 'Limit',
				name: 'limit',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: 50,
				description: 'Max number of results to return',
				displayOptions: { show: { operation: ['getTokenHistory'], returnAll: [false] } },
			},
			{
				displayName: 'On Logout',
				name: 'mode',
				type: 'options',
				options: [
					{ name: 'Make Anonymous', value: 'anonymous', description: 'The token stays, on an anonymous profile' },
					{ name: 'Remove Token', value: 'remove', description: 'The token is deleted; the app registers it again on next open' },
				],
				default: 'anonymous',
				displayOptions: operations('clearIdentify'),
			},
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
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				displayOptions: { show: { ...fromVersion2, operation: ['getProfile'] } },
				options: [
					{
						displayName: 'Export Field Names',
						name: 'exportFieldNames',
						type: 'boolean',
						default: false,
						description: "Whether to name the fields as Braze's and Customer.io's exports do (push_tokens[].app_id, last_seen_at, …)",
					},
				],
			},
		],
	};

	methods = header.methods;

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const store = await getStore(this);
		const operation = this.getNodeParameter('operation', 0) as Operation;
		return [await forEachItem(this, async (i) => (operation === 'getTokenHistory' ? tokenHistory(this, store, i) : toJson(await run(this, store, operation, i))))];
	}
}

async function run(context: IExecuteFunctions, store: TokenStore, operation: Exclude<Operation, 'getTokenHistory'>, i: number): Promise<unknown> {
	const param = (name: string) => optional(context.getNodeParameter(name, i, ''));
	switch (operation) {
		case 'identify':
			return store.identify({ appId: param('appId'), token: param('token'), deviceId: param('deviceId'), userId: param('userId') });
		case 'clearIdentify':
			return store.clearIdentify({ appId: param('appId'), token: param('token'), deviceId: param('deviceId'), mode: param('mode') });
		case 'getProfile': {
			const { userId } = parseInput(ProfileByUserId, { userId: context.getNodeParameter('userId', i, '') }, 'get profile');
			const profile = await store.getProfile({ userId });
			if (!profile) return { found: false, userId };
			if (context.getNode().typeVersion < 2) return { found: true, ...profile };
			const { exportFieldNames } = context.getNodeParameter('options', i, {}) as { exportFieldNames?: boolean };
			return { found: true, ...(exportFieldNames ? withoutId(profile) : (camelCase(withoutId(profile)) as IDataObject)) };
		}
		case 'setSubscription': {
			if (context.getNode().typeVersion < 2) return store.setSubscription({ userId: param('userId'), unsubscribed: context.getNodeParameter('unsubscribed', i) });
			return withoutId(await store.setSubscription({ userId: param('userId'), unsubscribed: context.getNodeParameter('subscription', i) === 'unsubscribe' }));
		}
	}
}

/** The events, newest first, 500 a page (Return All) or up to the limit. */
async function tokenHistory(context: IExecuteFunctions, store: TokenStore, i: number): Promise<IDataObject[]> {
	const param = (name: string) => context.getNodeParameter(name, i, '');
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
}

/** The profile's own id is the store's internal key: a user knows the user id. */
function withoutId<T extends { id: string }>(value: T): Omit<T, 'id'> {
	return Object.fromEntries(Object.entries(value).filter(([key]) => key !== 'id')) as Omit<T, 'id'>;
}

/** The export's snake_case field names (push_tokens[].last_seen_at) in n8n's camelCase. */
function camelCase(value: Omit<ProfileExport, 'id'>): unknown {
	const convert = (v: unknown): unknown => {
		if (Array.isArray(v)) return v.map(convert);
		if (v === null || typeof v !== 'object' || v instanceof Date) return v;
		return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), convert(x)]));
	};
	return convert(value);
}
