/**
 * Web Push through web-push (VAPID, aes128gcm), posted by us through the guarded agent: every
 * endpoint is someone's input, so private and loopback addresses are refused at connect time (SSRF).
 */
import { request as httpsRequest } from 'node:https';
import webpush from 'web-push';
import type { z } from 'zod/v4';
import type { DeviceView } from '../../types';
import { GuardedAgent, REFUSED_ADDRESS } from '../../net/guard';
import { NoAnswer } from '../http2';
import { answered, networkFailure, perMessage, retryAfter, type Delivery, type Network, type Transport } from '../provider';
import { WebPushConfig } from './config';
import { webPushBody, type WebPushMessageInput } from './payload';
import { canonicalEndpoint, keysOf, WebPushSubscription } from './subscription';
import { webPushAnswers } from './answers';

/** The most of an error answer's body kept (an endpoint may be anyone's server). */
const MAX_ANSWER_BYTES = 64 * 1024;

export class WebPushTransport implements Transport {
	readonly provider = 'webpush';
	private readonly config: z.output<typeof WebPushConfig>;
	private readonly agent: GuardedAgent;

	constructor(config: z.input<typeof WebPushConfig>, network: Network = {}) {
		this.config = WebPushConfig.parse(config);
		this.agent = new GuardedAgent({ allowedHosts: this.config.allowedPrivateHosts, resolve: network.resolve, env: network.env });
	}

	async send(devices: DeviceView[], messages: readonly WebPushMessageInput[]): Promise<Delivery[]> {
		const prepared = perMessage((message: WebPushMessageInput) => ({
			body: webPushBody(message),
			options: {
				vapidDetails: { subject: this.config.subject, publicKey: this.config.publicKey, privateKey: this.config.privateKey },
				TTL: message.webpush.ttlSeconds ?? 2_419_200,
				urgency: message.webpush.urgency ?? (message.silent ? 'low' : 'normal'),
				topic: message.webpush.topic,
				contentEncoding: 'aes128gcm' as const,
			},
		}));
		return Promise.all(
			devices.map((device, i): Promise<Delivery> | Delivery => {
				const { body, options } = prepared(messages[i]);
				const endpoint = canonicalEndpoint(device.token);
				if (!endpoint) return { outcome: 'invalid-token', reason: 'the subscription endpoint is not an https:// URL without credentials, spaces or control characters' };
				const subscription = { endpoint, keys: keysOf(device.data) ?? { p256dh: '', auth: '' } };
				let request: webpush.RequestDetails;
				try {
					// Signing and encrypting happen here, before anything leaves: a failure is certainly not sent.
					request = webpush.generateRequestDetails(subscription, body, options);
				} catch (error) {
					const reason = `not sent: ${(error as Error).message}`;
					return WebPushSubscription.shape.keys.safeParse(subscription.keys).success ? { outcome: 'config-error', reason } : { outcome: 'invalid-token', reason: `the subscription keys are invalid (${reason})` };
				}
				return this.post(endpoint, request);
			}),
		);
	}

	/** One request through the guarded agent; a failure before the TLS handshake completed was certainly not sent. */
	private post(endpoint: string, request: webpush.RequestDetails): Promise<Delivery> {
		const url = new URL(endpoint);
		return new Promise((resolve) => {
			let sent = false;
			const req = httpsRequest({ hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || 443, path: url.pathname + url.search, method: request.method, headers: request.headers, agent: this.agent }, (res) => {
				const chunks: Buffer[] = [];
				let bytes = 0;
				res.on('data', (chunk: Buffer) => {
					if (bytes < MAX_ANSWER_BYTES) chunks.push(chunk);
					bytes += chunk.length;
				});
				res.on('end', () => {
					clearTimeout(deadline);
					const status = res.statusCode ?? 0;
					if (status >= 200 && status < 300) return resolve({ outcome: 'delivered', reason: 'accepted', statusCode: status });
					const text = Buffer.concat(chunks).toString('utf8').slice(0, MAX_ANSWER_BYTES);
					const delivery = answered('webpush', webPushAnswers, undefined, status, text, retryAfter(res.headers['retry-after']));
					// (413 is our payload's size, checked before sending: the credential's side, not the endpoint's)
					resolve(delivery.outcome === 'config-error' && status !== 413 ? { ...delivery, reason: `${delivery.reason} from ${url.host}`, endpointRefused: true } : delivery);
				});
			});
			// The whole exchange, not only an idle socket: a server that trickles bytes does not hold a campaign.
			const deadline = setTimeout(() => req.destroy(Object.assign(new Error(`no answer within ${this.config.timeoutMs} ms`), { code: 'ETIMEDOUT' })), this.config.timeoutMs);
			req.on('socket', (socket) => {
				if (req.reusedSocket) sent = true;
				else socket.once('secureConnect', () => (sent = true));
			});
			req.on('error', (error: NodeJS.ErrnoException) => {
				clearTimeout(deadline);
				if (error.code === REFUSED_ADDRESS) return resolve({ outcome: 'config-error', reason: error.message, endpointRefused: true });
				resolve(networkFailure(new NoAnswer(error.message, sent, error.code)));
			});
			req.end(request.body ?? undefined);
		});
	}

	async close(): Promise<void> {
		this.agent.destroy();
	}
}
