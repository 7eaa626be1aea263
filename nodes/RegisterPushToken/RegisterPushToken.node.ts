import { NodeConnectionTypes, type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';
import { DEFAULT_PROVIDER, PLATFORMS, PROVIDERS } from '../core';
import { apnsEnvironmentOptions, byName, appIdField, deviceIdField, fromVersion2, languageField, optional, PLATFORM_NAMES, platformField, timeZoneField, tokenField, userIdField } from '../shared/fields';
import { label } from '../shared/providers';
import { forEachItem, toJson } from '../shared/items';
import { getStore, storeNode } from '../shared/store';

/** Who delivers to a token: a provider, or the platform's own (the core's DEFAULT_PROVIDER). */
const providerOptions = [
	...PROVIDERS.map((p) => ({ name: label(p), value: p })),
	{ name: "The Platform's Own", value: 'platform', description: PLATFORMS.map((p) => `${label(DEFAULT_PROVIDER[p])} for ${PLATFORM_NAMES[p]}`).join(', ') },
].sort(byName);

const header = storeNode();

export class RegisterPushToken implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Register Push Token',
		name: 'registerPushToken',
		icon: { light: 'file:registerPushToken.svg', dark: 'file:registerPushToken.dark.svg' },
		group: ['transform'],
		// 2: Time Zone and Language
		version: [1, 2],
		subtitle: `={{ ({ ${PLATFORMS.map((p) => `${p}: "${PLATFORM_NAMES[p]}"`).join(', ')} })[$parameter["platform"]] + " token" }}`,
		description: 'Register or refresh a device push token (FCM, APNs, Web Push) from an app open',
		defaults: { name: 'Register Push Token' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: header.credentials,
		properties: [
			appIdField,
			platformField,
			tokenField,
			deviceIdField,
			{ ...userIdField, description: 'Set when the user is logged in: the token moves to them. Empty: anonymous until identified.' },
			{
				displayName: 'Additional Fields',
				name: 'additionalFields',
				type: 'collection',
				placeholder: 'Add Field',
				default: {},
				options: [
					{
						displayName: 'APNs Environment',
						name: 'environment',
						type: 'options',
						options: apnsEnvironmentOptions,
						default: 'production',
					},
					{
						displayName: 'Foreground',
						name: 'foreground',
						type: 'boolean',
						default: true,
						description: 'Whether the app may show visible notifications. Off: background (silent) pushes only.',
					},
					{ ...languageField, displayOptions: { show: fromVersion2 } },
					{
						displayName: 'Provider',
						name: 'provider',
						type: 'options',
						options: providerOptions,
						default: 'platform',
						description: 'Who delivers to this token (an iOS app may also use FCM)',
					},
					{
						displayName: 'Provisional (iOS)',
						name: 'provisional',
						type: 'boolean',
						default: false,
						description: 'Whether iOS granted provisional authorization (quiet delivery to the notification center)',
					},
					{
						displayName: 'Push Enabled',
						name: 'pushEnabled',
						type: 'boolean',
						default: true,
						description: 'Whether notifications were enabled in the OS settings when the app last opened',
					},
					{ ...timeZoneField, displayOptions: { show: fromVersion2 } },
					{
						displayName: 'Token Kind',
						name: 'tokenKind',
						// eslint-disable-next-line n8n-nodes-base/node-param-type-options-password-missing -- the kind of a push token, not a secret
						type: 'options',
						options: [
							{ name: 'FCM Installation ID (FID)', value: 'fid' },
							{ name: 'FCM Registration Token', value: 'registration-token' },
							{ name: "From the Token's Shape", value: 'auto', description: 'An FCM token of 22 characters starting with c, d, e or f is an installation ID' },
						],
						default: 'auto',
						description: 'What kind of FCM address the token is: Firebase moves apps from registration tokens to installation IDs',
					},
				],
			},
		],
	};

	methods = header.methods;

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const store = await getStore(this);
		const out = await forEachItem(this, async (i) => {
			const { provider, tokenKind, timeZone, language, ...extra } = this.getNodeParameter('additionalFields', i, {}) as Record<string, unknown>;
			const result = await store.register({
				appId: this.getNodeParameter('appId', i),
				platform: this.getNodeParameter('platform', i),
				token: this.getNodeParameter('token', i),
				deviceId: optional(this.getNodeParameter('deviceId', i, '')),
				userId: optional(this.getNodeParameter('userId', i, '')),
				...extra,
				// 'platform': the core picks the platform's provider (DEFAULT_PROVIDER)
				provider: provider === 'platform' ? undefined : provider,
				tokenKind: tokenKind === 'auto' ? undefined : tokenKind,
				// (an expression that finds none gives ''; the store keeps what it had)
				timeZone: optional(timeZone),
				language: optional(language),
			});
			return toJson(result);
		});
		return [out];
	}
}
