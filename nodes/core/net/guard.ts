/**
 * The check of every address the server connects to on a user's behalf (a Web Push endpoint
 * comes from whoever can call the register webhook). It runs at connect time, in the agent:
 * a name is resolved once, every address it resolves to is checked, and the socket connects to
 * those checked addresses — a second lookup that could answer differently (DNS rebinding) never
 * happens. An IP literal is checked as it is. Through an HTTPS_PROXY the same holds: the name is
 * resolved and checked here, and the tunnel asked for is to the checked address, never the name
 * (the proxy would resolve it again).
 */
import { lookup as systemLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import type { ClientRequestArgs } from 'node:http';
import { Agent, type AgentOptions } from 'node:https';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { Duplex } from 'node:stream';
import { specialPurposeRange } from './addresses';
import { connectTls, proxyFor } from './proxy';

/** Resolves a name to all its addresses (dns.lookup's shape); tests inject their own. */
export type Resolve = (hostname: string) => Promise<LookupAddress[]>;

const resolveWithSystem: Resolve = (hostname) =>
	new Promise((done, fail) => systemLookup(hostname, { all: true }, (error, addresses) => (error ? fail(error) : done(addresses))));

/** The error of a connection refused by the guard: the request never left. */
export const REFUSED_ADDRESS = 'ERR_PUSH_TOKENS_REFUSED_ADDRESS';

function refusal(host: string, range: string, resolved?: string): Error {
	const what = resolved ? `resolves to ${resolved},` : 'is';
	return Object.assign(new Error(`endpoint host ${host} ${what} a special-purpose address (${range}): not posted to; allow the host in the credential to send there`), { code: REFUSED_ADDRESS });
}

export interface GuardOptions {
	/** Hosts (name or IP, optionally `:port`) that may be private: test servers, an internal push service. */
	allowedHosts?: string[];
	resolve?: Resolve;
	/** Where HTTPS_PROXY and NO_PROXY are read. */
	env?: NodeJS.ProcessEnv;
}

/** An https agent that connects only to globally reachable addresses, or to the allowed hosts. */
export class GuardedAgent extends Agent {
	private readonly allowed: Set<string>;
	private readonly resolve: Resolve;
	private readonly env: NodeJS.ProcessEnv;

	constructor(guard: GuardOptions, options: AgentOptions = {}) {
		super({ keepAlive: true, ...options });
		this.allowed = new Set((guard.allowedHosts ?? []).map((h) => h.toLowerCase()));
		this.resolve = guard.resolve ?? resolveWithSystem;
		this.env = guard.env ?? process.env;
	}

	override createConnection(options: ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
		const host = String(options.hostname ?? options.host ?? 'localhost').replace(/^\[|\]$/g, '').toLowerCase();
		const port = Number(options.port ?? 443);
		const shown = isIP(host) === 6 ? `[${host}]` : host;
		const allowed = this.allowed.has(shown) || this.allowed.has(`${shown}:${port}`);
		const range = isIP(host) && !allowed ? specialPurposeRange(host) : null;
		if (range) {
			callback?.(refusal(shown, range), undefined as unknown as Duplex);
			return undefined;
		}
		let proxy: URL | null;
		try {
			proxy = proxyFor(host, port, this.env);
		} catch (error) {
			callback?.(error as Error, undefined as unknown as Duplex);
			return undefined;
		}
		if (proxy) {
			const tunnel = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[]) => {
				if (error) return callback?.(error, undefined as unknown as Duplex);
				callback?.(null, connectTls({ ...(options as ConnectionOptions), host, port, servername: isIP(host) ? undefined : host }, proxy, address as string));
			};
			if (isIP(host)) tunnel(null, host);
			else this.lookup(shown, !allowed)(host, {}, tunnel);
			return undefined;
		}
		return super.createConnection({ ...options, lookup: this.lookup(shown, !allowed) } as ClientRequestArgs, callback);
	}

	/** net.connect's lookup (unused for an IP literal): one resolution, every address checked, the checked ones connected to. */
	private lookup(shown: string, check: boolean) {
		return (hostname: string, options: LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
			this.resolve(hostname).then(
				(addresses) => {
					for (const { address } of check ? addresses : []) {
						const range = specialPurposeRange(address);
						if (range) return callback(refusal(shown, range, address), '');
					}
					const usable = options.family ? addresses.filter((a) => a.family === options.family) : addresses;
					if (usable.length === 0) return callback(Object.assign(new Error(`endpoint host ${shown} does not resolve`), { code: 'ENOTFOUND' }), '');
					if (options.all) callback(null, usable);
					else callback(null, usable[0].address, usable[0].family);
				},
				(error: NodeJS.ErrnoException) => callback(error, ''),
			);
		};
	}
}
