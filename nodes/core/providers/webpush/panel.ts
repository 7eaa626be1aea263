/** Web Push in n8n's editor (../panel.ts). */
import type { ProviderPanel } from '../panel';

export const webPushPanel: ProviderPanel = {
	credentialLabel: 'Web Push',
	parameter: 'webPush',
	fields: [
		{
			displayName: 'Declarative',
			name: 'declarative',
			type: 'boolean',
			default: false,
			description: 'Whether to send the declarative form (Safari 18.4+): the browser shows the notification and opens the deep link (an https:// URL) without a service worker',
		},
		{ displayName: 'Topic', name: 'topic', type: 'string', default: '' },
		{
			displayName: 'Urgency',
			name: 'urgency',
			type: 'options',
			options: [
				{ name: 'High', value: 'high' },
				{ name: 'Low', value: 'low' },
				{ name: 'Normal', value: 'normal' },
				{ name: 'Very Low', value: 'very-low' },
			],
			default: 'normal',
		},
	],
	options: (v) => ({ ttlSeconds: v.ttlSeconds, urgency: v.urgency, topic: v.topic, declarative: v.declarative }),
	collapseOption: 'topic',
};
