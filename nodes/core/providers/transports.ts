/**
 * The three transports behind one interface (gorush's shape): each takes devices and a message per device,
 * sends through the provider's real library, and answers one Delivery per device — the outcome
 * from the provider's table, never an exception per device.
 *   FCM       firebase-admin: its message validation, auth and error codes, one request per
 *             message (as its sendEach does) on our HTTP/2 connection, under our concurrency
 *   APNs      apns2 (JWT from the .p8 key, headers, reasons), one client per environment, its
 *             requests on our HTTP/2 connections
 *   Web Push  web-push (VAPID, aes128gcm), with private and loopback endpoints refused (SSRF)
 *
 * A request that got no answer is one of two cases, and the Delivery says which:
 *   - certainly not processed (connection refused, never sent, REFUSED_STREAM, above a GOAWAY's
 *     last stream id): outcome 'retry', the sender sends it again;
 *   - sent and the answer lost (connection reset or closed mid-request, no answer in time):
 *     `unknown: true` — the provider may have delivered it, and neither APNs nor FCM deduplicates
 *     a resent request, so it is reported failed and never sent again by this send.
 * HTTP/2 is ours (./http2) because the libraries' own clients cannot tell the two apart: undici
 * (under apns2) destroys the connection on GOAWAY, losing answers the server still sends, and
 * firebase-admin's sendEach never settles a request whose connection closes without an error
 * (the whole batch then waits forever) and itself resends requests cut off by a reset.
 */
import { createECDH, createHash, createPrivateKey, sign } from 'node:crypto';
import { constants, type ClientHttp2Stream, type OutgoingHttpHeaders } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { createRequire } from 'node:module';
import { ApnsClient, Host, Notification, type ApnsError } from 'apns2';
import { deleteApp, initializeApp, type App } from 'firebase-admin/app';
import { getMessaging } from 'firebase-admin/messaging';
import webpush from 'web-push';
import { z } from 'zod/v4';
import { ValidationError } from '../errors';
import { canonicalEndpoint, decodeBase64url, isP256PublicKey, WebPushSubscription, type DeviceView, type Outcome, type Provider } from '../model';
import { GuardedAgent, REFUSED_ADDRESS, type Resolve } from '../net/guard';
import { apnsPayload, fcmMessage, webPushBody, type PushMessage } from '../payload/message';
import { Http2Origin, NoAnswer, streamSent } from './http2';
import { classifyAnswer } from './outcomes';

export interface Delivery {
	outcome: Outcome;
	reason: string;
	statusCode?: number;
	retryAfterSeconds?: number;
	messageId?: string;
	/** The provider's own code of its answer (UNREGISTERED, Unregistered, or the HTTP status for Web Push). */
	code?: string;
	/**
	 * The request was sent and its answer lost (a connection reset or closed mid-request, no
	 * answer in time): the provider may have delivered it. Outcome 'retry' (a transient failure,
	 * no token touched) that the sender never sends again, so no device gets it twice.
	 */
	unknown?: true;
}

export interface Transport {
	readonly provider: Provider;
	/** `messages[i]` goes to `devices[i]`; a message shared by many devices is built once. */
	send(devices: DeviceView[], messages: readonly PushMessage[]): Promise<Delivery[]>;
	close(): Promise<void>;
}

/** `build` memoised per message (a campaign's one message, or each item's own). */
function perMessage<T>(build: (message: PushMessage) => T): (message: PushMessage) => T {
	const built = new Map<PushMessage, T>();
	return (message) => {
		let value = built.get(message);
		if (value === undefined) built.set(message, (value = build(message)));
		return value;
	};
}

