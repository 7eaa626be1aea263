/**
 * Fake push providers on 127.0.0.1 that speak the real protocols:
 *   FCM      HTTP/2 + TLS: POST /v1/projects/:project/messages:send with a bearer token it issued
 *            from POST /token (a service-account JWT it verifies, RS256), FcmError bodies.
 *   APNs     HTTP/2 + TLS: POST /3/device/:token, verifies the ES256 provider JWT (team, key id)
 *            and the topic; answers apns-id or { reason }.
 *   Web Push HTTPS: verifies the VAPID JWT and decrypts the aes128gcm body (RFC 8291).
 *   Expo     HTTPS: POST /--/api/v2/push/send (tickets) and /--/api/v2/push/getReceipts, the
 *            access token checked when one is set (FakeExpo, below).
 * Each is scriptable per token and records what really arrived. Each can also inject faults at a
 * seeded rate (`faults`, below) and counts, per token, the messages it accepted (`delivered`).
 */
import { createECDH, createHash, createPublicKey, generateKeyPairSync, hkdfSync, createDecipheriv, randomBytes, randomUUID, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { constants as h2, createSecureServer, type Http2SecureServer, type Http2Session, type ServerHttp2Stream } from 'node:http2';
import type { IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

/** The test CA and server certificate (the compiled copy used by benchmarks is told where they are). */
const CERTS = process.env.PUSH_TOKENS_FAKE_CERTS ?? join(__dirname, 'certs');
const tlsOptions = () => ({ key: readFileSync(join(CERTS, 'server.key')), cert: readFileSync(join(CERTS, 'server.crt')) });

/** What a fake answers for one token. */
export type Behaviour =
	| { kind: 'ok' }
	| { kind: 'error'; status: number; code: string; message?: string; retryAfter?: number }
	| { kind: 'reset' }
	/** HTTP/2 only: a graceful GOAWAY whose last stream id is below this request, which is refused unprocessed. */
	| { kind: 'goaway' }
	| { kind: 'slow'; ms: number };

export interface Received {
	/** The address sent to (for FCM, the message's `token` or `fid`). */
	token: string;
	/** FCM: which field of the message held it. */
	target?: 'token' | 'fid';
	headers: IncomingHttpHeaders;
	body: unknown;
	/** When it arrived (epoch ms). */
	at: number;
}

/** Faults a fake injects: 429 with Retry-After, 500, 503, a reset connection, an HTTP/2 GOAWAY, an answer slower than the client waits. */
export type FaultKind = 'rate-limit' | 'server-error' | 'unavailable' | 'reset' | 'goaway' | 'slow';
export const FAULT_KINDS: FaultKind[] = ['rate-limit', 'server-error', 'unavailable', 'reset', 'goaway', 'slow'];

/**
 * Fault injection. Whether a request is faulted, and how, is a hash of (seed, token, how many
 * requests for that token came before): the same seed gives the same faults whatever order the
 * requests arrive in.
 *
 * `point: 'before'` (the default): the faulted request itself is not processed — not counted in
 * `delivered`. A 429/500/503 is an answer; a slow answer is processed only if the client still
 * waits for it. A GOAWAY is graceful, as a real HTTP/2 server sends it: its last stream id is the
 * one below the faulted request; streams up to it are still processed and answered, the faulted
 * one and every stream above are refused (REFUSED_STREAM) unprocessed — safe to retry. A reset
 * destroys the connection: the faulted request is not processed, but answers to requests of that
 * connection already processed may be lost with it — from the client's side, a request cut off by
 * a reset may or may not have been processed.
 * `point: 'after'` processes the request (counted as delivered) and then resets the connection:
 * the answer is lost, the case where a retry would reach the device twice, since neither APNs
 * (apns-id) nor FCM (message name) deduplicates a resent request.
 */
export interface FaultPlan {
	/** Share of requests faulted, 0..1. */
	rate: number;
	seed: number;
	/** Kinds drawn from, uniformly (GOAWAY becomes a reset on the HTTP/1.1 Web Push fake). */
	kinds?: FaultKind[];
	/** How long a slow answer takes (make it longer than the client's timeout). */
	slowMs?: number;
	/** Retry-After of a 429, in seconds. */
	retryAfterSeconds?: number;
	/** At most this many faults of a kind (FCM's client waits a fixed 15 s for a slow answer). */
	limits?: Partial<Record<FaultKind, number>>;
	point?: 'before' | 'after';
	/** Share of tokens the provider says are dead, every time they are sent to (410 / UNREGISTERED). */
	deadRate?: number;
}

/** Uniform in [0, 1) from a string: the fakes' seeded randomness. */
export function unitHash(text: string): number {
	return createHash('sha1').update(text).digest().readUInt32BE(0) / 2 ** 32;
}

abstract class Fake<S extends Http2SecureServer | HttpsServer> {
	readonly received: Received[] = [];
	/** Messages accepted (answered 2xx, or processed before an injected 'after' fault), per token. */
	readonly delivered = new Map<string, number>();
	/** Faults injected, per kind; `dead`: answers that a token is dead. */
	readonly injected: Record<FaultKind | 'dead', number> = { 'rate-limit': 0, 'server-error': 0, unavailable: 0, reset: 0, goaway: 0, slow: 0, dead: 0 };
	faults: FaultPlan | null = null;
	/** A provider's round trip: every request is answered this long after it arrived. */
	latencyMs = 0;
	/** The faults each token met, in order (to explain a failure). */
	readonly faultsOf = new Map<string, FaultKind[]>();
	/** Requests per token so far (the fault draw's counter). */
	private readonly requests = new Map<string, number>();
	/** Answers per token; a list is consumed one answer per request, the last one repeats. */
	private readonly script = new Map<string, Behaviour[]>();
	port = 0;
	protected abstract server: S;

	on(token: string, ...behaviours: Behaviour[]): this {
		this.script.set(token, behaviours);
		return this;
	}

	protected next(token: string): Behaviour {
		const list = this.script.get(token);
		if (!list || list.length === 0) return { kind: 'ok' };
		return list.length > 1 ? list.shift()! : list[0];
	}

	/** Whether the fault plan marks this token dead (the same answer every time). */
	isDead(token: string): boolean {
		return !!this.faults?.deadRate && unitHash(`${this.faults.seed}:dead:${token}`) < this.faults.deadRate;
	}

	/** The fault (if any) for this request, from the plan; a scripted token is never faulted. */
	protected fault(token: string): FaultKind | 'dead' | null {
		const plan = this.faults;
		if (!plan || this.script.has(token)) return null;
		if (this.isDead(token)) {
			this.injected.dead++;
			return 'dead';
		}
		const n = this.requests.get(token) ?? 0;
		this.requests.set(token, n + 1);
		if (unitHash(`${plan.seed}:${token}:${n}`) >= plan.rate) return null;
		const kinds = plan.kinds ?? FAULT_KINDS;
		const kind = kinds[Math.floor(unitHash(`${plan.seed}:kind:${token}:${n}`) * kinds.length)];
		if (plan.limits?.[kind] !== undefined && this.injected[kind] >= plan.limits[kind]!) return null;
		this.injected[kind]++;
		this.faultsOf.set(token, [...(this.faultsOf.get(token) ?? []), kind]);
		return kind;
	}

	protected roundTrip(): Promise<void> | void {
		if (this.latencyMs > 0) return new Promise((done) => setTimeout(done, this.latencyMs));
	}

	protected accept(token: string): void {
		this.delivered.set(token, (this.delivered.get(token) ?? 0) + 1);
	}

	/** Tokens the fake accepted more than once. */
	duplicates(): string[] {
		return [...this.delivered].filter(([, n]) => n > 1).map(([token]) => token);
	}

	/** The fault plan's error answer for a kind. */
	protected faultAnswer(kind: 'rate-limit' | 'server-error' | 'unavailable'): { status: number; headers: Record<string, string> } {
		if (kind === 'rate-limit') return { status: 429, headers: { 'retry-after': String(this.faults?.retryAfterSeconds ?? 1) } };
		return { status: kind === 'server-error' ? 500 : 503, headers: {} };
	}

	/** HTTP/2 connections this fake reset: nothing more on them is processed or answered. */
	protected readonly gone = new WeakSet<Http2Session>();
	/** HTTP/2 connections this fake sent GOAWAY on, with the last stream id it still processes and answers. */
	private readonly goawayLast = new WeakMap<Http2Session, number>();
	/** The highest stream id this fake answered (or began to) on each HTTP/2 connection. */
	protected readonly answered = new WeakMap<Http2Session, number>();
	/** The last-stream-id of each GOAWAY this fake sent. */
	readonly goaways: number[] = [];
	/** Streams refused (REFUSED_STREAM) unprocessed, above a GOAWAY's last-stream-id. */
	refusedStreams = 0;

	/**
	 * True when this HTTP/2 request must not be processed: its connection was reset, its stream id
	 * is above the last-stream-id of a GOAWAY this fake sent, or the client gave up on it.
	 */
	protected abandoned(stream: ServerHttp2Stream): boolean {
		if (stream.destroyed || stream.closed || !stream.session || this.gone.has(stream.session)) return true;
		const last = this.goawayLast.get(stream.session);
		return last !== undefined && (stream.id ?? 0) > last;
	}

	/**
	 * Leaves a request unprocessed and unanswered: refused (RST_STREAM REFUSED_STREAM, which tells
	 * the client it may retry) when it is above a GOAWAY's last stream id; nothing more to do when
	 * its connection was reset or the client gave up on it.
	 */
	protected refuse(stream: ServerHttp2Stream): void {
		if (stream.destroyed || stream.closed || !stream.session || this.gone.has(stream.session)) return;
		this.refusedStreams++;
		stream.close(h2.NGHTTP2_REFUSED_STREAM);
	}

	/** Notes a stream answered: a GOAWAY sent later keeps it below its last stream id. */
	protected answering(stream: ServerHttp2Stream): void {
		if (stream.session) this.answered.set(stream.session, Math.max(this.answered.get(stream.session) ?? 0, stream.id ?? 0));
	}

	/**
	 * An HTTP/2 fault on the connection, met while handling `stream` (which is not processed):
	 *   'reset'  the connection is destroyed: nothing on it is answered any more, whether processed
	 *            or not (answers already written may be lost with it — the ambiguous case);
	 *   'goaway' a graceful GOAWAY, as a real server sends it (RFC 9113 §6.8): NO_ERROR with the
	 *            last stream id below this one; streams up to it are still processed and answered,
	 *            this one and every stream above it are refused (REFUSED_STREAM) unprocessed, and
	 *            the connection is closed once the streams it still owes are answered.
	 */
	protected connectionFault(stream: ServerHttp2Stream, kind: 'reset' | 'goaway'): void {
		const session = stream.session;
		if (!session) return;
		if (kind === 'reset') {
			this.gone.add(session);
			session.destroy();
			return;
		}
		// The last stream id is the highest this fake took action on (RFC 9113 §6.8): at least the one
		// before this stream (client streams are odd: id - 2), and any later one already answered, or
		// the client would take that answer's stream for refused. A second GOAWAY never raises it.
		const first = !this.goawayLast.has(session);
		const last = first ? Math.max(0, (stream.id ?? 1) - 2, this.answered.get(session) ?? 0) : this.goawayLast.get(session)!;
		this.goawayLast.set(session, last);
		if (first) {
			this.goaways.push(last);
			session.goaway(h2.NGHTTP2_NO_ERROR, last);
		}
		this.refuse(stream);
		// Graceful: the connection closes once its open streams are done (those above `last` are
		// refused as they come). Not at once: close() makes nghttp2 send a second GOAWAY, with the
		// last stream it received, and only once the first is on the wire does it keep the lower id
		// (a client seeing the last stream id rise treats it as a protocol error).
		if (first) setTimeout(() => !session.closed && !session.destroyed && session.close(), 20).unref();
	}

	countFor(token: string): number {
		return this.received.filter((r) => r.token === token).length;
	}

	reset(): void {
		this.received.length = 0;
		this.script.clear();
		this.delivered.clear();
		this.requests.clear();
		this.faultsOf.clear();
		this.faults = null;
		this.goaways.length = 0;
		this.refusedStreams = 0;
		for (const kind of Object.keys(this.injected) as Array<keyof typeof this.injected>) this.injected[kind] = 0;
	}

	async listen(): Promise<this> {
		await new Promise<void>((done) => this.server.listen(0, '127.0.0.1', done));
		this.port = (this.server.address() as { port: number }).port;
		return this;
	}

	close(): Promise<void> {
		return new Promise((done) => {
			if ('closeAllConnections' in this.server) (this.server as HttpsServer).closeAllConnections();
			this.server.close(() => done());
			setTimeout(done, 1000).unref();
		});
	}
}

async function readBody(stream: AsyncIterable<Buffer | string>): Promise<Buffer> {
	const chunks: Buffer[] = [];
	for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
	return Buffer.concat(chunks);
}

/** Verifies a compact JWS; returns its claims and header, or throws saying why. */
export function verifyJwt(jwt: string, key: KeyObject, alg: 'RS256' | 'ES256'): { header: Record<string, unknown>; claims: Record<string, unknown> } {
	const [h, c, s] = jwt.split('.');
	if (!h || !c || !s) throw new Error('not a JWT');
	const header = JSON.parse(Buffer.from(h, 'base64url').toString());
	if (header.alg !== alg) throw new Error(`expected alg ${alg}, got ${header.alg}`);
	const ok = verify('sha256', Buffer.from(`${h}.${c}`), alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' as const } : key, Buffer.from(s, 'base64url'));
	if (!ok) throw new Error('bad signature');
	return { header, claims: JSON.parse(Buffer.from(c, 'base64url').toString()) };
}

// ---------------------------------------------------------------- FCM

export interface ServiceAccount {
	project_id: string;
	client_email: string;
	private_key: string;
}

export class FakeFcm extends Fake<Http2SecureServer> {
	readonly serviceAccount: ServiceAccount;
	private readonly publicKey: KeyObject;
	private readonly accessTokens = new Set<string>();
	tokensIssued = 0;
	protected server: Http2SecureServer;

	constructor(projectId = 'push-tokens-test') {
		super();
		const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
		this.publicKey = publicKey;
		this.serviceAccount = {
			project_id: projectId,
			client_email: `sender@${projectId}.iam.gserviceaccount.com`,
			private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
		};
		this.server = createSecureServer({ ...tlsOptions(), allowHTTP1: true }, (req, res) => {
			// req.stream: the HTTP/2 stream (firebase-admin's transport); undefined over HTTP/1.1 (the token endpoint)
			const stream = (req as { stream?: ServerHttp2Stream }).stream;
			stream?.on('error', () => undefined); // a stream this fake refused or reset
			void this.handle(req.method ?? '', req.url ?? '', req.headers, req, (status, body, headers = {}) => {
				if (stream && this.abandoned(stream)) return this.refuse(stream);
				if (res.destroyed) return;
				if (stream) this.answering(stream);
				res.writeHead(status, { 'content-type': 'application/json', ...headers });
				res.end(JSON.stringify(body));
			}, () => req.socket.destroy(), stream).catch(() => undefined); // a request cut off by a reset: nothing to answer
		});
	}

	private async handle(
		method: string,
		url: string,
		headers: IncomingHttpHeaders,
		req: Parameters<typeof readBody>[0] & { destroyed?: boolean },
		reply: (status: number, body: unknown, headers?: Record<string, string>) => void,
		reset: () => void,
		stream?: ServerHttp2Stream,
	) {
		const raw = await readBody(req);
		await this.roundTrip();
		if (stream && this.abandoned(stream)) return this.refuse(stream);
		if (method === 'POST' && url === '/token') {
			const assertion = new URLSearchParams(raw.toString()).get('assertion') ?? '';
			try {
				const { claims } = verifyJwt(assertion, this.publicKey, 'RS256');
				if (claims.iss !== this.serviceAccount.client_email) throw new Error('wrong issuer');
				const token = `ya29.fake-${randomUUID()}`;
				this.accessTokens.add(token);
				this.tokensIssued++;
				return reply(200, { access_token: token, expires_in: 3600, token_type: 'Bearer' });
			} catch (error) {
				return reply(400, { error: 'invalid_grant', error_description: (error as Error).message });
			}
		}
		const match = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(url);
		if (method !== 'POST' || !match) return reply(404, { error: { code: 404, message: 'Not found', status: 'NOT_FOUND' } });
		const bearer = String(headers.authorization ?? '').replace(/^Bearer /, '');
		if (!this.accessTokens.has(bearer)) return reply(401, fcmError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.'));
		if (match[1] !== this.serviceAccount.project_id) return reply(403, fcmError(403, 'PERMISSION_DENIED', 'SenderId mismatch', 'SENDER_ID_MISMATCH'));
		const body = JSON.parse(raw.toString()) as { message: { token?: unknown; fid?: unknown; topic?: unknown; condition?: unknown } };
		// As FCM v1: exactly one target; an installation id (fid) is 22 characters of base64url.
		const targets = (['token', 'fid', 'topic', 'condition'] as const).filter((t) => body.message?.[t] !== undefined);
		if (targets.length !== 1) return reply(400, fcmError(400, 'INVALID_ARGUMENT', `Invalid value at 'message' (oneof field 'target' is already set. Cannot set '${targets[1] ?? 'target'}')`));
		const target = targets[0];
		if (target !== 'token' && target !== 'fid') return reply(400, fcmError(400, 'INVALID_ARGUMENT', `${target} messages are not served by this fake`));
		const token = String(body.message[target]);
		if (target === 'fid' && !/^[c-f][A-Za-z0-9_-]{21}$/.test(token)) return reply(400, fcmError(400, 'INVALID_ARGUMENT', 'The installation ID is not a valid FID'));
		this.received.push({ token, target, headers, body, at: Date.now() });
		const ok = () => {
			if (stream && this.abandoned(stream)) return this.refuse(stream); // (a GOAWAY came meanwhile: above its last stream id, not processed)
			this.accept(token);
			return reply(200, { name: `projects/${match[1]}/messages/${randomUUID()}` });
		};
		const fault = this.fault(token);
		if (fault === 'dead') return reply(404, fcmError(404, 'NOT_FOUND', 'Requested entity was not found.', 'UNREGISTERED'));
		if (fault && this.faults?.point === 'after') {
			this.accept(token);
			return stream ? this.connectionFault(stream, 'reset') : reset();
		}
		if (fault === 'reset' || fault === 'goaway') return stream ? this.connectionFault(stream, fault) : reset();
		if (fault === 'slow') {
			await new Promise((done) => setTimeout(done, this.faults?.slowMs ?? 20_000));
			if (stream ? this.abandoned(stream) : req.destroyed) return stream && this.refuse(stream); // the client gave up, or a GOAWAY came: not processed
			return ok();
		}
		if (fault) {
			const { status, headers: extra } = this.faultAnswer(fault);
			const code = { 429: 'QUOTA_EXCEEDED', 500: 'INTERNAL', 503: 'UNAVAILABLE' }[status]!;
			return reply(status, fcmError(status, STATUS_NAME[status] ?? 'INTERNAL', `injected ${fault}`, code), extra);
		}
		const behaviour = this.next(token);
		if (behaviour.kind === 'reset' || behaviour.kind === 'goaway') return stream ? this.connectionFault(stream, behaviour.kind) : reset();
		if (behaviour.kind === 'slow') await new Promise((done) => setTimeout(done, behaviour.ms));
		if (behaviour.kind === 'error') {
			const status = STATUS_OF_FCM[behaviour.code] ?? behaviour.status;
			return reply(status, fcmError(status, STATUS_NAME[status] ?? 'INTERNAL', behaviour.message ?? behaviour.code, behaviour.code), behaviour.retryAfter ? { 'retry-after': String(behaviour.retryAfter) } : {});
		}
		return ok();
	}
}

const STATUS_OF_FCM: Record<string, number> = { UNREGISTERED: 404, INVALID_ARGUMENT: 400, SENDER_ID_MISMATCH: 403, QUOTA_EXCEEDED: 429, UNAVAILABLE: 503, INTERNAL: 500, THIRD_PARTY_AUTH_ERROR: 401 };
const STATUS_NAME: Record<number, string> = { 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL', 503: 'UNAVAILABLE' };

function fcmError(code: number, status: string, message: string, errorCode?: string) {
	return {
		error: {
			code,
			message,
			status,
			...(errorCode ? { details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }] } : {}),
		},
	};
}

// ---------------------------------------------------------------- APNs

export class FakeApns extends Fake<Http2SecureServer> {
	readonly teamId = 'TEAM123456';
	readonly keyId = 'KEY1234567';
	readonly bundleId = 'com.example.app';
	readonly signingKey: string;
	/** Verifying keys by key id, and the environment each signs for (Apple's keys may be limited to one). */
	private readonly keys = new Map<string, { publicKey: KeyObject; environment: 'all' | 'production' | 'sandbox' }>();
	/** JWTs seen (the provider token is re-signed after ExpiredProviderToken). */
	readonly jwts = new Set<string>();
	/** Provider tokens declared expired: a request carrying one is answered 403 ExpiredProviderToken, unprocessed. */
	readonly expiredJwts = new Set<string>();
	/** Declare the provider token in use expired once this many pushes were accepted (null: never). */
	expireProviderTokenAfter: number | null = null;
	private acceptedTotal = 0;

	override reset(): void {
		super.reset();
		this.expiredJwts.clear();
		this.expireProviderTokenAfter = null;
		this.acceptedTotal = 0;
	}
	protected server: Http2SecureServer;

	/** A key of the team limited to one environment (or not): its PEM, to put in a credential. */
	addKey(keyId: string, environment: 'all' | 'production' | 'sandbox'): string {
		const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
		this.keys.set(keyId, { publicKey, environment });
		return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
	}

	constructor() {
		super();
		this.signingKey = this.addKey(this.keyId, 'all');
		this.server = createSecureServer(tlsOptions());
		this.server.on('stream', (stream, headers) => {
			stream.on('error', () => undefined); // a stream this fake refused or reset
			void (async () => {
				const raw = await readBody(stream);
				await this.roundTrip();
				if (this.abandoned(stream)) return this.refuse(stream);
				const reply = (status: number, body?: unknown, extra: Record<string, string> = {}) => {
					if (this.abandoned(stream)) return this.refuse(stream);
					this.answering(stream);
					stream.respond({ ':status': status, 'apns-id': randomUUID(), ...(body ? { 'content-type': 'application/json' } : {}), ...extra });
					stream.end(body ? JSON.stringify(body) : undefined);
				};
				const match = /^\/3\/device\/([0-9a-fA-F]+)$/.exec(String(headers[':path']));
				if (headers[':method'] !== 'POST' || !match) return reply(405, { reason: 'MethodNotAllowed' });
				const jwt = String(headers.authorization ?? '').replace(/^bearer /i, '');
				const environment = String(headers[':authority']).includes('sandbox') ? 'sandbox' : 'production';
				try {
					const kid = JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString()).kid as string;
					const key = this.keys.get(kid);
					if (!key || (key.environment !== 'all' && key.environment !== environment)) return reply(403, { reason: 'InvalidProviderToken' });
					const { claims } = verifyJwt(jwt, key.publicKey, 'ES256');
					if (claims.iss !== this.teamId) return reply(403, { reason: 'InvalidProviderToken' });
				} catch {
					return reply(403, { reason: 'InvalidProviderToken' });
				}
				this.jwts.add(jwt);
				if (this.expiredJwts.has(jwt)) return reply(403, { reason: 'ExpiredProviderToken' });
				if (headers['apns-topic'] !== this.bundleId) return reply(400, { reason: 'DeviceTokenNotForTopic' });
				const token = match[1];
				this.received.push({ token, headers: headers as IncomingHttpHeaders, body: JSON.parse(raw.toString()), at: Date.now() });
				const ok = () => {
					if (this.abandoned(stream)) return this.refuse(stream); // (a GOAWAY came meanwhile: above its last stream id, not processed)
					this.accept(token);
					if (this.expireProviderTokenAfter !== null && ++this.acceptedTotal >= this.expireProviderTokenAfter) {
						this.expiredJwts.add(jwt);
						this.expireProviderTokenAfter = null;
					}
					return reply(200);
				};
				const fault = this.fault(token);
				if (fault === 'dead') return reply(410, { reason: 'Unregistered', timestamp: Date.now() });
				if (fault && this.faults?.point === 'after') {
					this.accept(token);
					return this.connectionFault(stream, 'reset');
				}
				if (fault === 'reset' || fault === 'goaway') return this.connectionFault(stream, fault);
				if (fault === 'slow') {
					await new Promise((done) => setTimeout(done, this.faults?.slowMs ?? 20_000));
					if (this.abandoned(stream)) return this.refuse(stream); // the client gave up, or a GOAWAY came: not processed
					return ok();
				}
				if (fault) {
					const { status, headers: extra } = this.faultAnswer(fault);
					return reply(status, { reason: { 429: 'TooManyRequests', 500: 'InternalServerError', 503: 'ServiceUnavailable' }[status]! }, extra);
				}
				const behaviour = this.next(token);
				if (behaviour.kind === 'reset' || behaviour.kind === 'goaway') return this.connectionFault(stream, behaviour.kind);
				if (behaviour.kind === 'slow') await new Promise((done) => setTimeout(done, behaviour.ms));
				if (behaviour.kind === 'error') {
					return reply(behaviour.status, { reason: behaviour.code, ...(behaviour.status === 410 ? { timestamp: Date.now() } : {}) }, behaviour.retryAfter ? { 'retry-after': String(behaviour.retryAfter) } : {});
				}
				return ok();
			})().catch(() => undefined); // a request cut off by a reset: nothing to answer
		});
	}
}

// ---------------------------------------------------------------- Web Push

export interface FakeSubscription {
	endpoint: string;
	keys: { p256dh: string; auth: string };
}

export class FakeWebPush extends Fake<HttpsServer> {
	/** Decrypted payloads per subscription id. */
	readonly host = 'webpush.fake.test';
	private readonly subscriptions = new Map<string, { ecdh: ReturnType<typeof createECDH>; auth: Buffer; publicKey: Buffer }>();
	vapidPublicKey = '';
	protected server: HttpsServer;

	constructor() {
		super();
		this.server = createHttpsServer(tlsOptions(), (req, res) => {
			void (async () => {
				const raw = await readBody(req);
				await this.roundTrip();
				const reply = (status: number, body = '', headers: Record<string, string> = {}) => {
					if (res.destroyed || req.socket.destroyed || req.socket.readableEnded) return;
					res.writeHead(status, headers);
					res.end(body);
				};
				const id = /^\/push\/([\w-]+)$/.exec(req.url ?? '')?.[1];
				const subscription = id ? this.subscriptions.get(id) : undefined;
				if (!id || !subscription) return reply(404, 'no such subscription');
				// VAPID (RFC 8292): Authorization: vapid t=<JWT>, k=<public key>
				const vapid = /^vapid t=([^,]+),\s*k=(.+)$/.exec(String(req.headers.authorization ?? ''));
				try {
					if (!vapid) throw new Error('no vapid');
					if (this.vapidPublicKey && vapid[2] !== this.vapidPublicKey) throw new Error('unexpected VAPID key');
					const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: Buffer.from(vapid[2], 'base64url').subarray(1, 33).toString('base64url'), y: Buffer.from(vapid[2], 'base64url').subarray(33, 65).toString('base64url') }, format: 'jwk' });
					const { claims } = verifyJwt(vapid[1], key, 'ES256');
					if (claims.aud !== `https://${this.host}`) throw new Error(`audience ${claims.aud}`);
				} catch (error) {
					return reply(403, `bad VAPID: ${(error as Error).message}`);
				}
				let body: unknown;
				try {
					body = JSON.parse(decryptAes128gcm(raw, subscription.ecdh, subscription.publicKey, subscription.auth).toString('utf8'));
				} catch (error) {
					return reply(400, `cannot decrypt: ${(error as Error).message}`);
				}
				const token = this.endpoint(id);
				this.received.push({ token, headers: req.headers, body, at: Date.now() });
				const ok = () => {
					this.accept(token);
					return reply(201, '', { location: `https://${this.host}/message/${randomUUID()}` });
				};
				const fault = this.fault(token);
				if (fault === 'dead') return reply(410, 'push subscription has unsubscribed or expired');
				if (fault && this.faults?.point === 'after') {
					this.accept(token);
					return req.socket.destroy();
				}
				if (fault === 'reset' || fault === 'goaway') return req.socket.destroy(); // no GOAWAY in HTTP/1.1: a reset
				if (fault === 'slow') {
					await new Promise((done) => setTimeout(done, this.faults?.slowMs ?? 20_000));
					if (res.destroyed || req.socket.destroyed || req.socket.readableEnded) return; // the client gave up: not processed
					return ok();
				}
				if (fault) {
					const { status, headers: extra } = this.faultAnswer(fault);
					return reply(status, `injected ${fault}`, extra);
				}
				const behaviour = this.next(token);
				if (behaviour.kind === 'reset' || behaviour.kind === 'goaway') return req.socket.destroy();
				if (behaviour.kind === 'slow') await new Promise((done) => setTimeout(done, behaviour.ms));
				if (behaviour.kind === 'error') return reply(behaviour.status, behaviour.code, behaviour.retryAfter ? { 'retry-after': String(behaviour.retryAfter) } : {});
				return ok();
			})().catch(() => undefined); // a request cut off by a reset: nothing to answer
		});
	}

	endpoint(id: string): string {
		return `https://${this.host}/push/${id}`;
	}

	/** A new browser subscription: its keys are the fake's, so it can decrypt what is sent to it (`secret`: a key pair and auth secret of its own, base64url, as a stored store's). */
	subscribe(id: string = randomUUID(), secret?: { privateKey: string; auth: string }): FakeSubscription {
		const ecdh = createECDH('prime256v1');
		if (secret) ecdh.setPrivateKey(Buffer.from(secret.privateKey, 'base64url'));
		const publicKey = secret ? ecdh.getPublicKey() : ecdh.generateKeys();
		const auth = secret ? Buffer.from(secret.auth, 'base64url') : randomBytes(16);
		this.subscriptions.set(id, { ecdh, auth, publicKey });
		return { endpoint: this.endpoint(id), keys: { p256dh: publicKey.toString('base64url'), auth: auth.toString('base64url') } };
	}
}

