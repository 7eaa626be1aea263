/**
 * Issue 10, items 1–3: the Web Push endpoint guard, tried as an attacker would. A register
 * webhook is public, so a subscription's endpoint is anyone's input, and Send Push connects to it.
 *
 * Nothing here leaves the machine. Names resolve through the resolver the test injects (never a
 * real one), the listener is on 127.0.0.1, and this file's network edge (tls.connect, the one
 * place every Web Push connection passes) records each connection's target — its host, port and
 * the address it resolved to — and fails locally, before any packet, any whose address is not on
 * loopback. So a test can say where the transport tried to connect, and that it tried nowhere else.
 */
import { createServer, type Server } from 'node:net';
import tls from 'node:tls';
import { isIP } from 'node:net';
import { lookup as systemLookup, type LookupAddress } from 'node:dns';
import { parse as legacyParse } from 'node:url';
import webpush from 'web-push';
import { canonicalEndpoint, PushMessage, specialPurposeRange, WebPushTransport, type DeviceView } from '../../nodes/core';
import { openTestStore, tokens, type TestStore } from '../support/stores';

const APP = 'com.example.web';
const vapid = webpush.generateVAPIDKeys();
const message = PushMessage.parse({ title: 'Hello', body: 'World' });
const keys = tokens.webpush(1).keys;
/** A globally reachable address the edge never lets a connection reach. */
const PUBLIC = '93.184.215.14';

// ------------------------------------------------------------------ the network edge

interface Attempt {
	host: string;
	port: number;
	address: string;
}
let attempts: Attempt[] = [];
const loopback = (address: string) => specialPurposeRange(address) === 'loopback' || /^::ffff:127\./.test(address);
const unreachable = (address: string) => Object.assign(new Error(`the test's network edge keeps ${address} off the network`), { code: 'EHOSTUNREACH' });

const realConnect = tls.connect;
beforeAll(() => {
	(tls as { connect: unknown }).connect = (options: tls.ConnectionOptions & { lookup?: typeof systemLookup }, callback?: () => void) => {
		const host = String(options.host ?? 'localhost');
		const port = Number(options.port);
		if (isIP(host)) {
			attempts.push({ host, port, address: host });
			if (loopback(host)) return realConnect(options, callback);
			// Never connected: a name that cannot resolve stands in for the address.
			return realConnect({ ...options, host: 'edge.invalid', lookup: (_h: string, _o: object, cb: (e: Error) => void) => cb(unreachable(host)) } as tls.ConnectionOptions, callback);
		}
		const inner = options.lookup ?? systemLookup;
		const lookup = (hostname: string, opts: object, cb: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) =>
			(inner as (h: string, o: object, c: typeof cb) => void)(hostname, opts, (err, address, family) => {
				if (err) return cb(err, address, family);
				const list = Array.isArray(address) ? address : [{ address, family: family ?? 4 }];
				for (const a of list) attempts.push({ host, port, address: a.address });
				const away = list.find((a) => !loopback(a.address));
				if (away) return cb(unreachable(away.address), '');
				cb(null, address, family);
			});
		return realConnect({ ...options, lookup } as tls.ConnectionOptions, callback);
	};
});
afterAll(() => {
	(tls as { connect: unknown }).connect = realConnect;
});

// ------------------------------------------------------------------ a listener, a resolver, a transport

let listener: Server;
let port: number;
let hellos = 0;
let t: TestStore;

beforeAll(async () => {
	listener = createServer((socket) => {
		hellos++; // a TLS ClientHello arrived: the transport connected
		socket.destroy();
	});
	await new Promise<void>((done) => listener.listen(0, '127.0.0.1', done));
	port = (listener.address() as { port: number }).port;
	t = await openTestStore('sqlite');
});
afterAll(async () => {
	await new Promise((done) => listener.close(done));
	await t.close();
});
beforeEach(() => {
	attempts = [];
	hellos = 0;
});

