/**
 * Firebase Cloud Messaging. A device's address is a registration token or, as Firebase moves
 * to them, its Firebase Installation ID (FID): 22 characters of base64url whose first 4 bits
 * are 0111 (c, d, e or f), unlike a registration token (visible ASCII, well over 100 characters).
 */
import { describe } from '../../text';
import type { ProviderModule } from '../provider';
import { fcmPanel } from './panel';
import { fcmAnswers } from './answers';
import { credentialConfig, FcmConfig } from './config';
import { FCM_PAYLOAD_LIMIT, fcmMessage, FcmOptions } from './payload';
import { FcmTransport } from './transport';

const FID = /^[c-f][A-Za-z0-9_-]{21}$/;
const REGISTRATION_TOKEN = /^[\x21-\x7e]+$/;
/** Real registration tokens are 150 to 200 characters: five times that leaves room to grow, and fits the index (../../model.ts). */
export const FCM_TOKEN_MAX = 1024;

export const fcm = {
	id: 'fcm',
	name: 'FCM',
	platforms: ['android', 'ios', 'web'],
	defaultFor: ['android'],
	tokenKinds: ['registration-token', 'fid'],
	address(token, kind) {
		if (typeof token !== 'string') return [{ path: [], message: `expected the FCM token as a string, got ${describe(token)}` }];
		const text = token.trim();
		if (kind === 'fid' || (kind === undefined && FID.test(text))) {
			return FID.test(text) ? { token: text, kind: 'fid', data: null } : [{ path: [], message: `expected a Firebase Installation ID (22 characters of base64url starting with c, d, e or f), got ${describe(text)}` }];
		}
		if (!REGISTRATION_TOKEN.test(text)) return [{ path: [], message: `expected an FCM registration token (visible ASCII characters, no spaces), got ${describe(text)}` }];
		if (text.length > FCM_TOKEN_MAX) return [{ path: [], message: `expected an FCM registration token of at most ${FCM_TOKEN_MAX} characters, got ${describe(text)}` }];
		return { token: text, kind: 'registration-token', data: null };
	},
	// A registration token replaced by the device's installation id was not dead (no tombstone): the changelog says why.
	supersedeReason: (previous, next) => (previous === 'registration-token' && next === 'fid' ? 'the device moved from its FCM registration token to its Firebase Installation ID' : null),
	maxTokenLength: FCM_TOKEN_MAX,
	options: FcmOptions,
	payloadLimit: FCM_PAYLOAD_LIMIT,
	payloadBytes: (message) => Buffer.byteLength(JSON.stringify(fcmMessage(message))),
	answers: fcmAnswers,
	// HTTP/2 streams: many in flight on few connections.
	chunkSize: 500,
	config: FcmConfig,
	credential: { name: 'fcmServiceAccountApi', config: credentialConfig },
	async verify(config) {
		const transport = new FcmTransport(config);
		try {
			await transport.accessToken();
		} finally {
			await transport.close();
		}
	},
	panel: fcmPanel,
	transport: (config, network) => new FcmTransport(config, network),
} satisfies ProviderModule<'fcm', typeof FcmOptions, typeof FcmConfig>;

export { FcmConfig, serviceAccountConfig } from './config';
export { fcmData, fcmMessage } from './payload';
export { FcmTransport } from './transport';