/** RFC 8291 / RFC 8188: one aes128gcm record, as web-push sends it. */
function decryptAes128gcm(body: Buffer, ecdh: ReturnType<typeof createECDH>, uaPublic: Buffer, auth: Buffer): Buffer {
	const salt = body.subarray(0, 16);
	const idlen = body[20];
	const asPublic = body.subarray(21, 21 + idlen);
	const ciphertext = body.subarray(21 + idlen);
	const secret = ecdh.computeSecret(asPublic);
	const ikm = Buffer.from(hkdfSync('sha256', secret, auth, Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, asPublic]), 32));
	const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
	const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
	const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
	decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
	const plain = Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - 16)), decipher.final()]);
	const end = plain.lastIndexOf(2); // padding delimiter of the last record
	return plain.subarray(0, end);
}

// ---------------------------------------------------------------- Expo

/** A receipt the fake Expo gives for a ticket (docs.expo.dev/push-notifications/sending-notifications, "Push receipts"); null: not ready yet (left out of the answer). */
export type ExpoReceipt = { status: 'ok' } | { status: 'error'; error: string; message?: string } | null;

/**
 * Expo's push service over HTTPS (HTTP/1.1), as expo-server-sdk reaches it at exp.host:
 *   POST /--/api/v2/push/send         a message or an array of them (gzip when large), each `to` one
 *                                     token or several, at most 100 in all → { data: [ticket per
 *                                     recipient] }, a ticket { status: 'ok', id } or { status:
 *                                     'error', message, details: { error } };
 *   POST /--/api/v2/push/getReceipts  { ids } (at most 1000) → { data: { [id]: receipt } }, an id
 *                                     whose receipt is not ready (or unknown) left out.
 * An error of the whole request is its HTTP status with { errors: [{ code, message }] }; with an
 * access token set, a request without `Authorization: Bearer <it>` is refused 401 UNAUTHORIZED
 * (Expo's push security). Scripted per token: `on(token, …)`, where an 'error' of status 200 is a
 * ticket's error (its code in details.error) and any other status fails the whole request; and
 * `onReceipt(token, receipt)` for the receipt of its later tickets (ok unless scripted).
 */