/** A resolver answering from a script per name (each call takes the next answer; the last one stays). */
function resolver(script: Record<string, string[][]>) {
	const calls: string[] = [];
	const resolve = async (hostname: string): Promise<LookupAddress[]> => {
		calls.push(hostname);
		const answers = script[hostname];
		if (!answers) throw Object.assign(new Error(`${hostname} is not in the test's resolver`), { code: 'ENOTFOUND' });
		const answer = answers.length > 1 ? answers.shift()! : answers[0];
		return answer.map((address) => ({ address, family: isIP(address) }));
	};
	return { resolve, calls };
}

function transport(resolve: ReturnType<typeof resolver>['resolve'], allowedPrivateHosts: string[] = []) {
	return new WebPushTransport({ subject: 'mailto:ops@example.com', publicKey: vapid.publicKey, privateKey: vapid.privateKey, allowedPrivateHosts, timeoutMs: 2000 }, { resolve });
}

const device = (token: string): DeviceView => ({
	id: 'd1',
	appId: APP,
	platform: 'web',
	provider: 'webpush',
	tokenKind: 'subscription',
	token,
	data: keys,
	deviceId: null,
	profileId: 'p1',
	foreground: true,
	pushEnabled: null,
	provisional: false,
	lastStatus: 'unused',
	consecutiveBounces: 0,
	registeredAt: new Date(0),
	lastSeenAt: new Date(0),
	lastActiveAt: null,
	timeZone: null,
	language: null,
});

async function sendOnce(tr: WebPushTransport, token: string) {
	try {
		const [delivery] = await tr.send([device(token)], [message]);
		return delivery;
	} finally {
		await tr.close();
	}
}

// ------------------------------------------------------------------ 3. the ranges

describe('special-purpose addresses (IANA registries, embedded IPv4 unwrapped)', () => {
	const refused: Array<[string, RegExp]> = [
		// from the issue: allowed before
		['::7f00:1', /IPv4-compatible 127.0.0.1: loopback/],
		['::127.0.0.1', /IPv4-compatible 127.0.0.1: loopback/],
		['::ffff:0:7f00:1', /IPv4-translated 127.0.0.1: loopback/],
		['64:ff9b::a9fe:a9fe', /NAT64 169.254.169.254: link-local/],
		['2002:7f00:1::', /6to4 127.0.0.1: loopback/],
		['fec0::1', /site-local/],
		['224.0.0.1', /multicast/],
		['239.255.255.250', /multicast/],
		['240.0.0.1', /reserved/],
		['255.255.255.255', /reserved/],
		['198.18.0.1', /benchmarking/],
		['198.19.255.255', /benchmarking/],
		['192.0.0.1', /IETF protocol assignments/],
		// the rest of the table
		['0.0.0.0', /this network/],
		['10.0.0.1', /private-use/],
		['100.64.0.1', /shared address space/],
		['127.0.0.1', /loopback/],
		['127.255.255.254', /loopback/],
		['169.254.169.254', /link-local/],
		['172.16.0.1', /private-use/],
		['172.31.255.255', /private-use/],
		['192.0.2.1', /documentation/],
		['192.88.99.1', /6to4 relay/],
		['192.168.1.1', /private-use/],
		['198.51.100.1', /documentation/],
		['203.0.113.1', /documentation/],
		['::', /unspecified/],
		['::1', /loopback/],
		['0:0:0:0:0:0:0:1', /loopback/],
		['::ffff:127.0.0.1', /IPv4-mapped 127.0.0.1: loopback/],
		['::ffff:7f00:1', /IPv4-mapped 127.0.0.1: loopback/],
		['::ffff:10.0.0.1', /IPv4-mapped 10.0.0.1: private-use/],
		['64:ff9b:1::1', /local-use IPv4\/IPv6 translation/],
		['100::1', /discard-only/],
		['2001::1', /IETF protocol assignments/],
		['2001:db8::1', /documentation/],
		['3fff::1', /documentation/],
		['5f00::1', /SRv6/],
		['fc00::1', /unique local/],
		['fd12:3456::1', /unique local/],
		['fe80::1', /link-local/],
		['fe80::1%eth0', /link-local/],
		['ff02::1', /multicast/],
		['4000::1', /outside IPv6 global unicast/],
		['2002:a9fe:a9fe::1', /6to4 169.254.169.254: link-local/],
		['64:ff9b::10.0.0.1', /NAT64 10.0.0.1: private-use/],
		['localhost', /not an IP address/],
	];
	it.each(refused)('refuses %s', (address, range) => {
		expect(specialPurposeRange(address)).toMatch(range);
	});

	const allowed = ['8.8.8.8', PUBLIC, '172.15.255.255', '172.32.0.1', '100.63.255.255', '100.128.0.1', '198.17.255.255', '198.20.0.1', '223.255.255.255', '2607:f8b0:4005:80c::200e', '2001:4860:4860::8888', '64:ff9b::808:808', '2002:808:808::1', '::ffff:8.8.8.8'];
	it.each(allowed)('allows the globally reachable %s', (address) => {
		expect(specialPurposeRange(address)).toBeNull();
	});
});