export const FcmConfig = z.object({
	projectId: z.string().min(1, 'expected the project_id of the service account'),
	tokenUri: z.string().startsWith('https://', 'expected the token_uri as an https:// URL').default('https://oauth2.googleapis.com/token'),
	clientEmail: z.string().min(1, 'expected the client_email of the service account'),
	privateKey: z
		.string()
		.includes('PRIVATE KEY', { message: 'expected the private_key (PEM) of the service account' })
		.refine(isRsaPrivateKey, 'expected the private_key of the service account: an RSA private key in PEM, and this one cannot be read'),
});
function isRsaPrivateKey(pem: string): boolean {
	try {
		return createPrivateKey(pem).asymmetricKeyType === 'rsa';
	} catch {
		return false;
	}
}
/** The FCM config in a service account's JSON key file. */
export function serviceAccountConfig(json: string): z.input<typeof FcmConfig> {
	let account: Record<string, string>;
	try {
		account = JSON.parse(json);
	} catch {
		throw new ValidationError('FCM credential', [{ field: 'Service Account JSON', message: 'expected the JSON key file of the service account' }]);
	}
	return { projectId: account.project_id, clientEmail: account.client_email, privateKey: account.private_key, ...(account.token_uri ? { tokenUri: account.token_uri } : {}) };
}

export const ApnsConfig = z.object({
	teamId: z.string().regex(/^[A-Z0-9]{10}$/, 'expected a 10-character Apple team ID'),
	keyId: z.string().regex(/^[A-Z0-9]{10}$/, 'expected a 10-character key ID'),
	signingKey: z.string().includes('PRIVATE KEY', { message: 'expected the .p8 key (PEM text)' }),
	bundleId: z.string().min(1, 'expected the bundle ID (the APNs topic)'),
	/** The environment of tokens that do not say theirs. */
	defaultEnvironment: z.enum(['production', 'sandbox']).default('production'),
	requestTimeoutMs: z.number().int().min(1).default(10_000),
});
export const WebPushConfig = z
	.object({
		subject: z.string().regex(/^(mailto:|https:\/\/)/, 'expected the VAPID subject as a mailto: or https:// URL'),
		publicKey: z.string().refine((s) => {
			const key = decodeBase64url(s, 65);
			return key !== null && isP256PublicKey(key);
		}, 'expected the VAPID public key: base64url of an uncompressed P-256 point (65 bytes)'),
		privateKey: z.string().refine((s) => decodeBase64url(s, 32) !== null, 'expected the VAPID private key: base64url of 32 bytes'),
		/** Hosts (name or IP, optionally :port) that may be private or loopback: test servers, internal push services. */
		allowedPrivateHosts: z.array(z.string()).default([]),
		timeoutMs: z.number().int().min(1).default(10_000),
	})
	.superRefine((c, ctx) => {
		const privateKey = decodeBase64url(c.privateKey, 32);
		const publicKey = decodeBase64url(c.publicKey, 65);
		if (!privateKey || !publicKey) return;
		let derived: Buffer;
		try {
			const ecdh = createECDH('prime256v1');
			ecdh.setPrivateKey(privateKey);
			derived = ecdh.getPublicKey();
		} catch {
			return ctx.addIssue({ code: 'custom', path: ['privateKey'], message: 'expected the VAPID private key: not a valid P-256 private key' });
		}
		if (!derived.equals(publicKey)) ctx.addIssue({ code: 'custom', path: ['publicKey'], message: 'does not match the private key' });
	});