export class FakeExpo extends Fake<HttpsServer> {
	readonly host = 'exp.host';
	/** The access token it requires (push security on), or null (off). */
	accessToken: string | null = null;
	/** Whether receipts are ready when asked for (Expo has them within about 15 minutes). */
	receiptsReady = true;
	/** The number of recipients of each send request, in order. */
	readonly sendRequests: number[] = [];
	/** The ids of each getReceipts request, in order. */
	readonly receiptRequests: string[][] = [];
	/** Tickets issued: id → the token it was for and the receipt it will have. */
	readonly tickets = new Map<string, { token: string; receipt: ExpoReceipt }>();
	private readonly receiptScript = new Map<string, ExpoReceipt>();
	protected server: HttpsServer;

	constructor() {
		super();
		this.server = createHttpsServer(tlsOptions(), (req, res) => {
			void (async () => {
				let raw = await readBody(req);
				await this.roundTrip();
				const reply = (status: number, body: unknown) => {
					if (res.destroyed || req.socket.destroyed || req.socket.readableEnded) return;
					res.writeHead(status, { 'content-type': 'application/json' });
					res.end(JSON.stringify(body));
				};
				const refuse = (status: number, code: string, message: string) => reply(status, { errors: [{ code, message }] });
				if (req.method !== 'POST') return refuse(405, 'METHOD_NOT_ALLOWED', 'use POST');
				if (this.accessToken !== null && req.headers.authorization !== `Bearer ${this.accessToken}`) {
					return refuse(401, 'UNAUTHORIZED', 'The bearer token is invalid or missing: this project requires an access token to send push notifications');
				}
				if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
				let body: unknown;
				try {
					body = JSON.parse(raw.toString('utf8'));
				} catch {
					return refuse(400, 'VALIDATION_ERROR', 'the body is not JSON');
				}
				if (req.url === '/--/api/v2/push/getReceipts') return reply(200, this.receipts(body));
				if (req.url !== '/--/api/v2/push/send') return refuse(404, 'NOT_FOUND', `no route ${req.url}`);

				const messages = (Array.isArray(body) ? body : [body]) as Array<Record<string, unknown>>;
				const recipients = messages.flatMap((message) => (Array.isArray(message.to) ? message.to : [message.to]).map((to) => ({ token: String(to), message })));
				if (recipients.length > 100) return refuse(400, 'PUSH_TOO_MANY_NOTIFICATIONS', 'You are trying to send more than 100 push notifications in one request.');
				this.sendRequests.push(recipients.length);
				const now = Date.now();
				for (const { token, message } of recipients) this.received.push({ token, headers: req.headers, body: message, at: now });

				// A fault or a scripted failure of one recipient fails the whole request, as Expo's do.
				const answers = recipients.map(({ token }) => ({ token, fault: this.fault(token), behaviour: null as Behaviour | null }));
				const fault = answers.find((a) => a.fault && a.fault !== 'dead')?.fault as FaultKind | undefined;
				if (fault && this.faults?.point === 'after') {
					for (const a of answers) if (a.fault !== 'dead') this.accept(a.token);
					return req.socket.destroy();
				}
				if (fault === 'reset' || fault === 'goaway') return req.socket.destroy();
				if (fault === 'slow') {
					await new Promise((done) => setTimeout(done, this.faults?.slowMs ?? 20_000));
					if (res.destroyed || req.socket.destroyed || req.socket.readableEnded) return; // the client gave up: not processed
				} else if (fault) {
					const { status } = this.faultAnswer(fault);
					return refuse(status, status === 429 ? 'TOO_MANY_REQUESTS' : 'INTERNAL_SERVER_ERROR', `injected ${fault}`);
				}
				for (const a of answers) if (!a.fault) a.behaviour = this.next(a.token);
				const failing = answers.find((a) => a.behaviour && a.behaviour.kind !== 'ok' && !(a.behaviour.kind === 'error' && a.behaviour.status === 200));
				if (failing?.behaviour?.kind === 'reset' || failing?.behaviour?.kind === 'goaway') return req.socket.destroy();
				if (failing?.behaviour?.kind === 'error') return refuse(failing.behaviour.status, failing.behaviour.code, failing.behaviour.message ?? failing.behaviour.code);
				const slow = answers.find((a) => a.behaviour?.kind === 'slow')?.behaviour as { ms: number } | undefined;
				if (slow) await new Promise((done) => setTimeout(done, slow.ms));

				const tickets = recipients.map(({ token, message }, i) => {
					const { fault: dead, behaviour } = answers[i];
					const refused = (error: string, text: string) => ({ status: 'error', message: text, details: { error, expoPushToken: token } });
					if (dead === 'dead' || !/^Expo(nent)?PushToken\[[^\]]+\]$/.test(token)) return refused('DeviceNotRegistered', `"${token}" is not a registered push notification recipient`);
					if (Buffer.byteLength(JSON.stringify(message)) > 4096) return refused('MessageTooBig', 'Message was too big (the maximum payload size is 4096 bytes)');
					if (behaviour?.kind === 'error') return refused(behaviour.code, behaviour.message ?? behaviour.code);
					this.accept(token);
					const id = randomUUID();
					const scripted = this.receiptScript.get(token);
					this.tickets.set(id, { token, receipt: scripted === undefined ? { status: 'ok' } : scripted });
					return { status: 'ok', id };
				});
				return reply(200, { data: tickets });
			})().catch(() => undefined); // a request cut off by a reset: nothing to answer
		});
	}

	/** The receipt of the token's tickets issued from now on. */
	onReceipt(token: string, receipt: ExpoReceipt): this {
		this.receiptScript.set(token, receipt);
		return this;
	}

	/** Ticket ids issued for a token, oldest first. */
	ticketsOf(token: string): string[] {
		return [...this.tickets].filter(([, t]) => t.token === token).map(([id]) => id);
	}

	private receipts(body: unknown): unknown {
		const ids = (body as { ids?: unknown })?.ids;
		if (!Array.isArray(ids)) return { errors: [{ code: 'VALIDATION_ERROR', message: '"ids" must be an array' }] };
		if (ids.length > 1000) return { errors: [{ code: 'PUSH_TOO_MANY_RECEIPTS', message: 'You are trying to get more than 1000 push receipts in one request.' }] };
		this.receiptRequests.push(ids.map(String));
		const data: Record<string, unknown> = {};
		for (const id of ids) {
			const ticket = this.tickets.get(String(id));
			const r = ticket?.receipt;
			if (!r || !this.receiptsReady) continue;
			data[String(id)] = r.status === 'ok' ? { status: 'ok' } : { status: 'error', message: r.message ?? r.error, details: { error: r.error } };
		}
		return { data };
	}

	override reset(): void {
		super.reset();
		this.accessToken = null;
		this.receiptsReady = true;
		this.sendRequests.length = 0;
		this.receiptRequests.length = 0;
		this.tickets.clear();
		this.receiptScript.clear();
	}
}

