/** FCM in n8n's editor (../panel.ts). */
import type { ProviderPanel } from '../panel';

export const fcmPanel: ProviderPanel = {
	credentialLabel: 'FCM (Android, and iOS apps that use FCM)',
	parameter: 'fcm',
	fields: [
		{ displayName: 'Channel ID', name: 'channelId', type: 'string', default: '' },
		{ displayName: 'Data Only', name: 'dataOnly', type: 'boolean', default: false, description: 'Whether to send only data (the app renders it)' },
		{
			displayName: 'Priority',
			name: 'fcmPriority',
			type: 'options',
			options: [
				{ name: 'High', value: 'high' },
				{ name: 'Normal', value: 'normal' },
			],
			default: 'high',
		},
	],
	options: (v) => ({ priority: v.fcmPriority, ttlSeconds: v.ttlSeconds, channelId: v.channelId, dataOnly: v.dataOnly }),
	collapseOption: 'collapseKey',
};