/** Seconds from a Retry-After header (seconds or an HTTP date). */
function retryAfter(value: unknown): number | undefined {
	if (value === undefined || value === null || value === '') return undefined;
	const seconds = Number(value);
	if (Number.isFinite(seconds)) return Math.max(0, seconds);
	const at = Date.parse(String(value));
	return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

function classified(provider: Provider, code: string | undefined, statusCode: number | undefined, message?: string, retry?: number): Delivery {
	const { outcome, reason } = classifyAnswer({ provider, code, statusCode, message });
	const answered = code ?? (statusCode ? String(statusCode) : undefined);
	// An answer no table knows is treated as transient: never remove a token on a guess.
	return { outcome: outcome ?? 'retry', reason, ...(answered ? { code: answered } : {}), statusCode, retryAfterSeconds: retry };
}

/** FCM v1's own code of an error answer (UNREGISTERED, QUOTA_EXCEEDED, …), which firebase-admin renames (messaging/…). */
function fcmCode(error: FcmError | undefined): string | undefined {
	const body = error?.httpResponse?.data as { error?: { status?: string; details?: Array<{ errorCode?: string }> } } | undefined;
	return body?.error?.details?.find((d) => d.errorCode)?.errorCode ?? body?.error?.status ?? error?.code;
}

/** Node errors of a request that never reached the server (no connection, no TLS): safe to send again. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT', 'ERR_TLS_CERT_ALTNAME_INVALID', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_HAS_EXPIRED']);

export const UNKNOWN_REASON = 'connection lost after the push was sent: delivery unknown, not retried so it is never pushed twice';

/**
 * A request with no answer. Certainly not processed (see NOT_SENT, NoAnswer.sent false): a
 * transient 'retry'. Otherwise — a reset, a connection closed or a timeout after the request went
 * out, or an error nobody knows — the provider may have delivered it: `unknown`, never resent.
 */
export function networkFailure(error: unknown): Delivery {
	const e = error as { code?: string; message?: string };
	const detail = `${e.code && !String(e.message).includes(e.code) ? `${e.code} ` : ''}${e.message ?? String(error)}`.trim();
	const sent = error instanceof NoAnswer ? error.sent : !(e.code && NOT_SENT.has(e.code));
	if (!sent) return { outcome: 'retry', reason: `not sent (safe to retry): ${detail}` };
	return { outcome: 'retry', unknown: true, reason: `${UNKNOWN_REASON} (${detail})` };
}

/**
 * OAuth 2.0 for a service account (the JWT-bearer grant), as firebase-admin's cert() does it,
 * over plain https: google-auth-library's fetch is loaded by a dynamic import that some hosts
 * (jest's VM, bundlers) cannot run. The token is cached until 5 minutes before it expires.
 */
class ServiceAccountToken {
	private cached?: { access_token: string; expires_in: number; until: number };

	constructor(private readonly config: z.output<typeof FcmConfig>) {}

	async getAccessToken(): Promise<{ access_token: string; expires_in: number }> {
		if (this.cached && this.cached.until > Date.now()) return this.cached;
		const iat = Math.floor(Date.now() / 1000);
		const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
		const unsigned = `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ iss: this.config.clientEmail, scope: 'https://www.googleapis.com/auth/firebase.messaging', aud: this.config.tokenUri, iat, exp: iat + 3600 })}`;
		const assertion = `${unsigned}.${sign('sha256', Buffer.from(unsigned), this.config.privateKey).toString('base64url')}`;
		const form = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString();
		const { status, body } = await new Promise<{ status: number; body: string }>((done, fail) => {
			const req = httpsRequest(this.config.tokenUri, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, timeout: 10_000 }, (res) => {
				let text = '';
				res.on('data', (c) => (text += c));
				res.on('end', () => done({ status: res.statusCode ?? 0, body: text }));
			});
			req.on('timeout', () => req.destroy(new Error('token request timed out')));
			req.on('error', fail);
			req.end(form);
		});
		const answer = JSON.parse(body || '{}') as { access_token?: string; expires_in?: number; error?: string; error_description?: string };
		if (status !== 200 || !answer.access_token) {
			throw Object.assign(new Error(`the service account was refused by ${new URL(this.config.tokenUri).host}: ${answer.error ?? status} ${answer.error_description ?? ''}`.trim()), { code: 'app/invalid-credential' });
		}
		const expiresIn = answer.expires_in ?? 3600;
		this.cached = { access_token: answer.access_token, expires_in: expiresIn, until: Date.now() + (expiresIn - 300) * 1000 };
		return this.cached;
	}
}

