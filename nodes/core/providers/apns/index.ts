/**
 * Apple Push Notification service: a device token of 64 hexadecimal characters, per environment
 * (production, sandbox): the device's data is `{ environment }`, from the record's `environment`.
 */
import { z } from 'zod/v4';
import { describe } from '../../text';
import type { ProviderModule } from '../provider';
import { apnsPanel } from './panel';
import { apnsAnswers } from './answers';
import { APNS_ENVIRONMENTS, ApnsConfig, checkKeys, credentialConfig, environmentOf, isApnsEnvironment } from './config';
import { APNS_PAYLOAD_LIMIT, apnsPayload, ApnsOptions } from './payload';
import { ApnsTransport } from './transport';

const DEVICE_TOKEN = /^[0-9a-f]{64}$/i;

export const apns = {
	id: 'apns',
	name: 'APNs',
	platforms: ['ios'],
	defaultFor: ['ios'],
	tokenKinds: ['device-token'],
	canonical: (raw) => (DEVICE_TOKEN.test(raw) ? raw.toLowerCase() : null),
	recordFields: { environment: z.enum(APNS_ENVIRONMENTS, { error: `expected environment to be one of ${APNS_ENVIRONMENTS.join(', ')}` }).optional() },
	address(token, _kind, { environment }) {
		if (typeof token !== 'string') return [{ path: [], message: `expected the APNS token as a string, got ${describe(token)}` }];
		const text = token.trim();
		if (!DEVICE_TOKEN.test(text)) return [{ path: [], message: `expected an APNs device token of 64 hexadecimal characters, got ${describe(text)}` }];
		return { token: text.toLowerCase(), kind: 'device-token', data: isApnsEnvironment(environment) ? { environment } : null };
	},
	parseData: (stored) => {
		const environment = environmentOf(stored as Record<string, unknown> | null);
		return environment ? { environment } : null;
	},
	// An app open that does not say its environment keeps the one known.
	mergeData: (previous, next) => next ?? previous,
	show: (data) => ({ environment: environmentOf(data) }),
	maxTokenLength: 64,
	options: ApnsOptions,
	payloadLimit: APNS_PAYLOAD_LIMIT,
	payloadBytes: (message) => Buffer.byteLength(JSON.stringify(apnsPayload(message).payload)),
	answers: apnsAnswers,
	chunkSize: 500,
	config: ApnsConfig,
	credential: { name: 'apnsApi', config: credentialConfig },
	checkConfig: checkKeys,
	panel: apnsPanel,
	transport: (config, network) => new ApnsTransport(config, network),
} satisfies ProviderModule<'apns', typeof ApnsOptions, typeof ApnsConfig>;

export { APNS_ENVIRONMENTS, ApnsConfig } from './config';
export { apnsPayload } from './payload';
export { ApnsTransport } from './transport';
