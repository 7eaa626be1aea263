import type { ICredentialType, INodeProperties, Icon } from 'n8n-workflow';

/** Apple Push Notification service, token-based: a .p8 signing key of the team. */
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