/** The parts of firebase-admin 14's Messaging that send one message over an HTTP/2 session we give it. */
interface MessagingInternals {
	getUrlPath(): Promise<string>;
	messagingRequestHandler: {
		http2Client: { retry: { ioErrorCodes?: string[] } | null };
		invokeHttp2RequestHandlerForSendResponse(host: string, path: string, request: object, handler: { readonly session: unknown }): Promise<{ success: boolean; messageId?: string; error?: unknown }>;
	};
}
/** The internals, with firebase-admin's own validation of a message. */
type Messaging = MessagingInternals & { validate: (message: object) => void };
type FcmError = { code?: string; message?: string; cause?: { code?: string }; httpResponse?: { status?: number; headers?: Record<string, string>; data?: unknown } };

const FCM_HOST = 'fcm.googleapis.com';
/** Messages in flight at once per transport (firebase-admin's sendEach lets 100 streams share its connection). */
const FCM_CONCURRENCY = 100;
/** Connections they are spread over: a connection lost takes only its own requests in flight with it. */
const FCM_CONNECTIONS = 4;
/** firebase-admin gives up on an answer after 15 s; past that plus a margin, we settle the message ourselves. */
const FCM_DEADLINE_MS = 20_000;

export class FcmTransport implements Transport {
	readonly provider = 'fcm';
	private readonly app: App;
	private readonly origin = new Http2Origin(`https://${FCM_HOST}`, FCM_CONNECTIONS);
	private internals?: Messaging;

	constructor(config: z.input<typeof FcmConfig>) {
		const c = FcmConfig.parse(config);
		// One firebase app per transport; the name hides the key.
		const name = `push-tokens-${createHash('sha256').update(c.clientEmail + c.privateKey).digest('hex').slice(0, 16)}-${Math.random().toString(36).slice(2)}`;
		this.app = initializeApp({ credential: new ServiceAccountToken(c), projectId: c.projectId }, name);
	}

	/** An access token for the service account (what the credential test checks). */
	async accessToken(): Promise<void> {
		await this.app.options.credential!.getAccessToken();
	}

	/**
	 * firebase-admin's own path for one message of sendEach (validation, auth, error codes), on our
	 * session, with its resending of requests cut off by a reset or a timeout turned off (it would
	 * push twice when the first one was processed); a 503 it still retries (never processed).
	 */
	private messaging(): Messaging {
		if (this.internals) return this.internals;
		const messaging = getMessaging(this.app) as unknown as Partial<MessagingInternals>;
		const handler = messaging.messagingRequestHandler;
		const internal = createRequire(require.resolve('firebase-admin'))('./messaging/messaging-internal') as { validateMessage?: (message: object) => void };
		if (typeof messaging.getUrlPath !== 'function' || typeof handler?.invokeHttp2RequestHandlerForSendResponse !== 'function' || !handler.http2Client?.retry || typeof internal.validateMessage !== 'function') {
			throw new Error('firebase-admin: its messaging internals are not where this package expects them (check the firebase-admin version)');
		}
		handler.http2Client.retry = { ...handler.http2Client.retry, ioErrorCodes: [] };
		this.internals = Object.assign(messaging as MessagingInternals, { validate: internal.validateMessage });
		return this.internals;
	}

	async send(devices: DeviceView[], messages: readonly PushMessage[]): Promise<Delivery[]> {
		const base = perMessage(fcmMessage);
		const messaging = this.messaging();
		let path: string;
		try {
			path = await messaging.getUrlPath();
		} catch (error) {
			const e = error as FcmError;
			return devices.map(() => classified('fcm', e.code, undefined, e.message));
		}
		const out = new Array<Delivery>(devices.length);
		let next = 0;
		await Promise.all(
			Array.from({ length: Math.min(FCM_CONCURRENCY, devices.length) }, async () => {
				while (next < devices.length) {
					const i = next++;
					out[i] = await this.sendOne(messaging, path, { ...base(messages[i]), token: devices[i].token });
				}
			}),
		);
		return out;
	}

