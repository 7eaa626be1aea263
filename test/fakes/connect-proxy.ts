/**
 * A real HTTP CONNECT proxy on 127.0.0.1, for the tests of egress through a proxy. It answers
 * CONNECT only (anything else 405), records every target it was asked for, and connects to
 * `routes[host]` when the host is routed (the shape of PUSH_TOKENS_FAKE_ROUTES, so provider
 * hostnames lead to the fakes), else to host:port itself; then it relays bytes both ways.
 *
 * It also counts what a client sent after its CONNECT request and before the answer
 * (`bytesBeforeAnswer`): a client that waits for the 200, as it must, sends none. `delayMs` holds
 * every answer back that long, to give an impatient client time to show itself.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export interface ConnectProxyOptions {
	/** host → '127.0.0.1:PORT': where a CONNECT to that host (any port) really goes. */
	routes?: Record<string, string>;
	/** 'user:pass' the client must send as Proxy-Authorization: Basic, else 407. */
	auth?: string;
	/** A status to answer instead of connecting (403, 502…), or null to connect. */
	refuse?: (host: string, port: number) => number | null;
	/** How long every CONNECT waits for its answer. */
	delayMs?: number;
}

export interface Tunnel {
	host: string;
	port: number;
	/** The decoded Basic credentials sent ('user:pass'), or null. */
	auth: string | null;
}

/** host and port of a CONNECT request's authority form (IPv6 in brackets). */
function target(url: string): { host: string; port: number } | null {
	const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d+)$/.exec(url);
	return match ? { host: (match[1] ?? match[2]).toLowerCase(), port: Number(match[3]) } : null;
}

function basicAuth(header: string | undefined): string | null {
	const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
	return match ? Buffer.from(match[1], 'base64').toString('utf8') : null;
}

export class ConnectProxy {
	readonly tunnels: Tunnel[] = [];
	/** Bytes relayed client → server. */
	bytesTunnelled = 0;
	/** Bytes clients sent after their CONNECT request, before the proxy answered it. */
	bytesBeforeAnswer = 0;
	private readonly server: Server;
	private readonly sockets = new Set<Socket | Duplex>();

	constructor(private readonly options: ConnectProxyOptions = {}) {
		this.server = createServer((_request, response) => {
			response.writeHead(405, { allow: 'CONNECT', connection: 'close' }).end();
		});
		this.server.on('connect', (request: IncomingMessage, client: Duplex, head: Buffer) => this.tunnel(request, client, head));
		this.server.on('connection', (socket: Socket) => {
			this.sockets.add(socket);
			socket.on('close', () => this.sockets.delete(socket));
		});
	}

	get port(): number {
		return (this.server.address() as AddressInfo).port;
	}

	/** Connections open now: clients', and the proxy's own to the servers it tunnels to. */
	get openConnections(): number {
		return this.sockets.size;
	}

	get url(): string {
		return `http://127.0.0.1:${this.port}`;
	}

	listen(): Promise<this> {
		return new Promise((done, fail) => {
			this.server.once('error', fail);
			this.server.listen(0, '127.0.0.1', () => done(this));
		});
	}

	private tunnel(request: IncomingMessage, client: Duplex, head: Buffer): void {
		client.on('error', () => undefined);
		// What a client sends before the answer is kept (and counted): relayed after a 200, dropped after a refusal.
		const early: Buffer[] = head.length > 0 ? [head] : [];
		const hold = (chunk: Buffer) => early.push(chunk);
		client.on('data', hold);
		const answer = (status: number, extra = '') => {
			client.off('data', hold);
			this.bytesBeforeAnswer += early.reduce((n, chunk) => n + chunk.length, 0);
			client.write(`HTTP/1.1 ${status} ${status === 200 ? 'Connection Established' : STATUS_CODES[status]}\r\n${extra}\r\n`);
		};
		const refuse = (status: number, extra = '') => {
			answer(status, `${extra}Content-Length: 0\r\nConnection: close\r\n`);
			client.end();
		};

		const asked = target(request.url ?? '');
		const auth = basicAuth(request.headers['proxy-authorization']);
		if (asked) this.tunnels.push({ ...asked, auth });

		setTimeout(() => {
			if (client.destroyed) return;
			if (!asked) return refuse(400);
			if (this.options.auth !== undefined && auth !== this.options.auth) return refuse(407, 'Proxy-Authenticate: Basic realm="test proxy"\r\n');
			const status = this.options.refuse?.(asked.host, asked.port);
			if (status) return refuse(status);
			const route = this.options.routes?.[asked.host];
			const split = route ? route.lastIndexOf(':') : -1;
			const upstream = route ? connect({ host: route.slice(0, split), port: Number(route.slice(split + 1)) }) : connect({ host: asked.host, port: asked.port });
			let connected = false;
			this.sockets.add(upstream);
			upstream.on('error', () => (connected ? client.destroy() : refuse(502)));
			// One side gone: the other is ended once what it still has to write is flushed, not cut.
			upstream.on('close', () => {
				this.sockets.delete(upstream);
				if (connected) (client as Socket).destroySoon();
			});
			client.on('close', () => upstream.destroySoon());
			upstream.on('connect', () => {
				connected = true;
				answer(200);
				for (const chunk of early) upstream.write(chunk);
				this.bytesTunnelled += early.reduce((n, chunk) => n + chunk.length, 0);
				client.on('data', (chunk: Buffer) => (this.bytesTunnelled += chunk.length));
				client.pipe(upstream).pipe(client);
			});
		}, this.options.delayMs ?? 0);
	}

	/** Stops listening and destroys every connection and open tunnel. */
	close(): Promise<void> {
		for (const socket of this.sockets) socket.destroy();
		return new Promise((done) => this.server.close(() => done()));
	}
}
