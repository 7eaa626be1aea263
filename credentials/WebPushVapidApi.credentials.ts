import type { ICredentialType, INodeProperties, Icon } from 'n8n-workflow';

/** Web Push (RFC 8030) with VAPID (RFC 8292) application server keys. */
// eslint-disable-next-line @n8n/community-nodes/credential-test-required -- tested by Send Push, whose provider credential slots and tests the registry builds (nodes/shared/providers.ts)
export class WebPushVapidApi implements ICredentialType {
	name = 'webPushVapidApi';

	displayName = 'Web Push VAPID API';

	icon: Icon = { light: 'file:../nodes/shared/pushTokens.svg', dark: 'file:../nodes/shared/pushTokens.dark.svg' };

	documentationUrl = 'https://datatracker.ietf.org/doc/html/rfc8292';

	properties: INodeProperties[] = [
		{
			displayName: 'Subject',
			name: 'subject',
			type: 'string',
			required: true,
			default: '',
			placeholder: 'mailto:ops@example.com',
			description: 'How push services can reach you: a mailto: or https:// URL',
		},
		{ displayName: 'Public Key', name: 'publicKey', type: 'string', required: true, default: '', description: 'The VAPID public key (base64url), the one the browser subscribed with' },
		{ displayName: 'Private Key', name: 'privateKey', type: 'string', typeOptions: { password: true }, required: true, default: '' },
		{
			displayName: 'Allowed Private Hosts',
			name: 'allowedPrivateHosts',
			type: 'string',
			default: '',
			placeholder: 'push.internal:8443, 10.0.0.5',
			description: 'Comma-separated hosts that may be private or loopback addresses. Others are refused: subscription endpoints are URLs this server will POST to.',
		},
	];
}
