/**
 * HTTPS egress through an HTTP CONNECT proxy, as self-hosted n8n is often set up: the proxy comes
 * from HTTPS_PROXY / https_proxy, hosts to reach directly from NO_PROXY / no_proxy (the curl and
 * proxy-from-env conventions). The TLS session is end to end: the proxy relays bytes it cannot
 * read, and the provider's certificate is checked against the provider's name as without a proxy.
 *
 * Proxy credentials (http://user:pass@proxy:3128) go in Proxy-Authorization only: no error, error
 * property or message ever carries them, or the URL that holds them; errors name the proxy host:port.
 */
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { checkServerIdentity, connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { ipBytes } from './addresses';

/** The code of an error for a CONNECT the proxy refused, or answered with something that is not an HTTP answer. */
export const PROXY_CONNECT_FAILED = 'ERR_PROXY_CONNECT';
/** The code of an error for an HTTPS_PROXY that is not a usable proxy URL. */
export const PROXY_URL_INVALID = 'ERR_PROXY_URL';

/** The proxy's answer header block is read up to this size; a longer one is not a proxy talking. */
const MAX_ANSWER_HEADER = 16 * 1024;

/** The first non-empty of the variables, upper case first (HTTPS_PROXY wins over https_proxy). */
function variable(env: NodeJS.ProcessEnv, names: string[]): { name: string; value: string } | null {
	for (const name of names) {
		const value = env[name]?.trim();
		if (value) return { name, value };
	}
	return null;
}

/** A host as compared: lower case, no brackets around IPv6, no trailing dot of a fully qualified name. */
function normalHost(host: string): string {
	return host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

function sameIp(a: string, b: string): boolean {
	const x = ipBytes(a);
	const y = ipBytes(b);
	return !!x && !!y && x.length === y.length && x.every((byte, i) => byte === y[i]);
}

/** One NO_PROXY entry as a host (or IP) and an optional port; null for an empty entry. */
function noProxyEntry(text: string): { host: string; port: number | null } | null {
	const entry = text.trim().toLowerCase();
	if (!entry) return null;
	// A bare IPv6 literal has colons of its own: it can carry no port (write [::1]:443 for that).
	if (isIP(entry) === 6) return { host: entry, port: null };
	const bracketed = /^\[([^\]]*)\](?::(\d+))?$/.exec(entry);
	if (bracketed) return { host: bracketed[1], port: bracketed[2] ? Number(bracketed[2]) : null };
	const withPort = /^(.*):(\d+)$/.exec(entry);
	return withPort ? { host: withPort[1], port: Number(withPort[2]) } : { host: entry, port: null };
}

/** Whether NO_PROXY says to reach host:port directly. */
function bypassed(noProxy: string, host: string, port: number): boolean {
	const target = normalHost(host);
	return noProxy.split(/[,\s]+/).some((text) => {
		const entry = noProxyEntry(text);
		if (!entry) return false;
		if (entry.port !== null && entry.port !== port) return false;
		if (entry.host === '*') return true;
		// An IP matches only the same IP (any spelling of it); a name never matches an IP, nor the reverse.
		if (isIP(entry.host) || isIP(target)) return sameIp(entry.host, target);
		// `example.com`, `.example.com` and `*.example.com` all mean the domain and its subdomains,
		// on a label boundary: `badexample.com` is not under `example.com`.
		const domain = normalHost(entry.host.replace(/^\*/, '').replace(/^\.+/, ''));
		return domain !== '' && (target === domain || target.endsWith(`.${domain}`));
	});
}

/**
 * The proxy to reach host:port through, or null: none set, or NO_PROXY matches the host.
 * A value without a scheme (`proxy.corp:3128`) is an http: proxy. Throws (code ERR_PROXY_URL)
 * when the variable is not an http: or https: URL: going direct instead would bypass the proxy
 * the administrator set.
 */
export function proxyFor(host: string, port: number, env: NodeJS.ProcessEnv = process.env): URL | null {
	const proxy = variable(env, ['HTTPS_PROXY', 'https_proxy']);
	if (!proxy) return null;
	const noProxy = variable(env, ['NO_PROXY', 'no_proxy']);
	if (noProxy && bypassed(noProxy.value, host, port)) return null;
	let url: URL;
	try {
		url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(proxy.value) ? proxy.value : `http://${proxy.value}`);
	} catch {
		// Not the value, nor URL's error (its `input` property): either may hold the credentials.
		throw Object.assign(new Error(`${proxy.name} is not a valid proxy URL`), { code: PROXY_URL_INVALID });
	}
	if (url.protocol !== 'http:' && url.protocol !== 'https:') {
		throw Object.assign(new Error(`${proxy.name}: a ${url.protocol} proxy is not supported (http: or https: only)`), { code: PROXY_URL_INVALID });
	}
	if (!url.hostname) throw Object.assign(new Error(`${proxy.name} names no proxy host`), { code: PROXY_URL_INVALID });
	return url;
}