	/** One message; always settles: by its answer, by its stream closing unanswered, or at the deadline. */
	private sendOne(messaging: Messaging, path: string, message: object): Promise<Delivery> {
		const copy = structuredClone(message);
		try {
			messaging.validate(copy);
		} catch (error) {
			const e = error as FcmError;
			return Promise.resolve(classified('fcm', e.code, undefined, e.message));
		}
		return this.origin.ready(FCM_DEADLINE_MS).then((ready) => new Promise<Delivery>((resolve) => {
			let stream: ClientHttp2Stream | undefined;
			let settled = false;
			const settle = (delivery: Delivery) => {
				if (settled) return;
				settled = true;
				clearTimeout(deadline);
				resolve(delivery);
			};
			const lost = (why: string, code?: string) => {
				const s = stream;
				if (s && !s.destroyed) s.close();
				settle(networkFailure(new NoAnswer(why, streamSent(s, { code }), code)));
			};
			const deadline = setTimeout(() => lost(`no answer within ${FCM_DEADLINE_MS} ms`, stream?.pending ? 'ERR_HTTP2_STREAM_CANCEL' : 'ETIMEDOUT'), FCM_DEADLINE_MS);
			const origin = this.origin;
			const session = {
				request(headers: OutgoingHttpHeaders) {
					const s = origin.open(headers, ready);
					stream = s;
					let answered = false;
					s.once('response', () => (answered = true));
					// firebase-admin never settles a request whose stream closes without an error: we do.
					s.once('close', () => setTimeout(() => !answered && stream === s && lost(s.rstCode === constants.NGHTTP2_REFUSED_STREAM ? 'refused by the server (REFUSED_STREAM)' : 'the connection closed before the answer'), 50));
					return s;
				},
			};
			messaging.messagingRequestHandler.invokeHttp2RequestHandlerForSendResponse(FCM_HOST, path, { message: copy }, { session }).then(
				(r) => {
					if (r.success) return settle({ outcome: 'delivered', reason: 'accepted', messageId: r.messageId });
					const err = r.error as FcmError;
					settle(classified('fcm', fcmCode(err), err?.httpResponse?.status, err?.message, retryAfter(err?.httpResponse?.headers?.['retry-after'])));
				},
				(error) => {
					const e = error as FcmError;
					if (e.code === 'app/network-error' || e.code === 'app/network-timeout') return lost(e.message ?? e.code, e.cause?.code);
					if (e.code?.startsWith('app/') || e.code?.startsWith('messaging/')) return settle(classified('fcm', e.code, undefined, e.message));
					settle(networkFailure(stream ? new NoAnswer(e.message ?? String(error), streamSent(stream, e), e.code) : error));
				},
			);
		}), networkFailure);
	}

	async close(): Promise<void> {
		await this.origin.close();
		await deleteApp(this.app);
	}
}

export class ApnsTransport implements Transport {
	readonly provider = 'apns';
	private readonly config: z.output<typeof ApnsConfig>;
	private readonly clients = new Map<'production' | 'sandbox', ApnsClient>();

	constructor(config: z.input<typeof ApnsConfig>) {
		this.config = ApnsConfig.parse(config);
	}

	/** Throws unless the key is an EC P-256 private key (what APNs signs with). */
	static checkKey(pem: string): void {
		const key = createPrivateKey(pem);
		if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error('Signing Key: expected the EC P-256 key of a .p8 file');
	}

	private client(environment: 'production' | 'sandbox'): ApnsClient {
		let client = this.clients.get(environment);
		if (!client) {
			const host = environment === 'sandbox' ? Host.development : Host.production;
			client = new ApnsClient({ team: this.config.teamId, keyId: this.config.keyId, signingKey: this.config.signingKey, defaultTopic: this.config.bundleId, host, keepAlive: false });
			onOurConnections(client, new Http2Origin(`https://${host}:443`, APNS_CONNECTIONS), this.config.requestTimeoutMs);
			client.on('error', () => undefined); // errors are answered per notification below
			this.clients.set(environment, client);
		}
		return client;
	}