// ------------------------------------------------------------------ 1. the two URL parsers

describe('one reading of an endpoint: stored, looked up and connected to as WHATWG reads it', () => {
	// Endpoints the guard (WHATWG) and web-push (url.parse) read differently; each used to connect to this host.
	const mismatched: Array<[string, string]> = [
		['https:1.2.3.4/push', 'https://1.2.3.4/push'],
		['https://127.0.0.1%2eattacker.example/push', 'https://127.0.0.1.attacker.example/push'],
		['https://localhost%2eattacker.example/push', 'https://localhost.attacker.example/push'],
	];

	it.each(mismatched)('register and import store %s as %s, which both parsers read alike', async (raw, canonical) => {
		const registered = await t.store.register({ appId: APP, platform: 'web', token: { endpoint: raw, keys } });
		expect(registered.device?.token).toBe(canonical);
		const legacy = legacyParse(canonical);
		expect([legacy.hostname, legacy.port ?? '', legacy.path]).toEqual([new URL(canonical).hostname, new URL(canonical).port, new URL(canonical).pathname]);
		await t.store.recordOutcome({ appId: APP, token: raw, outcome: 'invalid-token', reason: 'test' });
		expect(await t.store.getDevice(APP, canonical)).toBeNull();
		const summary = await t.store.importTokens([{ appId: APP, platform: 'web', token: JSON.stringify({ endpoint: raw, keys }) }]);
		expect(summary).toMatchObject({ imported: 0, skippedDead: 1 });
	});

	it('sends https:1.2.3.4/push (stored before the fix) to 1.2.3.4, never to this host', async () => {
		const { resolve } = resolver({});
		const delivery = await sendOnce(transport(resolve), 'https:1.2.3.4/push');
		expect(attempts).toEqual([{ host: '1.2.3.4', port: 443, address: '1.2.3.4' }]);
		expect(delivery).toMatchObject({ outcome: 'retry', reason: expect.stringContaining('not sent') });
		expect(hellos).toBe(0);
	});

	it.each([
		['127.0.0.1.attacker.example', 'https://127.0.0.1%2eattacker.example:PORT/push'],
		['localhost.attacker.example', 'https://localhost%2eattacker.example:PORT/push'],
	])('resolves %s (what WHATWG reads) and refuses its loopback answer; nothing reaches the listener', async (name, raw) => {
		const { resolve, calls } = resolver({ [name]: [['127.0.0.1']] });
		const delivery = await sendOnce(transport(resolve), raw.replace('PORT', String(port)));
		expect(calls).toEqual([name]);
		expect(delivery).toMatchObject({ outcome: 'config-error', reason: `endpoint host ${name} resolves to 127.0.0.1, a special-purpose address (loopback): not posted to; allow the host in the credential to send there` });
		expect(attempts).toEqual([]);
		expect(hellos).toBe(0);
	});

	it.each(['https://user:pass@push.example.net/x', 'http://push.example.net/x', 'https://push.example.net/a b', 'https://push.example.net/\u0000', 'https://', 'ftp://push.example.net/x'])('refuses the endpoint %j at registration', async (endpoint) => {
		expect(canonicalEndpoint(endpoint)).toBeNull();
		await expect(t.store.register({ appId: APP, platform: 'web', token: { endpoint, keys } })).rejects.toThrow(/field "token.endpoint": expected an https:\/\/ endpoint URL/);
	});
});