export interface Fakes {
	fcm: FakeFcm;
	apns: FakeApns;
	webpush: FakeWebPush;
	expo: FakeExpo;
	/** For PUSH_TOKENS_FAKE_ROUTES. */
	routes: Record<string, string>;
	reset(): void;
	close(): Promise<void>;
}

export async function startFakes(): Promise<Fakes> {
	const [fcm, apns, webpush, expo] = await Promise.all([new FakeFcm().listen(), new FakeApns().listen(), new FakeWebPush().listen(), new FakeExpo().listen()]);
	return {
		fcm,
		apns,
		webpush,
		expo,
		routes: {
			'fcm.googleapis.com': `127.0.0.1:${fcm.port}`,
			'oauth2.googleapis.com': `127.0.0.1:${fcm.port}`,
			'api.push.apple.com': `127.0.0.1:${apns.port}`,
			'api.sandbox.push.apple.com': `127.0.0.1:${apns.port}`,
			[webpush.host]: `127.0.0.1:${webpush.port}`,
			[expo.host]: `127.0.0.1:${expo.port}`,
		},
		reset() {
			for (const fake of [fcm, apns, webpush, expo]) fake.reset();
		},
		close: async () => {
			await Promise.all([fcm.close(), apns.close(), webpush.close(), expo.close()]);
		},
	};
}
