/**
 * The three transports behind one interface (gorush's shape): each takes devices and a message,
 * sends through the provider's real library, and answers one Delivery per device — the outcome
 * from the provider's table, never an exception per device.
 *   FCM       firebase-admin sendEach, 500 messages per call (its HTTP/2 transport)
 *   APNs      apns2 over HTTP/2, one client per environment, JWT signed from the .p8 key
 *   Web Push  web-push (VAPID, aes128gcm), with private and loopback endpoints refused (SSRF)
 */
import { createECDH, createHash, createPrivateKey, sign } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { ApnsClient, Host, Notification, type ApnsError } from 'apns2';
import { deleteApp, initializeApp, type App } from 'firebase-admin/app';
import { getMessaging } from 'firebase-admin/messaging';
import webpush from 'web-push';
import { z } from 'zod/v4';
import { ValidationError } from '../errors';
import type { DeviceView, Outcome, Provider } from '../model';
import { apnsPayload, fcmMessage, webPushBody, type PushMessage } from '../payload/message';
import { classifyAnswer } from './outcomes';

export interface Delivery {
	outcome: Outcome;
	reason: string;
	statusCode?: number;
	retryAfterSeconds?: number;
	messageId?: string;
}

export interface Transport {
	readonly provider: Provider;
	send(devices: DeviceView[], message: PushMessage): Promise<Delivery[]>;
	close(): Promise<void>;
}

