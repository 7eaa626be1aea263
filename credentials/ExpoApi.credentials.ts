import type { ICredentialType, INodeProperties, Icon } from 'n8n-workflow';

/** Expo's push service: an access token, needed only when the project has push security on. */
// eslint-disable-next-line @n8n/community-nodes/credential-test-required -- tested by Send Push and Handle Push Feedback, whose provider credential slots and tests the registry builds (nodes/shared/providers.ts)
export class ExpoApi implements ICredentialType {
	name = 'expoApi';

	displayName = 'Expo Push API';

	icon: Icon = { light: 'file:../nodes/shared/pushTokens.svg', dark: 'file:../nodes/shared/pushTokens.dark.svg' };

	documentationUrl = 'https://docs.expo.dev/push-notifications/sending-notifications/#additional-security';

	properties: INodeProperties[] = [
		{
			displayName: 'Access Token',
			name: 'accessToken',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description:
				'Only if the project has "Enhanced Security for Push Notifications" on (expo.dev → project → Credentials): an access token of the account. Leave empty otherwise.',
		},
	];
}