/** A URL's user or password as it was meant (a malformed %-escape is taken as written). */
function percentDecoded(text: string): string {
	try {
		return decodeURIComponent(text);
	} catch {
		return text;
	}
}

/** The proxy as errors name it: host:port, never its credentials. */
function proxyName(proxy: URL): string {
	return `${proxy.hostname}:${proxyPort(proxy)}`;
}

function proxyPort(proxy: URL): number {
	return proxy.port ? Number(proxy.port) : proxy.protocol === 'https:' ? 443 : 80;
}

/** host:port as a CONNECT request names it (an IPv6 address in brackets). */
function authority(host: string, port: number): string {
	const bare = host.replace(/^\[(.*)\]$/, '$1');
	return isIP(bare) === 6 ? `[${bare}]:${port}` : `${bare}:${port}`;
}

function connectFailed(message: string, fields: { proxy: string; target: string; statusCode?: number }): Error {
	return Object.assign(new Error(message), { code: PROXY_CONNECT_FAILED, ...fields });
}

/**
 * The bytes of one CONNECT tunnel, as a stream TLS runs over. What TLS writes before the proxy
 * answered 2xx is held back (the first write is kept, the stream's buffer holds the rest): a
 * CONNECT the proxy refuses has sent nothing of the request, so it is certainly not processed.
 * The proxy's answer header block is consumed; what follows it is the server's, passed to TLS.
 */
class ConnectTunnel extends Duplex {
	private socket: Socket | TLSSocket | null = null;
	private established = false;
	private failed = false;
	private answer = Buffer.alloc(0);
	/** The proxy's side ended (FIN): what it sent is still read to the end. */
	private ended = false;
	private held: { chunk: Buffer; callback: (error?: Error | null) => void } | null = null;
	/** How a failure reaches the TLS socket over this tunnel (set by connectTls). */
	onFailure: (error: Error) => void = () => undefined;
	/** Whether the TLS handshake over this tunnel is done (set by connectTls). */
	isSecure: () => boolean = () => false;

	open(proxy: URL, target: string, shownTarget: string): void {
		const name = proxyName(proxy);
		const fields = { proxy: name, target: shownTarget };
		// A line break in the target would let a caller's input write headers of its own.
		if (/[\s\p{Cc}]/u.test(target)) {
			process.nextTick(() => this.fail(connectFailed(`not sent to the proxy ${name}: the target ${JSON.stringify(shownTarget)} is not a host`, fields)));
			return;
		}
		const host = proxy.hostname.replace(/^\[(.*)\]$/, '$1');
		const port = proxyPort(proxy);
		const socket =
			proxy.protocol === 'https:'
				? tlsConnect({ host, port, servername: isIP(host) ? undefined : host, ALPNProtocols: ['http/1.1'] })
				: netConnect({ host, port });
		this.socket = socket;
		socket.setNoDelay(true);
		const lines = [`CONNECT ${target} HTTP/1.1`, `Host: ${target}`];
		if (proxy.username || proxy.password) {
			const credentials = `${percentDecoded(proxy.username)}:${percentDecoded(proxy.password)}`;
			lines.push(`Proxy-Authorization: Basic ${Buffer.from(credentials).toString('base64')}`);
		}
		socket.write(`${lines.join('\r\n')}\r\n\r\n`);

		const onAnswer = (chunk: Buffer) => {
			this.answer = Buffer.concat([this.answer, chunk]);
			const end = this.answer.indexOf('\r\n\r\n');
			if (end === -1 || end + 4 > MAX_ANSWER_HEADER) {
				if (end !== -1 || this.answer.length > MAX_ANSWER_HEADER) {
					this.fail(connectFailed(`the proxy ${name} answered CONNECT ${shownTarget} with a header block over ${MAX_ANSWER_HEADER / 1024} KiB`, fields));
				}
				return;
			}
			const statusLine = this.answer.subarray(0, this.answer.indexOf('\r\n')).toString('latin1');
			const rest = this.answer.subarray(end + 4);
			this.answer = Buffer.alloc(0);
			const status = /^HTTP\/1\.[01] (\d{3})(?: ([^\r\n]*))?$/.exec(statusLine);
			if (!status) {
				this.fail(connectFailed(`the proxy ${name} answered CONNECT ${shownTarget} with something that is not HTTP`, fields));
				return;
			}
			const statusCode = Number(status[1]);
			if (statusCode < 200 || statusCode > 299) {
				// The reason phrase is the proxy's text: printable and short, whatever it sent.
				const reason = (status[2] ?? '').replace(/[^\x20-\x7e]/g, '').slice(0, 200).trim();
				this.fail(connectFailed(`the proxy ${name} refused CONNECT ${shownTarget}: ${statusCode}${reason ? ` ${reason}` : ''}`, { ...fields, statusCode }));
				return;
			}
			this.established = true;
			socket.off('data', onAnswer);
			socket.on('data', (data: Buffer) => {
				if (!this.push(data)) socket.pause();
			});
			if (rest.length > 0 && !this.push(rest)) socket.pause();
			const held = this.held;
			this.held = null;
			if (held) this._write(held.chunk, 'buffer' as BufferEncoding, held.callback);
		};
		socket.on('data', onAnswer);
		socket.on('end', () => {
			if (this.destroyed) return;
			this.ended = true;
			if (!this.established) this.fail(connectFailed(`the proxy ${name} closed the connection before answering CONNECT ${shownTarget}`, fields));
			// The server (or the proxy) hung up before TLS was up: no request can have gone out, and
			// the error says so (ERR_PROXY_CONNECT, not TLS's ECONNRESET, which would leave that open).
			else if (!this.isSecure()) this.fail(connectFailed(`the tunnel through the proxy ${name} to ${shownTarget} closed before TLS was established`, fields));
			else this.push(null);
		});
		socket.on('error', (error: NodeJS.ErrnoException) => {
			if (this.destroyed) return;
			// Node's code (ECONNREFUSED, ECONNRESET, a certificate's) is kept; the message names the proxy.
			const message = `${this.established ? 'the connection through' : 'the connection to'} the proxy ${name} failed: ${error.message}`;
			const wrapped = Object.assign(new Error(message, { cause: error }), { proxy: name, target: shownTarget }) as NodeJS.ErrnoException;
			for (const key of ['code', 'errno', 'syscall'] as const) if (error[key] !== undefined) Object.assign(wrapped, { [key]: error[key] });
			this.fail(wrapped);
		});
		socket.on('close', () => {
			if (this.destroyed) return;
			if (!this.established) this.fail(connectFailed(`the proxy ${name} closed the connection before answering CONNECT ${shownTarget}`, fields));
			// Closed without an end or an error: nothing more comes. After an end, once what came is read:
			// a tunnel left open here would keep the TLS socket, and an HTTP/2 session over it, from closing.
			else if (!this.ended || this.readableEnded) this.destroy();
			else this.once('end', () => this.destroy());
		});
	}

