/** The fields several operations share, and how the operations read a text parameter. */
import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { appIdField, deviceIdField, optional, userIdField } from '../../shared/fields';

export const forOperations = (...names: string[]) => ({ show: { operation: names } });

const onDevice = forOperations('identify', 'clearIdentify');

/** The device a login or logout is about: by its token, else by its ID. */
export const deviceFields: INodeProperties[] = [
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
];

export const userField: INodeProperties = { ...userIdField, required: true, displayOptions: forOperations('identify', 'getProfile', 'setSubscription') };

/** Item i's text parameter; empty is absent. */
export const textParameter = (context: IExecuteFunctions, i: number) => (name: string) => optional(context.getNodeParameter(name, i, ''));

/** The profile's own id is the store's internal key: a user knows the user id. */
export function withoutId<T extends { id: string }>(value: T): Omit<T, 'id'> {
	return Object.fromEntries(Object.entries(value).filter(([key]) => key !== 'id')) as Omit<T, 'id'>;
}
