import type { ICredentialType, INodeProperties, Icon } from 'n8n-workflow';

/** Apple Push Notification service, token-based: a .p8 signing key of the team. */
// eslint-disable-next-line @n8n/community-nodes/credential-test-required -- tested by Send Push, whose provider credential slots and tests the registry builds (nodes/shared/providers.ts)
export class ApnsApi implements ICredentialType {
	name = 'apnsApi';

	displayName = 'APNs API';

	icon: Icon = { light: 'file:../nodes/shared/pushTokens.svg', dark: 'file:../nodes/shared/pushTokens.dark.svg' };

	documentationUrl = 'https://developer.apple.com/documentation/usernotifications/establishing-a-token-based-connection-to-apns';

	properties: INodeProperties[] = [
		{ displayName: 'Team ID', name: 'teamId', type: 'string', required: true, default: '', placeholder: 'ABCDE12345' },
		{ displayName: 'Key ID', name: 'keyId', type: 'string', required: true, default: '', placeholder: 'KEY1234567' },
		// eslint-disable-next-line @n8n/community-nodes/credential-unnecessary-password -- the .p8 file is the private signing key
		{
			displayName: 'Signing Key (.p8)',
			name: 'signingKey',
			type: 'string',
			typeOptions: { password: true, rows: 6 },
			required: true,
			default: '',
			description: 'The whole .p8 file, from -----BEGIN PRIVATE KEY----- to -----END PRIVATE KEY-----',
		},
		{
			displayName: 'Key Environment',
			name: 'keyEnvironment',
			type: 'options',
			options: [
				{ name: 'Sandbox & Production', value: 'all' },
				{ name: 'Production Only', value: 'production' },
				{ name: 'Sandbox Only', value: 'sandbox' },
			],
			default: 'all',
			description: "The environment Apple limited the key to when it was made (Certificates, Identifiers & Profiles → Keys). A key limited to one environment can have a second key for the other.",
		},
		{
			displayName: 'Second Key ID',
			name: 'secondKeyId',
			type: 'string',
			default: '',
			placeholder: 'KEY7654321',
			description: 'Optional: the key for the other environment',
			displayOptions: { show: { keyEnvironment: ['production', 'sandbox'] } },
		},
		// eslint-disable-next-line @n8n/community-nodes/credential-unnecessary-password -- the .p8 file is the private signing key
		{
			displayName: 'Second Signing Key (.p8)',
			name: 'secondSigningKey',
			type: 'string',
			typeOptions: { password: true, rows: 6 },
			default: '',
			description: 'Optional: the .p8 file of the key for the other environment',
			displayOptions: { show: { keyEnvironment: ['production', 'sandbox'] } },
		},
		{ displayName: 'Bundle ID (Topic)', name: 'bundleId', type: 'string', required: true, default: '', placeholder: 'com.example.app' },
		{
			displayName: 'Default Environment',
			name: 'environment',
			type: 'options',
			options: [
				{ name: 'Production', value: 'production' },
				{ name: 'Sandbox (Development Builds)', value: 'sandbox' },
			],
			default: 'production',
			description: 'For tokens registered without an environment',
		},
	];
}
