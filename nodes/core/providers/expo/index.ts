/** Expo's push service: an Expo push token (ExponentPushToken[…]), for iOS and Android apps built with Expo; claimed by its shape. */
import type { ProviderModule } from '../provider';
import { EXPO_TOKEN_MAX, expoAddress, expoToken } from './address';
import { expoAnswers } from './answers';
import { credentialConfig, ExpoConfig } from './config';
import { EXPO_PAYLOAD_LIMIT, ExpoOptions, expoPayloadBytes } from './payload';
import { expoPanel } from './panel';
import { ExpoTransport } from './transport';

export const expo = {
	id: 'expo',
	name: 'Expo',
	platforms: ['ios', 'android'],
	// The default of no platform: a token is routed here by its shape.
	defaultFor: [],
	tokenKinds: ['push-token'],
	canonical: expoToken,
	owns: (raw) => typeof raw === 'string' && expoToken(raw) !== null,
	address: expoAddress,
	maxTokenLength: EXPO_TOKEN_MAX,
	options: ExpoOptions,
	payloadLimit: EXPO_PAYLOAD_LIMIT,
	payloadBytes: expoPayloadBytes,
	answers: expoAnswers,
	// Six requests of 100 at once (Expo's limit per request, the SDK's concurrency).
	chunkSize: 600,
	config: ExpoConfig,
	credential: { name: 'expoApi', config: credentialConfig },
	transport: (config, network) => new ExpoTransport(config, network),
	receipts: true,
	panel: expoPanel,
} satisfies ProviderModule<'expo', typeof ExpoOptions, typeof ExpoConfig>;

export { ExpoConfig } from './config';
export { expoMessage } from './payload';
export { ExpoTransport } from './transport';
