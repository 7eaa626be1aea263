import type { ICredentialType, INodeProperties, Icon } from 'n8n-workflow';

/**
 * The Push Token Endpoint's secrets: the app key every call carries, and what proves a user (an
 * HMAC secret, or the key of the JWTs the app's backend signs). Which proof is asked for is the
 * node's Identity Verification.
 */
// eslint-disable-next-line @n8n/community-nodes/credential-test-required -- tested by Push Token Endpoint through its header, storeNode() (nodes/shared/store.ts)
export class PushTokenEndpointAuthApi implements ICredentialType {
	name = 'pushTokenEndpointAuthApi';

	displayName = 'Push Token Endpoint Auth API';

	icon: Icon = { light: 'file:../nodes/shared/pushTokens.svg', dark: 'file:../nodes/shared/pushTokens.dark.svg' };

	documentationUrl = 'https://github.com/n8n-nodes-push-tokens/n8n-nodes-push-tokens#push-token-endpoint';

	properties: INodeProperties[] = [
		// eslint-disable-next-line @n8n/community-nodes/credential-unnecessary-password -- a shared secret of the app
		{
			displayName: 'App Key',
			name: 'appKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description: 'Every call sends it in the X-App-Key header. Empty: no app key is asked for (anyone who knows the URL may register anonymous devices).',
		},
		{
			displayName: 'HMAC Secret',
			name: 'hmacSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description: "For HMAC verification: your backend sends the app hex(HMAC-SHA256(secret, userId)); never ship it in the app. At least 16 characters.",
		},
		{
			displayName: 'JWT Algorithm',
			name: 'jwtAlgorithm',
			type: 'options',
			options: [
				{ name: 'ES256 (Public Key)', value: 'ES256' },
				{ name: 'HS256 (Shared Secret)', value: 'HS256' },
				{ name: 'RS256 (Public Key)', value: 'RS256' },
			],
			default: 'RS256',
		},
		// eslint-disable-next-line @n8n/community-nodes/credential-unnecessary-password -- HS256's shared secret
		{
			displayName: 'JWT Key',
			name: 'jwtKey',
			type: 'string',
			typeOptions: { password: true, rows: 4 },
			default: '',
			description: "For JWT verification: your backend's public key (PEM) for RS256 and ES256, or the shared secret for HS256",
		},
		{
			displayName: 'JWT Issuer',
			name: 'jwtIssuer',
			type: 'string',
			default: '',
			description: 'If set, the JWT\'s "iss" must be this',
		},
		{
			displayName: 'JWT Audience',
			name: 'jwtAudience',
			type: 'string',
			default: '',
			description: 'If set, the JWT\'s "aud" must include this',
		},
		{
			displayName: 'Clock Leeway (Seconds)',
			name: 'leewaySeconds',
			type: 'number',
			typeOptions: { minValue: 0, maxValue: 600 },
			default: 60,
			description: "How far the JWT's exp and nbf may be off this server's clock",
		},
	];
}
