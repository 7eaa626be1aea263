/**
 * HTTP/2 to one provider origin (APNs, FCM), on Node's own HTTP/2 client, for one reason: to know,
 * when a request gets no answer, whether the provider may have processed it (the delivery
 * promise that needs it: ../send/sender.ts).
 *   - GOAWAY is graceful (RFC 9113 §6.8): streams up to its last stream id finish and are answered
 *     on the old connection; streams above it are closed by the peer as REFUSED_STREAM, never
 *     processed; new requests go to a new connection. (undici, under apns2, destroys the socket on
 *     GOAWAY and loses the answers the server was about to send; firebase-admin's sendEach leaves
 *     a request unsettled when its connection closes without an error.)
 *   - A request with no answer fails with NoAnswer, whose `deliveryUnknown` says which case it is.
 * Every request settles: by its answer, its stream's end, or its deadline. Through HTTPS_PROXY
 * when one is set (../net/proxy): HTTP/2 inside the CONNECT tunnel.
 */
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { connectTls, proxyFor } from '../net/proxy';

const { NGHTTP2_REFUSED_STREAM, NGHTTP2_CANCEL } = constants;
/** Streams per connection: the peer's limit once its settings arrive, until then this; never above MAX_STREAMS. */
const DEFAULT_STREAMS = 100;
const MAX_STREAMS = 500;

/** No answer to a request. */
export class NoAnswer extends Error {
	override readonly name = 'NoAnswer';
	constructor(
		message: string,
		/** True: sent, the answer lost (processed or not, nobody knows). False: certainly not processed, safe to send again. */
		readonly deliveryUnknown: boolean,
		readonly code?: string,
	) {
		super(message);
	}
}

export interface Answer {
	status: number;
	headers: IncomingHttpHeaders;
	body: Buffer;
}

/** Whether a stream that got no answer may have been processed by the peer. */
export function deliveryUnknown(stream: ClientHttp2Stream | undefined, error?: { code?: string }): boolean {
	if (!stream || stream.pending) return false; // never given a stream id: never sent
	if (stream.rstCode === NGHTTP2_REFUSED_STREAM) return false; // refused, or above GOAWAY's last stream id
	if (error?.code === 'ERR_HTTP2_STREAM_CANCEL' || error?.code === 'ERR_HTTP2_GOAWAY_SESSION' || error?.code === 'ERR_HTTP2_INVALID_SESSION') return false;
	return true;
}

/** The session once connected; one not connected within timeoutMs is destroyed (no stream was opened on it). */
function connected(session: ClientHttp2Session, timeoutMs: number): Promise<ClientHttp2Session> {
	return new Promise((resolve, reject) => {
		const done = (error?: NoAnswer) => {
			clearTimeout(timer);
			session.off('connect', onConnect);
			session.off('close', onClose);
			if (error) reject(error);
			else resolve(session);
		};
		const onConnect = () => done();
		const onClose = () => done(new NoAnswer('not sent: the connection could not be made', false, 'ECONNECT'));
		const timer = setTimeout(() => {
			done(new NoAnswer(`not sent: no connection within ${timeoutMs} ms`, false, 'ETIMEDOUT'));
			session.destroy();
		}, timeoutMs);
		session.once('connect', onConnect);
		session.once('close', onClose);
	});
}

/** Connections to one origin, reopened when one goes away; requests spread over them. */
export class Http2Origin {
	private readonly sessions: Array<ClientHttp2Session | undefined>;
	private readonly streams = new WeakMap<ClientHttp2Session, number>();
	private turn = 0;
	private closed = false;

	/** Null: direct. */
	private readonly proxy: URL | null;

	constructor(
		readonly origin: string,
		private readonly connections = 1,
		env: NodeJS.ProcessEnv = process.env,
	) {
		this.sessions = new Array(connections);
		const { hostname, port } = new URL(origin);
		this.proxy = proxyFor(hostname, Number(port || 443), env);
	}

	private connect(): ClientHttp2Session {
		if (!this.proxy) return connect(this.origin);
		const { hostname: host, port } = new URL(this.origin);
		const proxy = this.proxy;
		return connect(this.origin, { createConnection: () => connectTls({ host, port: Number(port || 443), servername: host, ALPNProtocols: ['h2'] }, proxy) });
	}

	/** A connection that takes new streams (a closing one, after GOAWAY, does not). */
	private session(): ClientHttp2Session {
		if (this.closed) throw Object.assign(new Error(`the connection to ${this.origin} is closed`), { code: 'ERR_HTTP2_INVALID_SESSION' });
		const slot = this.turn++ % this.connections;
		const current = this.sessions[slot];
		if (current && !current.closed && !current.destroyed) return current;
		const session = this.connect();
		// Each stream reports its own failure; a session error also ends its streams.
		session.on('error', () => undefined);
		session.on('close', () => {
			if (this.sessions[slot] === session) this.sessions[slot] = undefined;
		});
		session.unref(); // referenced only while it has streams open (see open())
		this.sessions[slot] = session;
		return session;
	}

