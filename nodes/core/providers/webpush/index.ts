/** Web Push (RFC 8030, VAPID, aes128gcm): a browser's subscription, stored by its endpoint, its keys `{ p256dh, auth }` the device's data. */
import type { ProviderModule } from '../provider';
import { webPushPanel } from './panel';
import { webPushAnswers } from './answers';
import { checkSubject, credentialConfig, WebPushConfig } from './config';
import { declarativeIssues, WEB_PUSH_PAYLOAD_LIMIT, webPushBody, WebPushOptions } from './payload';
import { asSubscription, canonicalEndpoint, ENDPOINT_MAX, keysOf, WebPushSubscription } from './subscription';
import { WebPushTransport } from './transport';

export const webpush = {
	id: 'webpush',
	name: 'Web Push',
	platforms: ['web'],
	defaultFor: ['web'],
	tokenKinds: ['subscription'],
	canonical: (raw) => (/^https:/i.test(raw) ? canonicalEndpoint(raw) : null),
	address(token) {
		const parsed = WebPushSubscription.safeParse(asSubscription(token));
		if (!parsed.success) return parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message }));
		return { token: parsed.data.endpoint, kind: 'subscription', data: parsed.data.keys };
	},
	lookupToken(value) {
		const parsed = asSubscription(value);
		// An object is a subscription, found by its endpoint (none: null, which no lookup finds).
		return typeof parsed === 'object' && parsed !== null ? ((parsed as { endpoint?: unknown }).endpoint ?? null) : undefined;
	},
	parseData: (stored) => keysOf(stored as Record<string, unknown> | null),
	show: (data) => ({ webPushKeys: keysOf(data) }),
	maxTokenLength: ENDPOINT_MAX,
	options: WebPushOptions,
	messageIssues: declarativeIssues,
	payloadLimit: WEB_PUSH_PAYLOAD_LIMIT,
	payloadBytes: (message) => Buffer.byteLength(webPushBody(message)),
	answers: webPushAnswers,
	// One HTTPS request (and an ECDH) each.
	chunkSize: 50,
	config: WebPushConfig,
	credential: { name: 'webPushVapidApi', config: credentialConfig },
	verify: checkSubject,
	panel: webPushPanel,
	transport: (config, network) => new WebPushTransport(config, network),
} satisfies ProviderModule<'webpush', typeof WebPushOptions, typeof WebPushConfig>;

export { WebPushConfig } from './config';
export { webPushBody } from './payload';
export { asSubscription, canonicalEndpoint, decodeBase64url, isP256PublicKey, keysOf, WebPushSubscription } from './subscription';
export { WebPushTransport } from './transport';