	/** The TLS socket fails first (with this error, not a TLS "socket disconnected"), then the tunnel closes. */
	private fail(error: Error): void {
		if (this.failed) return;
		this.failed = true;
		this.onFailure(error);
		this.destroy();
	}

	override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
		if (!this.established || !this.socket) {
			this.held = { chunk, callback };
			return;
		}
		if (this.socket.write(chunk)) callback();
		else this.socket.once('drain', () => callback());
	}

	override _final(callback: (error?: Error | null) => void): void {
		this.socket?.end();
		callback();
	}

	override _read(): void {
		if (this.established) this.socket?.resume();
	}

	override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
		this.held = null;
		this.socket?.destroy();
		callback(error);
	}
}

/**
 * A TLS connection to `options.host`:`options.port` (SNI `options.servername ?? host`), returned at once
 * (like tls.connect): direct when `proxy` is null, else through an HTTP CONNECT tunnel opened on the proxy.
 * `connectTo` (optional) is the address put in the CONNECT line instead of the host (a caller that already
 * resolved and checked the host's address passes it, so the proxy cannot resolve the name to another address).
 * Without a proxy, `connectTo` is the address connected to, for the same reason.
 * Every failure (the proxy unreachable or refusing, TLS) is an 'error' event on the returned socket.
 */
export function connectTls(options: ConnectionOptions & { host: string; port: number }, proxy: URL | null, connectTo?: string): TLSSocket {
	const host = options.host.replace(/^\[(.*)\]$/, '$1');
	// No SNI for an IP address (RFC 6066); the certificate is still checked against it.
	const servername = options.servername ?? (isIP(host) ? undefined : host);
	if (!proxy) {
		if (!connectTo) return tlsConnect({ ...options, host, servername });
		// The address is dialled; the certificate is still checked against the host's name, as through a proxy.
		const check = options.checkServerIdentity ?? checkServerIdentity;
		return tlsConnect({ ...options, host: connectTo, servername, checkServerIdentity: (_dialled, cert) => check(servername || host, cert) });
	}

	const tunnel = new ConnectTunnel();
	// `path` is for a connection TLS makes itself (over a pipe), `timeout` too: this one runs over the tunnel.
	const tlsOptions: ConnectionOptions = { ...options, host, servername, socket: tunnel };
	delete tlsOptions.path;
	delete tlsOptions.timeout;
	const socket = tlsConnect(tlsOptions);
	let secure = false;
	socket.once('secureConnect', () => (secure = true));
	tunnel.onFailure = (error) => socket.destroy(error);
	tunnel.isSecure = () => secure;
	socket.once('close', () => tunnel.destroy());
	// tls.connect leaves the timeout of a socket it was given to its owner: this one.
	if (options.timeout) socket.setTimeout(options.timeout);
	const target = authority(connectTo ?? host, options.port);
	tunnel.open(proxy, target, connectTo ? `${target} (${authority(host, options.port)})` : target);
	return socket;
}

