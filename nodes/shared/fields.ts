/** Parameters several nodes share: which app, which device, and the core's lists as the editor shows them. */
import type { INodeProperties, INodePropertyOptions } from 'n8n-workflow';
import { APNS_ENVIRONMENTS, PLATFORMS, type Platform } from '../core';

/** How the editor names each platform (the list is the core's PLATFORMS). */
export const PLATFORM_NAMES: Record<Platform, string> = { ios: 'iOS', android: 'Android', web: 'Web' };

/** Options in n8n's alphabetical order (its linter's rule). */
export const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);

/** The platforms as options. */
export const platformOptions: INodePropertyOptions[] = PLATFORMS.map((p) => ({ name: PLATFORM_NAMES[p], value: p })).sort(byName);

/** The APNs environments as options. */
export const apnsEnvironmentOptions: INodePropertyOptions[] = APNS_ENVIRONMENTS.map((e) => ({ name: e[0].toUpperCase() + e.slice(1), value: e }));

export { oneOf } from '../core';

export const appIdField: INodeProperties = {
	displayName: 'App ID',
	name: 'appId',
	type: 'string',
	required: true,
	default: '',
	placeholder: 'com.example.app',
	description: 'The app the token belongs to (bundle ID, package name or site)',
};

export const platformField: INodeProperties = {
	displayName: 'Platform',
	name: 'platform',
	type: 'options',
	options: platformOptions,
	default: 'ios',
};

export const tokenField: INodeProperties = {
	displayName: 'Token',
	name: 'token',
	// eslint-disable-next-line n8n-nodes-base/node-param-type-options-password-missing -- a push token is a device address, not a secret: users must see what they map
	type: 'string',
	required: true,
	default: '',
	description:
		'The push token: 64 hex characters for APNs, the registration token for FCM, the PushSubscription (JSON) for Web Push',
};

export const deviceIdField: INodeProperties = {
	displayName: 'Device ID',
	name: 'deviceId',
	type: 'string',
	default: '',
	description: "The app's own ID for this install (e.g. IDFV, Android ID). A new token for the same device replaces the old one.",
};

export const userIdField: INodeProperties = {
	displayName: 'User ID',
	name: 'userId',
	type: 'string',
	default: '',
	description: 'Your ID for the person (external ID)',
};

export const timeZoneField: INodeProperties = {
	displayName: 'Time Zone',
	name: 'timeZone',
	type: 'string',
	default: '',
	placeholder: 'e.g. Europe/Paris',
	description: "The device's IANA time zone, as the app reads it (TimeZone.current.identifier on iOS, ZoneId.systemDefault() on Android). Empty: unchanged.",
};

export const languageField: INodeProperties = {
	displayName: 'Language',
	name: 'language',
	type: 'string',
	default: '',
	placeholder: 'e.g. fr-CA',
	description: "The device's language as a BCP 47 tag (fr, pt-BR), as the app reads it. Empty: unchanged.",
};

/** n8n's Return All switch, and the Limit it shows when off, for one operation. */
export function returnAllAndLimit(operation: string): INodeProperties[] {
	return [
		{
			displayName: 'Return All',
			name: 'returnAll',
			type: 'boolean',
			default: false,
			description: 'Whether to return all results or only up to a given limit',
			displayOptions: { show: { operation: [operation] } },
		},
		{
			displayName: 'Limit',
			name: 'limit',
			type: 'number',
			typeOptions: { minValue: 1 },
			default: 50,
			description: 'Max number of results to return',
			displayOptions: { show: { operation: [operation], returnAll: [false] } },
		},
	];
}

/** A displayOptions condition: from version 2 of a node on (its version 1 keeps its own fields). */
export const fromVersion2 = { '@version': [{ _cnd: { gte: 2 } }] };

/** An empty string parameter means "not given". */
export function optional(value: unknown): unknown {
	return value === '' || value === null ? undefined : value;
}