	async send(devices: DeviceView[], messages: readonly PushMessage[]): Promise<Delivery[]> {
		const payload = perMessage((message) => {
			const built = apnsPayload(message);
			const { aps, ...data } = built.payload;
			return { ...built, aps, data };
		});
		return Promise.all(
			devices.map(async (device, i) => {
				const built = payload(messages[i]);
				const { aps, data } = built;
				const notification = new Notification(device.token, {
					aps,
					data,
					type: built.pushType,
					priority: built.priority,
					collapseId: built.collapseId,
					expiration: built.expiration,
				});
				const client = this.client(device.environment ?? this.config.defaultEnvironment);
				try {
					await client.send(notification);
					return { outcome: 'delivered' as const, reason: 'accepted', statusCode: 200 };
				} catch (error) {
					const apnsError = error as ApnsError;
					if (typeof apnsError.statusCode === 'number') return classified('apns', apnsError.reason, apnsError.statusCode);
					return networkFailure(error);
				}
			}),
		);
	}

	async close(): Promise<void> {
		await Promise.all([...this.clients.values()].map((c) => c.close()));
		this.clients.clear();
	}
}

/** HTTP/2 connections per APNs environment: a connection lost takes only its own requests in flight with it. */
const APNS_CONNECTIONS = 4;

/**
 * apns2 12 sends through an undici Pool, which destroys its connection on GOAWAY (the answers the
 * server still sends for the streams below its last stream id are lost) and ignores apns2's own
 * `requestTimeout`. Its requests go to our HTTP/2 connections instead (./http2), each with our
 * timeout; apns2 keeps building, signing and reading them.
 */
function onOurConnections(client: ApnsClient, origin: Http2Origin, timeoutMs: number): void {
	const holder = client as unknown as { client?: { request?: unknown; close?: () => Promise<void> } };
	if (!holder.client || typeof holder.client.request !== 'function') throw new Error('apns2: its HTTP client is not where this package expects it (check the apns2 version)');
	void holder.client.close?.().catch(() => undefined); // undici's pool, never used
	holder.client = {
		async request(options: { path: string; method: string; headers: Record<string, string>; body?: string }) {
			const answer = await origin.request({ ':method': options.method, ':path': options.path, ...options.headers }, options.body, timeoutMs);
			const text = answer.body.toString('utf8');
			return { statusCode: answer.status, headers: answer.headers, body: { json: async () => JSON.parse(text), text: async () => text } };
		},
		close: () => origin.close(),
		destroy: () => origin.close(),
	} as typeof holder.client;
}

/** The most of an error answer's body kept (an endpoint may be anyone's server). */
const MAX_ANSWER_BYTES = 64 * 1024;

export class WebPushTransport implements Transport {
	readonly provider = 'webpush';
	private readonly config: z.output<typeof WebPushConfig>;
	/** Every endpoint is someone's input: connections go only to public addresses, checked at connect time. */
	private readonly agent: GuardedAgent;

	constructor(config: z.input<typeof WebPushConfig>, network: { resolve?: Resolve } = {}) {
		this.config = WebPushConfig.parse(config);
		this.agent = new GuardedAgent({ allowedHosts: this.config.allowedPrivateHosts, resolve: network.resolve });
	}

	async send(devices: DeviceView[], messages: readonly PushMessage[]): Promise<Delivery[]> {
		const prepared = perMessage((message) => ({
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
				const subscription = { endpoint, keys: device.webPushKeys ?? { p256dh: '', auth: '' } };
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
					resolve(classified('webpush', undefined, status, text, retryAfter(res.headers['retry-after'])));
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
				if (error.code === REFUSED_ADDRESS) return resolve({ outcome: 'config-error', reason: error.message });
				resolve(networkFailure(new NoAnswer(error.message, sent, error.code)));
			});
			req.end(request.body ?? undefined);
		});
	}

	async close(): Promise<void> {
		this.agent.destroy();
	}
}
