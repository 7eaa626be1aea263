import type { ICredentialType, INodeProperties, Icon } from 'n8n-workflow';

/** Firebase Cloud Messaging: a service account of the Firebase project (its JSON key file). */
// eslint-disable-next-line @n8n/community-nodes/credential-test-required -- tested by Send Push, whose provider credential slots and tests the registry builds (nodes/shared/providers.ts)
export class FcmServiceAccountApi implements ICredentialType {
	name = 'fcmServiceAccountApi';

	displayName = 'Firebase Cloud Messaging API';

	icon: Icon = { light: 'file:../nodes/shared/pushTokens.svg', dark: 'file:../nodes/shared/pushTokens.dark.svg' };

	documentationUrl = 'https://firebase.google.com/docs/cloud-messaging/auth-server';

	properties: INodeProperties[] = [
		// eslint-disable-next-line @n8n/community-nodes/credential-unnecessary-password -- the key file holds the service account's private key
		{
			displayName: 'Service Account JSON',
			name: 'serviceAccountJson',
			type: 'string',
			typeOptions: { password: true, rows: 8 },
			required: true,
			default: '',
			description: 'The key file of a service account with the Firebase Cloud Messaging API Admin role (Project settings → Service accounts → Generate new private key)',
		},
	];
}