// ------------------------------------------------------------------ 2. DNS rebinding

describe('the address connected to is the address checked', () => {
	it('a name whose first answer is public and next is 127.0.0.1 (TTL 0) never reaches 127.0.0.1', async () => {
		const { resolve, calls } = resolver({ 'rebind.attacker.example': [[PUBLIC], ['127.0.0.1']] });
		const tr = transport(resolve);
		const endpoint = `https://rebind.attacker.example:${port}/push`;
		// first push: resolved once at connect time to the public address (kept off the network by the edge: not sent)
		const first = await tr.send([device(endpoint)], [message]);
		expect(first[0]).toMatchObject({ outcome: 'retry', reason: expect.stringContaining('not sent') });
		// the retry: the name now answers 127.0.0.1, and the connection checks that answer itself
		const second = await tr.send([device(endpoint)], [message]);
		await tr.close();
		expect(second[0]).toMatchObject({ outcome: 'config-error', reason: expect.stringContaining('resolves to 127.0.0.1, a special-purpose address (loopback)') });
		expect(hellos).toBe(0);
		expect(attempts).toEqual([{ host: 'rebind.attacker.example', port, address: PUBLIC }]);
		expect(calls).toEqual(['rebind.attacker.example', 'rebind.attacker.example']); // one lookup per connection, none beside it
	});

	it('a name with a public and a private answer is refused whole', async () => {
		const { resolve } = resolver({ 'mixed.attacker.example': [[PUBLIC, '10.0.0.7']] });
		const delivery = await sendOnce(transport(resolve), `https://mixed.attacker.example:${port}/push`);
		expect(delivery).toMatchObject({ outcome: 'config-error', reason: expect.stringContaining('resolves to 10.0.0.7, a special-purpose address (private-use)') });
		expect(attempts).toEqual([]);
	});

	it.each([`https://127.0.0.1:PORT/push`, `https://[::ffff:127.0.0.1]:PORT/push`, `https://[::7f00:1]:PORT/push`, `https://2130706433:PORT/push`, `https://0x7f.1:PORT/push`])('refuses the IP literal %s without connecting', async (raw) => {
		const { resolve, calls } = resolver({});
		const delivery = await sendOnce(transport(resolve), raw.replace('PORT', String(port)));
		expect(delivery).toMatchObject({ outcome: 'config-error', reason: expect.stringMatching(/is a special-purpose address \(.*loopback\)/) });
		expect(calls).toEqual([]);
		expect(attempts).toEqual([]);
		expect(hellos).toBe(0);
	});

	it('control: a host the credential allows is connected to, and the listener sees it', async () => {
		const { resolve } = resolver({ 'push.internal.example': [['127.0.0.1']] });
		const byName = await sendOnce(transport(resolve, [`push.internal.example:${port}`]), `https://push.internal.example:${port}/push`);
		const byAddress = await sendOnce(transport(resolve, ['127.0.0.1']), `https://127.0.0.1:${port}/push`);
		// the listener hangs up on the ClientHello: the handshake never completed, so certainly not sent
		for (const d of [byName, byAddress]) expect(d).toMatchObject({ outcome: 'retry', reason: expect.stringContaining('not sent') });
		expect(hellos).toBe(2);
		expect(attempts.map((a) => a.address)).toEqual(['127.0.0.1', '127.0.0.1']);
	});
});
