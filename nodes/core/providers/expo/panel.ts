/** Expo in n8n's editor (../panel.ts). Its field names are its own: Send Push reads every provider's collection into one set of options. */
import { interruptionLevelOptions, type ProviderPanel } from '../panel';

/** An empty text field is no option (Expo would take `channelId: ""` for a channel). */
const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);

export const expoPanel: ProviderPanel = {
	credentialLabel: 'Expo (apps built with Expo)',
	parameter: 'expo',
	fields: [
		{ displayName: 'Category ID', name: 'expoCategoryId', type: 'string', default: '', description: 'The notification category: its action buttons' },
		{ displayName: 'Channel ID', name: 'expoChannelId', type: 'string', default: '', description: 'Android: the notification channel' },
		{
			displayName: 'Interruption Level',
			name: 'expoInterruptionLevel',
			type: 'options',
			options: interruptionLevelOptions,
			default: 'active',
			description: 'How the notification interrupts (iOS)',
		},
		{ displayName: 'Mutable Content', name: 'expoMutableContent', type: 'boolean', default: false, description: 'Whether a notification service extension may change the push (iOS)' },
		{
			displayName: 'Priority',
			name: 'expoPriority',
			type: 'options',
			options: [
				{ name: 'Default', value: 'default' },
				{ name: 'High', value: 'high' },
				{ name: 'Normal', value: 'normal' },
			],
			default: 'default',
		},
	],
	options: (v) => ({
		ttlSeconds: v.ttlSeconds,
		priority: v.expoPriority,
		channelId: text(v.expoChannelId),
		categoryId: text(v.expoCategoryId),
		mutableContent: v.expoMutableContent,
		interruptionLevel: v.expoInterruptionLevel,
	}),
};