export const FcmConfig = z.object({
	projectId: z.string().min(1, 'expected the project_id of the service account'),
	tokenUri: z.string().startsWith('https://', 'expected the token_uri as an https:// URL').default('https://oauth2.googleapis.com/token'),
	clientEmail: z.string().min(1, 'expected the client_email of the service account'),
	privateKey: z.string().includes('PRIVATE KEY', { message: 'expected the private_key (PEM) of the service account' }),
});
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
export const WebPushConfig = z.object({
	subject: z.string().regex(/^(mailto:|https:\/\/)/, 'expected the VAPID subject as a mailto: or https:// URL'),
	publicKey: z.string().min(1, 'expected the VAPID public key'),
	privateKey: z.string().min(1, 'expected the VAPID private key'),
	/** Hosts (name or IP, optionally :port) that may be private or loopback: test servers, internal push services. */
	allowedPrivateHosts: z.array(z.string()).default([]),
	timeoutMs: z.number().int().min(1).default(10_000),
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
	// An answer no table knows is treated as transient: never remove a token on a guess.
	return { outcome: outcome ?? 'retry', reason, statusCode, retryAfterSeconds: retry };
}

/** A network failure (reset, GOAWAY, timeout): transient. */
function networkFailure(error: unknown): Delivery {
	const e = error as { code?: string; message?: string };
	return { outcome: 'retry', reason: `network: ${e.code ?? ''} ${e.message ?? String(error)}`.trim() };
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

export class FcmTransport implements Transport {
	readonly provider = 'fcm';
	private readonly app: App;

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

	async send(devices: DeviceView[], message: PushMessage): Promise<Delivery[]> {
		const base = fcmMessage(message);
		const out: Delivery[] = [];
		for (let i = 0; i < devices.length; i += 500) {
			const chunk = devices.slice(i, i + 500);
			try {
				const batch = await getMessaging(this.app).sendEach(chunk.map((d) => ({ ...base, token: d.token })));
				for (const r of batch.responses) {
					if (r.success) out.push({ outcome: 'delivered', reason: 'accepted', messageId: r.messageId });
					else {
						const err = r.error as unknown as { code?: string; message?: string; httpResponse?: { status?: number; headers?: Record<string, string> } };
						out.push(classified('fcm', err?.code, err?.httpResponse?.status, err?.message, retryAfter(err?.httpResponse?.headers?.['retry-after'])));
					}
				}
			} catch (error) {
				const e = error as { code?: string; message?: string };
				const failure = e.code?.startsWith('app/') || e.code?.startsWith('messaging/') ? classified('fcm', e.code, undefined, e.message) : networkFailure(error);
				for (let k = 0; k < chunk.length; k++) out.push(failure);
			}
		}
		return out;
	}

	close(): Promise<void> {
		return deleteApp(this.app);
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
			client = new ApnsClient({
				team: this.config.teamId,
				keyId: this.config.keyId,
				signingKey: this.config.signingKey,
				defaultTopic: this.config.bundleId,
				host: environment === 'sandbox' ? Host.development : Host.production,
			});
			withRequestTimeout(client, this.config.requestTimeoutMs);
			client.on('error', () => undefined); // errors are answered per notification below
			this.clients.set(environment, client);
		}
		return client;
	}

	async send(devices: DeviceView[], message: PushMessage): Promise<Delivery[]> {
		const built = apnsPayload(message);
		const { aps, ...data } = built.payload;
		return Promise.all(
			devices.map(async (device) => {
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

/**
 * apns2 12 sends through an undici Pool and ignores its own `requestTimeout` option: a silent
 * APNs would hold a push for undici's default 300 s. The pool's requests get our timeout instead
 * (undici then cancels the HTTP/2 stream with RST_STREAM and the push is retried as transient).
 */
function withRequestTimeout(client: ApnsClient, timeoutMs: number): void {
	const pool = (client as unknown as { client?: { request?: (options: object) => Promise<unknown> } }).client;
	if (!pool || typeof pool.request !== 'function') throw new Error('apns2: its HTTP client is not where this package expects it (check the apns2 version)');
	const request = pool.request.bind(pool);
	pool.request = (options: object) => request({ ...options, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
}

const PRIVATE_V4 = [/^10\./, /^127\./, /^169\.254\./, /^172\.(1[6-9]|2\d|3[01])\./, /^192\.168\./, /^0\./, /^100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\./];
export function isPrivateAddress(address: string): boolean {
	// IPv6 in its one canonical form (0:0:0:0:0:0:0:1 is ::1), and IPv4-mapped addresses as the
	// IPv4 they lead to, whether written ::ffff:127.0.0.1 or, as URL parsing writes it, ::ffff:7f00:1.
	const v6 = isIP(address) === 6 ? new URL(`http://[${address}]`).hostname.slice(1, -1) : address.toLowerCase();
	const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v6);
	const v4 = hex ? [parseInt(hex[1], 16) >> 8, parseInt(hex[1], 16) & 255, parseInt(hex[2], 16) >> 8, parseInt(hex[2], 16) & 255].join('.') : v6.startsWith('::ffff:') ? v6.slice(7) : v6;
	if (isIP(v4) === 4) return PRIVATE_V4.some((r) => r.test(v4));
	return v6 === '::1' || v6 === '::' || v6.startsWith('fe8') || v6.startsWith('fe9') || v6.startsWith('fea') || v6.startsWith('feb') || v6.startsWith('fc') || v6.startsWith('fd');
}

export class WebPushTransport implements Transport {
	readonly provider = 'webpush';
	private readonly config: z.output<typeof WebPushConfig>;

	constructor(config: z.input<typeof WebPushConfig>) {
		this.config = WebPushConfig.parse(config);
	}

	/** Throws unless the private key is the one of the public key (both base64url, P-256). */
	static checkKeys(publicKey: string, privateKey: string): void {
		const ecdh = createECDH('prime256v1');
		try {
			ecdh.setPrivateKey(Buffer.from(privateKey, 'base64url'));
		} catch {
			throw new Error('Private Key: expected a base64url VAPID private key');
		}
		if (ecdh.getPublicKey('base64url') !== publicKey) throw new Error('Public Key: does not match the private key');
	}

	/** Null when the endpoint may be posted to; otherwise why not. */
	async refuse(endpoint: string): Promise<string | null> {
		const url = new URL(endpoint);
		if (url.protocol !== 'https:') return `endpoint ${url.origin} is not https`;
		const allowed = this.config.allowedPrivateHosts;
		if (allowed.includes(url.host) || allowed.includes(url.hostname)) return null;
		const host = url.hostname.replace(/^\[|\]$/g, '');
		const addresses = isIP(host) ? [host] : (await lookup(host, { all: true }).catch(() => [])).map((a) => a.address);
		if (addresses.length === 0) return `endpoint host ${url.hostname} does not resolve`;
		const bad = addresses.find(isPrivateAddress);
		return bad ? `endpoint host ${url.hostname} is a private, loopback or link-local address (${bad}); allow it in the credential to send there` : null;
	}

	async send(devices: DeviceView[], message: PushMessage): Promise<Delivery[]> {
		const body = webPushBody(message);
		const options = {
			vapidDetails: { subject: this.config.subject, publicKey: this.config.publicKey, privateKey: this.config.privateKey },
			TTL: message.webpush.ttlSeconds ?? 2_419_200,
			urgency: message.webpush.urgency ?? (message.silent ? 'low' : 'normal'),
			topic: message.webpush.topic,
			timeout: this.config.timeoutMs,
			contentEncoding: 'aes128gcm' as const,
		};
		return Promise.all(
			devices.map(async (device): Promise<Delivery> => {
				const refused = await this.refuse(device.token);
				if (refused) return { outcome: 'config-error', reason: refused };
				if (!device.webPushKeys) return { outcome: 'invalid-token', reason: 'the subscription has no keys' };
				try {
					const res = await webpush.sendNotification({ endpoint: device.token, keys: device.webPushKeys }, body, options);
					return { outcome: 'delivered', reason: 'accepted', statusCode: res.statusCode };
				} catch (error) {
					const e = error as { statusCode?: number; headers?: Record<string, string>; body?: string };
					if (typeof e.statusCode === 'number') return classified('webpush', undefined, e.statusCode, e.body, retryAfter(e.headers?.['retry-after']));
					return networkFailure(error);
				}
			}),
		);
	}

	async close(): Promise<void> {}
}
