/**
 * HTTPS egress through an HTTP CONNECT proxy (nodes/core/net/proxy.ts): which proxy the
 * environment names, and TLS through a real CONNECT proxy (test/fakes/connect-proxy.ts) to real
 * TLS servers on 127.0.0.1, over HTTP/1.1 (an https.Agent) and HTTP/2 (http2.connect). No mocks.
 * The target names (webpush.fake.test) do not resolve: only the proxy's routes make them reachable.
 */
// The network edge other test files load patches tls.connect in the shared worker and reroutes the
// providers' names by the routes of the file that loaded it last; loaded here with no routes, it
// reroutes nothing, and a direct connection to HOST goes where this file says.
import '../fakes/network-edge.cjs';
import { readFileSync } from 'node:fs';
import type { ClientRequestArgs, IncomingHttpHeaders } from 'node:http';
import { connect as http2Connect, createSecureServer, type Http2SecureServer } from 'node:http2';
import { Agent, createServer as createHttpsServer, request as httpsRequest, type Server as HttpsServer } from 'node:https';
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { Server as TlsServer, createServer as createTlsServer, getCACertificates, setDefaultCACertificates, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { inspect } from 'node:util';
import { connectTls, proxyFor } from '../../nodes/core/net/proxy';
import { ConnectProxy } from '../fakes/connect-proxy';

const CERTS = join(__dirname, '../fakes/certs');
const CA = readFileSync(join(CERTS, 'ca.crt'), 'utf8');
const SERVER = { key: readFileSync(join(CERTS, 'server.key')), cert: readFileSync(join(CERTS, 'server.crt')) };
/** A name in the test certificate that no resolver knows. */
const HOST = 'webpush.fake.test';

type Seen = { path: string; servername: string | false; headers: IncomingHttpHeaders; alpn: string | false | null };

/** What an error shows anywhere it may end up: message, stack, JSON, util.inspect (which follows `cause`). */
const everywhere = (error: Error) => [error.message, error.stack ?? '', JSON.stringify(error), inspect(error, { depth: 5, showHidden: true })].join('\n');

function listening<S extends NetServer | HttpsServer | Http2SecureServer>(server: S): Promise<S & { port: number }> {
	return new Promise((done) => server.listen(0, '127.0.0.1', () => done(Object.assign(server, { port: (server.address() as AddressInfo).port }))));
}

function closed(server: NetServer): Promise<void> {
	return new Promise((done) => server.close(() => done()));
}

/** An HTTPS (HTTP/1.1) server that records what reached it. */
async function h1Server() {
	const seen: Seen[] = [];
	const server = await listening(
		createHttpsServer(SERVER, (req, res) => {
			const socket = req.socket as TLSSocket;
			seen.push({ path: req.url ?? '', servername: (socket as TLSSocket & { servername: string | false }).servername, headers: req.headers, alpn: socket.alpnProtocol });
			res.end(`hello ${req.url}`);
		}),
	);
	return { server, seen, close: () => (server.closeAllConnections(), closed(server)) };
}

/** An HTTP/2 server that records what reached it. */
async function h2Server() {
	const seen: Seen[] = [];
	const sessions = new Set<{ destroy(): void }>();
	const server = await listening(createSecureServer(SERVER));
	server.on('session', (session) => {
		sessions.add(session);
		session.on('close', () => sessions.delete(session));
	});
	server.on('stream', (stream, headers) => {
		const socket = stream.session?.socket as TLSSocket;
		seen.push({ path: String(headers[':path']), servername: (socket as TLSSocket & { servername: string | false }).servername, headers, alpn: socket.alpnProtocol });
		stream.respond({ ':status': 200 });
		stream.end(`hello ${headers[':path']}`);
	});
	return {
		server,
		seen,
		close: () => {
			for (const session of sessions) session.destroy();
			return closed(server);
		},
	};
}

/**
 * A TCP (or, given a tls.Server, TLS) server of the test's own: a hand-written proxy, a server
 * that misbehaves. close() destroys its connections, and any other socket handed to `own`.
 */
async function rawServer(server: NetServer, onConnection: (socket: Socket, own: (other: Socket) => Socket) => void) {
	const sockets = new Set<Socket>();
	const own = (socket: Socket) => {
		sockets.add(socket);
		socket.on('error', () => undefined);
		socket.on('close', () => sockets.delete(socket));
		return socket;
	};
	server.on(server instanceof TlsServer ? 'secureConnection' : 'connection', (socket: Socket) => onConnection(own(socket), own));
	const { port } = await listening(server);
	return {
		port,
		close: () => {
			for (const socket of sockets) socket.destroy();
			return closed(server);
		},
	};
}

/** A TCP server that only counts: what a refused CONNECT would have let through to the server. */
async function countingServer() {
	const counts = { connections: 0, bytes: 0 };
	const server = await rawServer(createNetServer(), (socket) => {
		counts.connections++;
		socket.on('data', (chunk) => (counts.bytes += chunk.length));
	});
	return { ...server, counts };
}

/** A port nothing listens on (it was listened on and closed). */
async function closedPort(): Promise<number> {
	const server = await listening(createNetServer());
	await closed(server);
	return server.port;
}

/** An https.Agent whose connections are connectTls's, as a provider transport's would be. */
class ProxiedAgent extends Agent {
	constructor(
		private readonly proxy: URL | null,
		private readonly connectTo?: string,
	) {
		super({ ca: CA, keepAlive: false });
	}

	override createConnection(options: ClientRequestArgs): Duplex {
		return connectTls({ ...(options as ConnectionOptions), host: String(options.host), port: Number(options.port) }, this.proxy, this.connectTo);
	}
}

function h1Get(url: string, agent: Agent): Promise<{ status: number; body: string }> {
	return new Promise((done, fail) => {
		const req = httpsRequest(url, { agent }, (res) => {
			let body = '';
			res.setEncoding('utf8');
			res.on('data', (chunk) => (body += chunk));
			res.on('end', () => done({ status: res.statusCode ?? 0, body }));
		});
		req.on('error', fail);
		req.end();
	});
}

/**
 * One HTTP/2 GET on a session whose connection is connectTls's, as nodes/core/providers/http2.ts
 * opens it. A failed connection fails the stream (ERR_HTTP2_STREAM_CANCEL) and the session: the
 * session's error, the connection's, is the one returned.
 */
function h2Get(origin: string, path: string, proxy: URL | null, connectTo?: string): Promise<{ status: number; body: string }> {
	const { hostname: host, port } = new URL(origin);
	const session = http2Connect(origin, { createConnection: () => connectTls({ host, port: Number(port || 443), servername: host, ALPNProtocols: ['h2'], ca: CA }, proxy, connectTo) });
	let sessionError: Error | undefined;
	let sessionClosed = false;
	session.on('error', (error) => (sessionError = error));
	session.on('close', () => (sessionClosed = true));
	return new Promise<{ status: number; body: string }>((done, fail) => {
		const stream = session.request({ ':path': path });
		let status = 0;
		let body = '';
		stream.setEncoding('utf8');
		stream.on('response', (headers) => (status = Number(headers[':status'])));
		stream.on('data', (chunk) => (body += chunk));
		stream.on('end', () => done({ status, body }));
		stream.on('error', (error) => (sessionClosed ? fail(sessionError ?? error) : session.once('close', () => fail(sessionError ?? error))));
	}).finally(() => session.close());
}

/** The error a connection fails with, from the socket connectTls returns. */
function connectionError(socket: TLSSocket): Promise<Error & { code?: string; statusCode?: number }> {
	return new Promise((done, fail) => {
		socket.once('secureConnect', () => fail(new Error('connected, but it should have failed')));
		socket.once('error', (error) => socket.once('close', () => done(error)));
	});
}

describe('proxyFor: the proxy the environment names', () => {
	const to = (env: NodeJS.ProcessEnv, host = 'fcm.googleapis.com', port = 443) => proxyFor(host, port, env)?.href ?? null;

	it('none set, or set empty: no proxy; HTTP_PROXY alone is not for https', () => {
		expect(to({})).toBeNull();
		expect(to({ HTTPS_PROXY: '', https_proxy: '' })).toBeNull();
		expect(to({ HTTPS_PROXY: '   ' })).toBeNull();
		expect(to({ HTTP_PROXY: 'http://proxy.corp:3128', http_proxy: 'http://proxy.corp:3128' })).toBeNull();
	});

	it('HTTPS_PROXY wins over https_proxy; either alone is used; an empty one counts as unset', () => {
		expect(to({ HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:2' })).toBe('http://upper:1/');
		expect(to({ https_proxy: 'http://lower:2' })).toBe('http://lower:2/');
		expect(to({ HTTPS_PROXY: 'http://upper:1' })).toBe('http://upper:1/');
		expect(to({ HTTPS_PROXY: '', https_proxy: 'http://lower:2' })).toBe('http://lower:2/');
	});

	it('a value without a scheme is an http: proxy; http: and https: proxies have their default ports', () => {
		const bare = proxyFor('fcm.googleapis.com', 443, { HTTPS_PROXY: 'proxy.corp:3128' })!;
		expect([bare.protocol, bare.hostname, bare.port]).toEqual(['http:', 'proxy.corp', '3128']);
		expect(proxyFor('fcm.googleapis.com', 443, { HTTPS_PROXY: 'user:secret@proxy.corp:3128' })).toMatchObject({ protocol: 'http:', hostname: 'proxy.corp', username: 'user', password: 'secret' });
		expect(proxyFor('fcm.googleapis.com', 443, { HTTPS_PROXY: 'https://proxy.corp' })).toMatchObject({ protocol: 'https:', hostname: 'proxy.corp', port: '' });
		expect(proxyFor('fcm.googleapis.com', 443, { HTTPS_PROXY: 'HTTP://Proxy.Corp:8080/' })).toMatchObject({ protocol: 'http:', hostname: 'proxy.corp', port: '8080' });
	});

	it('an unsupported scheme or an unparsable value throws, naming the variable, never its value', () => {
		const thrown = (env: NodeJS.ProcessEnv) => {
			try {
				proxyFor('fcm.googleapis.com', 443, env);
			} catch (error) {
				return error as Error & { code?: string };
			}
			throw new Error('did not throw');
		};
		const socks = thrown({ HTTPS_PROXY: 'socks5://user:hunter22@proxy.corp:1080' });
		expect(socks).toMatchObject({ code: 'ERR_PROXY_URL' });
		expect(socks.message).toContain('socks5:');
		expect(everywhere(socks)).not.toContain('hunter22');
		const bad = thrown({ https_proxy: 'http://user:hunter22@[not-a-host' });
		expect(bad).toMatchObject({ code: 'ERR_PROXY_URL', message: 'https_proxy is not a valid proxy URL' });
		expect(everywhere(bad)).not.toContain('hunter22');
	});

	describe('NO_PROXY', () => {
		const proxy = { HTTPS_PROXY: 'http://proxy.corp:3128' };
		const direct = (noProxy: string, host: string, port = 443) => proxyFor(host, port, { ...proxy, NO_PROXY: noProxy }) === null;

		it('`*` bypasses every host; an empty value bypasses none', () => {
			expect(direct('*', 'fcm.googleapis.com')).toBe(true);
			expect(direct('*', '10.1.2.3')).toBe(true);
			expect(direct('', 'fcm.googleapis.com')).toBe(false);
			expect(direct(' , ', 'fcm.googleapis.com')).toBe(false);
		});

		it.each(['example.com', '.example.com', '*.example.com', 'EXAMPLE.COM', 'example.com.'])('%s: the domain and its subdomains, on a label boundary', (entry) => {
			expect(direct(entry, 'example.com')).toBe(true);
			expect(direct(entry, 'a.example.com')).toBe(true);
			expect(direct(entry, 'A.B.Example.COM')).toBe(true);
			expect(direct(entry, 'example.com.')).toBe(true);
			expect(direct(entry, 'badexample.com')).toBe(false);
			expect(direct(entry, 'example.com.evil.test')).toBe(false);
			expect(direct(entry, 'example.org')).toBe(false);
		});

		it('entries separated by commas and/or spaces', () => {
			const list = 'localhost, .internal.corp  push.example.com,,10.0.0.5';
			for (const host of ['localhost', 'svc.internal.corp', 'push.example.com', '10.0.0.5']) expect(direct(list, host)).toBe(true);
			for (const host of ['fcm.googleapis.com', 'example.com', '10.0.0.6']) expect(direct(list, host)).toBe(false);
		});

		it('an entry with :port matches that port only', () => {
			expect(direct('example.com:8443', 'api.example.com', 8443)).toBe(true);
			expect(direct('example.com:8443', 'api.example.com', 443)).toBe(false);
			expect(direct('10.0.0.5:443', '10.0.0.5', 443)).toBe(true);
			expect(direct('10.0.0.5:443', '10.0.0.5', 8443)).toBe(false);
			expect(direct('*:443', 'anything.test', 443)).toBe(true);
			expect(direct('*:443', 'anything.test', 8443)).toBe(false);
		});

		it('IPv4 literals match exactly, never as a suffix, and never a name', () => {
			expect(direct('10.0.0.1', '10.0.0.1')).toBe(true);
			expect(direct('10.0.0.1', '110.0.0.1')).toBe(false);
			expect(direct('10.0.0.1', '10.0.0.10')).toBe(false);
			expect(direct('0.0.1', '10.0.0.1')).toBe(false);
			expect(direct('10.0.0.1', 'host.10.0.0.1')).toBe(false);
		});

		it('IPv6 literals match exactly, with or without brackets, in any spelling', () => {
			for (const entry of ['::1', '[::1]', '0:0:0:0:0:0:0:1', '[::1]:443']) {
				expect(direct(entry, '::1')).toBe(true);
				expect(direct(entry, '[::1]')).toBe(true);
				expect(direct(entry, '::2')).toBe(false);
			}
			expect(direct('[::1]:443', '::1', 8443)).toBe(false);
			expect(direct('2001:DB8::1', '2001:db8:0::1')).toBe(true);
			expect(direct('2001:db8::1', '2001:db8::11')).toBe(false);
		});

		it('NO_PROXY wins over no_proxy; either alone is used', () => {
			const env = (vars: NodeJS.ProcessEnv, host: string) => proxyFor(host, 443, { ...proxy, ...vars }) === null;
			expect(env({ NO_PROXY: 'a.test', no_proxy: 'b.test' }, 'a.test')).toBe(true);
			expect(env({ NO_PROXY: 'a.test', no_proxy: 'b.test' }, 'b.test')).toBe(false);
			expect(env({ no_proxy: 'b.test' }, 'b.test')).toBe(true);
			expect(env({ NO_PROXY: '', no_proxy: 'b.test' }, 'b.test')).toBe(true);
		});
	});
});

describe('connectTls through a CONNECT proxy', () => {
	let h1: Awaited<ReturnType<typeof h1Server>>;
	let h2: Awaited<ReturnType<typeof h2Server>>;
	const proxies: ConnectProxy[] = [];
	/** A proxy on 127.0.0.1 that routes HOST to 127.0.0.1:port (closed after each test). */
	const proxyTo = async (port: number, options: ConstructorParameters<typeof ConnectProxy>[0] = {}) => {
		const proxy = await new ConnectProxy({ routes: { [HOST]: `127.0.0.1:${port}` }, ...options }).listen();
		proxies.push(proxy);
		return proxy;
	};

	beforeAll(async () => {
		delete process.env.PUSH_TOKENS_FAKE_ROUTES;
		[h1, h2] = await Promise.all([h1Server(), h2Server()]);
	});
	afterEach(async () => {
		await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
		h1.seen.length = 0;
		h2.seen.length = 0;
	});
	afterAll(async () => {
		await Promise.all([h1.close(), h2.close()]);
	});

	it('HTTP/1.1 through an https.Agent: the proxy tunnels, the server gets the request, TLS checks the host name', async () => {
		const proxy = await proxyTo(h1.server.port);
		const answer = await h1Get(`https://${HOST}/v1/send`, new ProxiedAgent(new URL(proxy.url)));
		expect(answer).toEqual({ status: 200, body: 'hello /v1/send' });
		expect(proxy.tunnels).toEqual([{ host: HOST, port: 443, auth: null }]);
		expect(proxy.bytesTunnelled).toBeGreaterThan(0);
		expect(proxy.bytesBeforeAnswer).toBe(0);
		expect(h1.seen).toEqual([expect.objectContaining({ path: '/v1/send', servername: HOST })]);
		expect(h1.seen[0].headers.host).toBe(HOST);
	});

	it('HTTP/2 through http2.connect: h2 negotiated inside the tunnel, several streams on one connection', async () => {
		const proxy = await proxyTo(h2.server.port);
		const { hostname: host } = new URL(`https://${HOST}`);
		const session = http2Connect(`https://${HOST}`, { createConnection: () => connectTls({ host, port: 443, servername: host, ALPNProtocols: ['h2'], ca: CA }, new URL(proxy.url)) });
		session.on('error', () => undefined); // a reset as the proxy closes, after the test
		try {
			const get = (path: string) =>
				new Promise<string>((done, fail) => {
					const stream = session.request({ ':path': path });
					let body = '';
					stream.setEncoding('utf8');
					stream.on('data', (chunk) => (body += chunk));
					stream.on('end', () => done(body));
					stream.on('error', fail);
				});
			expect(await Promise.all([get('/3/device/a'), get('/3/device/b'), get('/3/device/c')])).toEqual(['hello /3/device/a', 'hello /3/device/b', 'hello /3/device/c']);
		} finally {
			session.close();
		}
		expect(proxy.tunnels).toEqual([{ host: HOST, port: 443, auth: null }]);
		expect(h2.seen.map((s) => s.path).sort()).toEqual(['/3/device/a', '/3/device/b', '/3/device/c']);
		for (const seen of h2.seen) expect({ servername: seen.servername, alpn: seen.alpn, authority: seen.headers[':authority'] }).toEqual({ servername: HOST, alpn: 'h2', authority: `${HOST}:443` });
	});

	it('the proxy ending a live tunnel (FIN) ends the connection: an HTTP/2 session over it closes', async () => {
		// A hand-written proxy that tunnels to the h2 server and, when told, half-closes its side toward the client.
		let client: Socket | undefined;
		const fake = await rawServer(createNetServer(), (socket, own) => {
			client = socket;
			socket.once('data', () => {
				socket.pause();
				const upstream = own(netConnect(h2.server.port, '127.0.0.1', () => socket.write('HTTP/1.1 200 Connection established\r\n\r\n', () => socket.pipe(upstream).pipe(socket))));
			});
		});
		try {
			const socket = connectTls({ host: HOST, port: 443, ALPNProtocols: ['h2'], ca: CA }, new URL(`http://127.0.0.1:${fake.port}`));
			const session = http2Connect(`https://${HOST}`, { createConnection: () => socket });
			session.on('error', () => undefined);
			await new Promise<void>((done, fail) => session.request({ ':path': '/before' }).on('error', fail).resume().on('end', done));
			const clientEnded = new Promise((done) => client!.once('end', () => done('the client ended its side too')));
			client!.end();
			const within = (ms: number, what: string) => new Promise((done) => setTimeout(() => done(what), ms).unref());
			expect(await Promise.race([clientEnded, within(5000, 'the client kept its side open')])).toBe('the client ended its side too');
			expect(await Promise.race([new Promise((done) => session.close(() => done('closed'))), within(5000, 'the session still open')])).toBe('closed');
			expect(socket.destroyed).toBe(true);
		} finally {
			await fake.close();
		}
	});

	it('a port other than 443 is the one put in the CONNECT line', async () => {
		const proxy = await proxyTo(h2.server.port);
		expect(await h2Get(`https://${HOST}:8443`, '/p', new URL(proxy.url))).toEqual({ status: 200, body: 'hello /p' });
		expect(proxy.tunnels).toEqual([{ host: HOST, port: 8443, auth: null }]);
	});

	it('without a proxy (null): a direct TLS connection', async () => {
		expect(await h2Get(`https://localhost:${h2.server.port}`, '/direct', null)).toEqual({ status: 200, body: 'hello /direct' });
		expect(h2.seen).toEqual([expect.objectContaining({ path: '/direct', servername: 'localhost' })]);
	});

	it('connectTo: the CONNECT line names the address given; TLS still sends and checks the host name', async () => {
		const proxy = await proxyTo(1); // HOST's route leads nowhere: only the given address can work
		expect(await h2Get(`https://${HOST}:${h2.server.port}`, '/pinned', new URL(proxy.url), '127.0.0.1')).toEqual({ status: 200, body: 'hello /pinned' });
		expect(proxy.tunnels).toEqual([{ host: '127.0.0.1', port: h2.server.port, auth: null }]);
		expect(h2.seen).toEqual([expect.objectContaining({ path: '/pinned', servername: HOST })]);

		const h1Answer = await h1Get(`https://${HOST}:${h1.server.port}/pinned`, new ProxiedAgent(new URL(proxy.url), '127.0.0.1'));
		expect(h1Answer.status).toBe(200);
		expect(proxy.tunnels[1]).toEqual({ host: '127.0.0.1', port: h1.server.port, auth: null });
		expect(h1.seen).toEqual([expect.objectContaining({ servername: HOST })]);
	});

	it('connectTo without a proxy: that address is dialled, the certificate checked against the host name', async () => {
		expect(await h2Get(`https://${HOST}:${h2.server.port}`, '/direct-pinned', null, '127.0.0.1')).toEqual({ status: 200, body: 'hello /direct-pinned' });
		expect(h2.seen).toEqual([expect.objectContaining({ servername: HOST })]);
		// A name the certificate does not hold fails its check, though the address is the right one.
		const error = await connectionError(connectTls({ host: 'not-in-the-cert.test', port: h2.server.port, ca: CA }, null, '127.0.0.1'));
		expect(error.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
	});

	it('proxy credentials (percent-decoded) reach the proxy as Proxy-Authorization: Basic', async () => {
		const proxy = await proxyTo(h1.server.port, { auth: 'ops@corp:p@ss:w0rd' });
		const url = new URL(proxy.url);
		url.username = encodeURIComponent('ops@corp');
		url.password = encodeURIComponent('p@ss:w0rd');
		expect((await h1Get(`https://${HOST}/auth`, new ProxiedAgent(url))).status).toBe(200);
		expect(proxy.tunnels).toEqual([{ host: HOST, port: 443, auth: 'ops@corp:p@ss:w0rd' }]);
		expect(h1.seen).toHaveLength(1);
		// Only the proxy sees them: nothing of them in the request the server got.
		expect(JSON.stringify(h1.seen[0].headers)).not.toMatch(/proxy-authorization|p@ss/i);
	});

	it.each([
		['a wrong password', 'ops:Wr0ng-Passw0rd'],
		['no credentials', null],
	])('%s: 407, ERR_PROXY_CONNECT naming host:port and the status, no credential anywhere in the error', async (_case, credentials) => {
		const proxy = await proxyTo(h1.server.port, { auth: 'ops:Rea1-Passw0rd' });
		const url = new URL(proxy.url);
		if (credentials) [url.username, url.password] = credentials.split(':');
		const error = await connectionError(connectTls({ host: HOST, port: 443, ca: CA }, url));
		expect(error).toMatchObject({ code: 'ERR_PROXY_CONNECT', statusCode: 407 });
		expect(error.message).toBe(`the proxy 127.0.0.1:${proxy.port} refused CONNECT ${HOST}:443: 407 Proxy Authentication Required`);
		const shown = everywhere(error);
		for (const secret of ['Wr0ng-Passw0rd', 'Rea1-Passw0rd', Buffer.from('ops:Wr0ng-Passw0rd').toString('base64'), 'ops:']) expect(shown).not.toContain(secret);
		expect(h1.seen).toHaveLength(0);

		// Through an https.Agent the same error fails the request.
		const viaAgent = await h1Get(`https://${HOST}/x`, new ProxiedAgent(url)).then(
			() => null,
			(e: Error & { code?: string }) => e,
		);
		expect(viaAgent).toMatchObject({ code: 'ERR_PROXY_CONNECT', statusCode: 407 });
		expect(everywhere(viaAgent!)).not.toContain('Wr0ng-Passw0rd');
		expect(h1.seen).toHaveLength(0);
	});

	it('a refused CONNECT (403): not one byte reached the server, and none was sent to the proxy before its answer', async () => {
		const server = await countingServer();
		try {
			// The proxy takes its time to answer: a client that did not wait for it would show in bytesBeforeAnswer.
			const proxy = await proxyTo(server.port, { refuse: (host) => (host === HOST ? 403 : null), delayMs: 300 });
			const error = await connectionError(connectTls({ host: HOST, port: 443, ca: CA, ALPNProtocols: ['h2'] }, new URL(proxy.url)));
			expect(error).toMatchObject({ code: 'ERR_PROXY_CONNECT', statusCode: 403, message: `the proxy 127.0.0.1:${proxy.port} refused CONNECT ${HOST}:443: 403 Forbidden` });
			expect(proxy.tunnels).toEqual([{ host: HOST, port: 443, auth: null }]);
			expect(proxy.bytesBeforeAnswer).toBe(0);
			expect(proxy.bytesTunnelled).toBe(0);
			expect(server.counts).toEqual({ connections: 0, bytes: 0 });

			// Over HTTP/2 the session fails with it, and the stream was never sent.
			const h2Error = await h2Get(`https://${HOST}`, '/refused', new URL(proxy.url)).then(
				() => null,
				(e: Error & { code?: string }) => e,
			);
			expect(h2Error).toMatchObject({ code: 'ERR_PROXY_CONNECT', statusCode: 403 });
			expect(proxy.bytesBeforeAnswer).toBe(0);
			expect(server.counts).toEqual({ connections: 0, bytes: 0 });
		} finally {
			await server.close();
		}
	});

	it('a proxy slow to answer 200: the TLS bytes are held until it does, then the request goes through', async () => {
		const proxy = await proxyTo(h2.server.port, { delayMs: 300 });
		expect(await h2Get(`https://${HOST}`, '/slow', new URL(proxy.url))).toEqual({ status: 200, body: 'hello /slow' });
		expect(proxy.bytesBeforeAnswer).toBe(0);
		expect(proxy.bytesTunnelled).toBeGreaterThan(0);
	});

	it('the proxy down (a closed port): ECONNREFUSED, the message names the proxy host:port', async () => {
		const port = await closedPort();
		const url = new URL(`http://ops:Rea1-Passw0rd@127.0.0.1:${port}`);
		const error = await connectionError(connectTls({ host: HOST, port: 443, ca: CA }, url));
		expect(error.code).toBe('ECONNREFUSED');
		expect(error.message).toContain(`the proxy 127.0.0.1:${port}`);
		expect(everywhere(error)).not.toContain('Rea1-Passw0rd');

		const h2Error = await h2Get(`https://${HOST}`, '/down', url).then(
			() => null,
			(e: Error & { code?: string }) => e,
		);
		expect(h2Error).toMatchObject({ code: 'ECONNREFUSED' });
		expect(h2Error!.message).toContain(`the proxy 127.0.0.1:${port}`);
	});

	it('a proxy that is not HTTP, or whose answer never ends within 16 KiB, or that hangs up: ERR_PROXY_CONNECT', async () => {
		const answers: Array<[string, (socket: Socket) => void, RegExp]> = [
			['not HTTP', (socket) => socket.end('SSH-2.0-OpenSSH_9.6\r\n\r\n'), /answered CONNECT .* with something that is not HTTP/],
			['endless', (socket) => socket.write(`HTTP/1.1 200 OK\r\n${'X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'.repeat(500)}`), /with a header block over 16 KiB/],
			['hangs up', (socket) => socket.end(), /closed the connection before answering CONNECT/],
		];
		for (const [, behave, message] of answers) {
			const fake = await rawServer(createNetServer(), (socket) => socket.once('data', () => behave(socket)));
			try {
				const error = await connectionError(connectTls({ host: HOST, port: 443, ca: CA }, new URL(`http://127.0.0.1:${fake.port}`)));
				expect(error.code).toBe('ERR_PROXY_CONNECT');
				expect(error.message).toMatch(message);
				expect(error.message).toContain(`the proxy 127.0.0.1:${fake.port}`);
			} finally {
				await fake.close();
			}
		}
	});

	it("a 200 answer split across packets, with headers of the proxy's: read whole, the tunnel then carries TLS", async () => {
		// A hand-written proxy that answers in three writes, the blank line cut in two.
		const fake = await rawServer(createNetServer(), (client, own) => {
			client.once('data', () => {
				client.pause(); // the CONNECT request is read; what follows is TLS, for the pipe below
				const upstream = own(
					netConnect(h1.server.port, '127.0.0.1', async () => {
						for (const part of ['HTTP/1.0 200 Connection established\r\nVia: 1.1 fake\r', '\n', '\r\n']) {
							client.write(part);
							await new Promise((done) => setTimeout(done, 20));
						}
						client.pipe(upstream).pipe(client);
					}),
				);
				upstream.on('close', () => client.destroy());
				client.on('close', () => upstream.destroy());
			});
		});
		try {
			expect(await h1Get(`https://${HOST}/split`, new ProxiedAgent(new URL(`http://127.0.0.1:${fake.port}`)))).toEqual({ status: 200, body: 'hello /split' });
		} finally {
			await fake.close();
		}
	});

	it('a tunnel the server closes before TLS is up: ERR_PROXY_CONNECT (nothing can have been sent)', async () => {
		// It reads the ClientHello and hangs up, as a server that will not talk to this client would.
		const rude = await rawServer(createNetServer(), (socket) => socket.once('data', () => socket.end()));
		try {
			const proxy = await proxyTo(rude.port);
			const error = await connectionError(connectTls({ host: HOST, port: 443, ca: CA }, new URL(proxy.url)));
			expect(error).toMatchObject({ code: 'ERR_PROXY_CONNECT', message: `the tunnel through the proxy 127.0.0.1:${proxy.port} to ${HOST}:443 closed before TLS was established` });
			expect(proxy.tunnels).toHaveLength(1);
		} finally {
			await rude.close();
		}
	});

	it('a target with a line break is not sent to the proxy at all (no header injection)', async () => {
		const proxy = await proxyTo(h1.server.port);
		const error = await connectionError(connectTls({ host: HOST, port: 443, ca: CA }, new URL(proxy.url), '127.0.0.1:443 HTTP/1.1\r\nX-Injected: 1\r\n'));
		expect(error.code).toBe('ERR_PROXY_CONNECT');
		expect(error.message).toMatch(/^not sent to the proxy 127\.0\.0\.1:\d+: the target .* is not a host$/);
		expect(proxy.tunnels).toEqual([]);
		expect(proxy.openConnections).toBe(0);
	});

	it('an https: proxy (TLS to the proxy, then TLS inside it to the server)', async () => {
		const proxy = await proxyTo(h2.server.port);
		// The proxy's TLS front, with the test certificate (it names 127.0.0.1); its CA trusted by default for this test only.
		const front = await rawServer(createTlsServer(SERVER), (socket, own) => {
			const inner = own(netConnect(proxy.port, '127.0.0.1'));
			inner.on('close', () => socket.destroy());
			socket.on('close', () => inner.destroy());
			socket.pipe(inner).pipe(socket);
		});
		const defaults = getCACertificates('default');
		setDefaultCACertificates([...defaults, CA]);
		try {
			expect(await h2Get(`https://${HOST}`, '/tls-proxy', new URL(`https://127.0.0.1:${front.port}`))).toEqual({ status: 200, body: 'hello /tls-proxy' });
			expect(proxy.tunnels).toEqual([{ host: HOST, port: 443, auth: null }]);
			expect(h2.seen).toEqual([expect.objectContaining({ path: '/tls-proxy', servername: HOST })]);
		} finally {
			setDefaultCACertificates(defaults);
			await front.close();
		}
	});

	it('destroying the socket closes the tunnel at the proxy', async () => {
		const proxy = await proxyTo(h2.server.port);
		const socket = connectTls({ host: HOST, port: 443, ca: CA, ALPNProtocols: ['h2'] }, new URL(proxy.url));
		await new Promise<void>((done, fail) => socket.once('secureConnect', () => done()).once('error', fail));
		expect(socket.alpnProtocol).toBe('h2');
		expect(proxy.openConnections).toBe(2); // the client's, and the proxy's to the server
		socket.destroy();
		// Polled without a deadline of its own: jest's timeout is the (wide) limit.
		while (proxy.openConnections > 0) await new Promise((done) => setTimeout(done, 10));
		expect(proxy.tunnels).toHaveLength(1);
	});
});