	/**
	 * Waits for a connected connection with room for one more stream: never more streams open on a
	 * connection than its peer allows (SETTINGS_MAX_CONCURRENT_STREAMS). A stream over the limit
	 * would get an id and wait, unsent, inside nghttp2 — and then, if the connection is lost, look
	 * sent. Nor a stream on a connection still being made: Node sends it once connected even if it
	 * was given up meanwhile, so a request timed out then would look unsent and yet arrive.
	 * Rejects with NoAnswer (not sent) when no connection is made within `timeoutMs`.
	 */
	async ready(timeoutMs: number): Promise<ClientHttp2Session> {
		for (;;) {
			const session = this.withRoom();
			if (session) return session.connecting ? this.connected(session, timeoutMs) : session;
			await new Promise<void>((wake) => this.waiting.push(wake));
		}
	}

	/** One wait per connection being made, shared by the requests waiting on it. */
	private readonly connecting = new WeakMap<ClientHttp2Session, Promise<ClientHttp2Session>>();

	private connected(session: ClientHttp2Session, timeoutMs: number): Promise<ClientHttp2Session> {
		let wait = this.connecting.get(session);
		if (!wait) {
			wait = connected(session, timeoutMs);
			this.connecting.set(session, wait);
		}
		return wait;
	}

	private readonly waiting: Array<() => void> = [];

	private withRoom(): ClientHttp2Session | undefined {
		for (let k = 0; k < this.connections; k++) {
			const session = this.session();
			const limit = Math.min(MAX_STREAMS, session.remoteSettings?.maxConcurrentStreams ?? DEFAULT_STREAMS);
			if ((this.streams.get(session) ?? 0) < limit) return session;
		}
		return undefined;
	}

	/** Opens a stream (the request headers sent, the body left to the caller), on the connection ready() gave, if still open. */
	open(headers: OutgoingHttpHeaders, on?: ClientHttp2Session): ClientHttp2Stream {
		const session = on && !on.closed && !on.destroyed ? on : this.session();
		const stream = session.request(headers);
		const count = (this.streams.get(session) ?? 0) + 1;
		this.streams.set(session, count);
		if (count === 1) session.ref();
		stream.once('close', () => {
			const left = (this.streams.get(session) ?? 1) - 1;
			this.streams.set(session, left);
			if (left === 0 && !session.destroyed) session.unref();
			this.waiting.shift()?.();
		});
		return stream;
	}

	/** One request: its answer, or NoAnswer (never sent / refused, or sent and the answer lost). */
	request(headers: OutgoingHttpHeaders, body: string | Buffer | undefined, timeoutMs: number): Promise<Answer> {
		return this.ready(timeoutMs).then((session) => this.send(session, headers, body, timeoutMs));
	}

	private send(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body: string | Buffer | undefined, timeoutMs: number): Promise<Answer> {
		return new Promise((resolve, reject) => {
			let stream: ClientHttp2Stream;
			try {
				stream = this.open(headers, session);
			} catch (error) {
				const e = error as { code?: string; message?: string };
				return reject(new NoAnswer(`not sent: ${e.message ?? String(error)}`, false, e.code));
			}
			let status: number | undefined;
			let answerHeaders: IncomingHttpHeaders = {};
			const chunks: Buffer[] = [];
			let settled = false;
			const fail = (why: string, error?: { code?: string }) => {
				if (settled) return;
				settled = true;
				clearTimeout(timer);
				const unknown = deliveryUnknown(stream, error);
				if (!stream.destroyed) stream.close(NGHTTP2_CANCEL);
				reject(new NoAnswer(why, unknown, error?.code));
			};
			const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`, { code: stream.pending ? 'ERR_HTTP2_STREAM_CANCEL' : 'ETIMEDOUT' }), timeoutMs);
			stream.on('response', (h) => {
				status = Number(h[':status']);
				answerHeaders = h;
			});
			stream.on('data', (chunk: Buffer) => chunks.push(chunk));
			stream.on('end', () => {
				if (status === undefined) return fail('the stream ended without an answer');
				settled = true;
				clearTimeout(timer);
				resolve({ status, headers: answerHeaders, body: Buffer.concat(chunks) });
			});
			stream.on('error', (error: Error & { code?: string }) => fail(`${error.code ?? 'error'}: ${error.message}`, error));
			stream.on('close', () => fail(stream.rstCode === NGHTTP2_REFUSED_STREAM ? 'refused by the server (REFUSED_STREAM)' : 'the connection closed before the answer'));
			stream.end(body);
		});
	}

	async close(): Promise<void> {
		this.closed = true;
		await Promise.all(
			this.sessions.map((s) => (s && !s.destroyed ? new Promise<void>((done) => (s.closed ? done() : s.close(() => done()))) : undefined)),
		);
	}
}
