/** APNs in n8n's editor (../panel.ts). */
import { interruptionLevelOptions, type ProviderPanel } from '../panel';

export const apnsPanel: ProviderPanel = {
	credentialLabel: 'APNs (iOS)',
	parameter: 'apns',
	fields: [
		{ displayName: 'Category', name: 'category', type: 'string', default: '' },
		{ displayName: 'Collapse ID', name: 'collapseId', type: 'string', default: '' },
		{
			displayName: 'Interruption Level',
			name: 'interruptionLevel',
			type: 'options',
			options: interruptionLevelOptions,
			default: 'active',
		},
		{ displayName: 'Mutable Content', name: 'mutableContent', type: 'boolean', default: false, description: 'Whether a notification service extension may change the push' },
		{
			displayName: 'Priority',
			name: 'apnsPriority',
			type: 'options',
			options: [
				{ name: '10 (Immediate)', value: '10' },
				{ name: '5 (Power Considerate)', value: '5' },
			],
			default: '10',
		},
		{ displayName: 'Thread ID', name: 'threadId', type: 'string', default: '' },
	],
	options: (v) => ({
		priority: v.apnsPriority ? Number(v.apnsPriority) : undefined,
		threadId: v.threadId,
		category: v.category,
		mutableContent: v.mutableContent,
		interruptionLevel: v.interruptionLevel,
		collapseId: v.collapseId,
	}),
	collapseOption: 'collapseId',
};
