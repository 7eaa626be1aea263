import type { ICredentialType, INodeProperties, Icon } from 'n8n-workflow';

/**
 * Where the token store lives. SQLite is the embedded default (one n8n); PostgreSQL is for
 * queue mode, where many workers on many hosts share one store.
 */
// eslint-disable-next-line @n8n/community-nodes/credential-test-required -- tested by every node of the store through its header, storeNode() (nodes/shared/store.ts)
export class PushTokenStoreApi implements ICredentialType {
	name = 'pushTokenStoreApi';

	displayName = 'Push Token Store API';

	icon: Icon = { light: 'file:../nodes/shared/pushTokens.svg', dark: 'file:../nodes/shared/pushTokens.dark.svg' };

	documentationUrl = 'https://github.com/n8n-nodes-push-tokens/n8n-nodes-push-tokens#the-store';

	properties: INodeProperties[] = [
		{
			displayName: 'Engine',
			name: 'engine',
			type: 'options',
			options: [
				{ name: 'SQLite (Embedded)', value: 'sqlite', description: 'A file on this n8n host. For one n8n instance.' },
				{ name: 'PostgreSQL', value: 'postgres', description: 'For queue mode: many workers on many hosts' },
			],
			default: 'sqlite',
		},
		{
			displayName: 'File Path',
			name: 'path',
			type: 'string',
			default: '~/.n8n/push-tokens.sqlite',
			description: 'The SQLite file. "~" is the n8n user folder (N8N_USER_FOLDER, else the home folder).',
			displayOptions: { show: { engine: ['sqlite'] } },
		},
		{
			displayName: 'Connect With',
			name: 'connection',
			type: 'options',
			options: [
				{ name: 'Host and Port', value: 'fields' },
				{ name: 'Connection URL', value: 'url' },
			],
			default: 'fields',
			displayOptions: { show: { engine: ['postgres'] } },
		},
		// eslint-disable-next-line @n8n/community-nodes/credential-unnecessary-password -- the URL carries the database password
		{
			displayName: 'Connection URL',
			name: 'url',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			placeholder: 'postgres://user:password@host:5432/database',
			displayOptions: { show: { engine: ['postgres'], connection: ['url'] } },
		},
		{
			displayName: 'Host',
			name: 'host',
			type: 'string',
			default: 'localhost',
			displayOptions: { show: { engine: ['postgres'], connection: ['fields'] } },
		},
		{
			displayName: 'Port',
			name: 'port',
			type: 'number',
			default: 5432,
			displayOptions: { show: { engine: ['postgres'], connection: ['fields'] } },
		},
		{
			displayName: 'Database',
			name: 'database',
			type: 'string',
			default: 'postgres',
			displayOptions: { show: { engine: ['postgres'], connection: ['fields'] } },
		},
		{
			displayName: 'User',
			name: 'user',
			type: 'string',
			default: 'postgres',
			displayOptions: { show: { engine: ['postgres'], connection: ['fields'] } },
		},
		{
			displayName: 'Password',
			name: 'password',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			displayOptions: { show: { engine: ['postgres'], connection: ['fields'] } },
		},
		{
			displayName: 'SSL',
			name: 'ssl',
			type: 'options',
			options: [
				{ name: 'Disable', value: 'disable' },
				{ name: 'Require', value: 'require', description: 'Encrypt, and verify the server certificate' },
				{ name: 'Require (No Certificate Check)', value: 'allow-unverified', description: 'Encrypt, trust any certificate' },
			],
			default: 'disable',
			displayOptions: { show: { engine: ['postgres'] } },
		},
		{
			displayName: 'Schema',
			name: 'schema',
			type: 'string',
			default: 'push_tokens',
			description: 'The PostgreSQL schema the store keeps its tables in, created if missing. The store touches nothing outside it; two schemas on one database are two stores.',
			displayOptions: { show: { engine: ['postgres'] } },
		},
		{
			displayName: 'Pool Size',
			name: 'poolSize',
			type: 'number',
			typeOptions: { minValue: 1, maxValue: 100 },
			default: 10,
			description: 'Connections per n8n process',
			displayOptions: { show: { engine: ['postgres'] } },
		},
		{
			displayName: 'Max Devices per User',
			name: 'maxDevicesPerUser',
			type: 'number',
			typeOptions: { minValue: 0 },
			default: 0,
			description:
				'At most this many devices per user and app; 0 for no limit. When a login would exceed it, the least recently active device is detached to an anonymous profile (its token stays registered).',
		},
	];
}
