/**
 * Expo through the real expo-server-sdk to the fake Expo push service (test/fakes/providers.ts)
 * on 127.0.0.1: only the network edge (where exp.host leads) is replaced.
 */
import '../fakes/network-edge.cjs';
import { createServer } from 'node:net';
import type { DeviceView } from '../../nodes/core/model';
import { MessageBase } from '../../nodes/core/payload/base';
import { ExpoTransport } from '../../nodes/core/providers/expo';
import { ExpoOptions, type ExpoMessageInput } from '../../nodes/core/providers/expo/payload';
import { ConnectProxy } from '../fakes/connect-proxy';
import { startFakes, type Fakes } from '../fakes/providers';

let fakes: Fakes;
const transports: ExpoTransport[] = [];
/** A transport that retries a 429 after 1 ms (the SDK's own wait is a second, then two). */
const transport = (config: object = {}, env?: NodeJS.ProcessEnv) => {
	const t = new ExpoTransport({ retryMinTimeoutMs: 1, ...config }, env ? { env } : {});
	transports.push(t);
	return t;
};
const token = (n: number) => `ExponentPushToken[${String(n).padStart(22, 'x')}]`;
const device = (t: string) => ({ id: t, appId: 'com.example.app', platform: 'ios', provider: 'expo', token: t, tokenKind: 'push-token' }) as unknown as DeviceView;
const message = (fields: object = {}, expo: object = {}): ExpoMessageInput => ({ ...MessageBase.parse({ title: 'Hello', body: 'World', ...fields }), expo: ExpoOptions.parse(expo) });
const send = (tr: ExpoTransport, tokens: string[], m = message()) =>
	tr.send(
		tokens.map(device),
		tokens.map(() => m),
	);

beforeAll(async () => {
	fakes = await startFakes();
	process.env.PUSH_TOKENS_FAKE_ROUTES = JSON.stringify(fakes.routes);
});
afterAll(async () => {
	await Promise.all(transports.map((t) => t.close()));
	await fakes.close();
});
beforeEach(() => fakes.reset());

describe('Expo through expo-server-sdk to the fake Expo service', () => {
	it('delivers: the message in Expo’s fields, the ticket id kept', async () => {
		const [delivery] = await send(transport(), [token(1)], message({ subtitle: 'Sub', sound: 'default', badge: 2, data: { order: 7 }, deepLink: 'app://o/7' }, { channelId: 'news', ttlSeconds: 60, priority: 'high', categoryId: 'reply', interruptionLevel: 'time-sensitive' }));
		expect(delivery).toMatchObject({ outcome: 'delivered', reason: 'accepted' });
		expect(fakes.expo.tickets.get(delivery.messageId!)).toMatchObject({ token: token(1) });
		expect(fakes.expo.received[0].body).toEqual({
			to: token(1),
			title: 'Hello',
			subtitle: 'Sub',
			body: 'World',
			sound: 'default',
			badge: 2,
			data: { order: 7, deep_link: 'app://o/7' },
			ttl: 60,
			priority: 'high',
			channelId: 'news',
			categoryId: 'reply',
			interruptionLevel: 'time-sensitive',
		});
		expect(fakes.expo.received[0].headers.authorization).toBeUndefined();
	});

	it('a silent push is data only, with _contentAvailable; an image goes in richContent with mutableContent', async () => {
		await send(transport(), [token(1)], message({ silent: true, data: { sync: true } }));
		expect(fakes.expo.received[0].body).toEqual({ to: token(1), _contentAvailable: true, data: { sync: true } });
		await send(transport(), [token(2)], message({ imageUrl: 'https://example.com/a.png' }));
		expect(fakes.expo.received[1].body).toMatchObject({ richContent: { image: 'https://example.com/a.png' }, mutableContent: true });
	});

	it('sends the access token as a bearer token; a wrong one is the credential’s error for every device of the request', async () => {
		fakes.expo.accessToken = 'secret-access-token';
		expect((await send(transport({ accessToken: 'secret-access-token' }), [token(1)]))[0].outcome).toBe('delivered');
		expect(fakes.expo.received[0].headers.authorization).toBe('Bearer secret-access-token');
		const refused = await send(transport({ accessToken: 'wrong' }), [token(2), token(3)]);
		expect(refused.map((d) => [d.outcome, d.code, d.statusCode])).toEqual([
			['config-error', 'UNAUTHORIZED', 401],
			['config-error', 'UNAUTHORIZED', 401],
		]);
		expect(refused[0].reason).toMatch(/^UNAUTHORIZED: .*access token/);
		expect(JSON.stringify(refused)).not.toContain('wrong');
	});

	it('classifies each ticket error by the answer table, per device', async () => {
		const codes = ['DeviceNotRegistered', 'MessageRateExceeded', 'MessageTooBig', 'InvalidCredentials', 'MismatchSenderId', 'DeveloperError', 'ProviderError', 'SomethingNew'];
		codes.forEach((code, i) => fakes.expo.on(token(i), { kind: 'error', status: 200, code, message: `${code} happened` }));
		const deliveries = await send(transport(), [...codes.map((_, i) => token(i)), token(99)]);
		expect(deliveries.map((d) => [d.code ?? null, d.outcome])).toEqual([
			['DeviceNotRegistered', 'invalid-token'],
			['MessageRateExceeded', 'retry'],
			['MessageTooBig', 'config-error'],
			['InvalidCredentials', 'config-error'],
			['MismatchSenderId', 'config-error'],
			['DeveloperError', 'config-error'],
			['ProviderError', 'retry'],
			// An answer no table knows is transient: a token is never removed on a guess.
			['SomethingNew', 'retry'],
			[null, 'delivered'],
		]);
		expect(deliveries[3].reason).toBe('InvalidCredentials: InvalidCredentials happened');
		expect(deliveries[0].reason).toBe('DeviceNotRegistered');
	});

	it('a token Expo does not know and a message over 4096 bytes are answered by Expo’s own checks', async () => {
		const [unknown] = await send(transport(), ['ExponentPushToken[]x']);
		expect(unknown.outcome).toBe('invalid-token');
		const [big] = await send(transport(), [token(1)], message({ body: 'x'.repeat(3990), data: { more: 'y'.repeat(200) } }));
		expect([big.outcome, big.code]).toEqual(['config-error', 'MessageTooBig']);
	});

	it('sends 250 devices in 3 requests of at most 100, each answer to its own device', async () => {
		const tokens = Array.from({ length: 250 }, (_, i) => token(i));
		fakes.expo.on(token(150), { kind: 'error', status: 200, code: 'DeviceNotRegistered' });
		const deliveries = await send(transport(), tokens);
		expect([...fakes.expo.sendRequests].sort((a, b) => b - a)).toEqual([100, 100, 50]);
		expect(deliveries).toHaveLength(250);
		deliveries.forEach((d, i) => {
			expect(d.outcome).toBe(i === 150 ? 'invalid-token' : 'delivered');
			if (i !== 150) expect(fakes.expo.tickets.get(d.messageId!)?.token).toBe(tokens[i]);
		});
		// (a request over 1 KB goes gzipped, as the SDK sends it)
		expect(fakes.expo.received.every((r) => r.headers['content-encoding'] === 'gzip')).toBe(true);
	});

	it('a request Expo answers 429 is sent again by the SDK, then answered retry; a 500 is retry', async () => {
		fakes.expo.on(token(1), { kind: 'error', status: 429, code: 'TOO_MANY_REQUESTS' });
		const [limited] = await send(transport(), [token(1)]);
		expect([limited.outcome, limited.code, limited.statusCode]).toEqual(['retry', 'TOO_MANY_REQUESTS', 429]);
		expect(fakes.expo.sendRequests).toHaveLength(3);
		fakes.expo.on(token(2), { kind: 'error', status: 500, code: 'INTERNAL_SERVER_ERROR' });
		expect((await send(transport(), [token(2)]))[0].outcome).toBe('retry');
	});

	it('a receipt later says DeviceNotRegistered; a receipt not ready yet is left out', async () => {
		fakes.expo.onReceipt(token(1), { status: 'error', error: 'DeviceNotRegistered', message: 'gone' });
		const tr = transport();
		const [dead, alive] = await send(tr, [token(1), token(2)]);
		expect([dead.outcome, alive.outcome]).toEqual(['delivered', 'delivered']);
		fakes.expo.receiptsReady = false;
		expect((await tr.receipts.check([dead.messageId!, alive.messageId!])).size).toBe(0);
		fakes.expo.receiptsReady = true;
		const receipts = await tr.receipts.check([dead.messageId!, alive.messageId!, 'no-such-ticket']);
		expect(receipts.get(dead.messageId!)).toMatchObject({ outcome: 'invalid-token', code: 'DeviceNotRegistered' });
		expect(receipts.get(alive.messageId!)).toMatchObject({ outcome: 'delivered' });
		expect(receipts.has('no-such-ticket')).toBe(false);
	});

	it('asks for receipts in requests of at most 300 ids (the SDK’s chunks)', async () => {
		const tr = transport();
		const ids = Array.from({ length: 650 }, (_, i) => `id-${i}`);
		expect((await tr.receipts.check(ids)).size).toBe(0);
		expect(fakes.expo.receiptRequests.map((r) => r.length)).toEqual([300, 300, 50]);
	});

	it('receipts Expo refuses to give throw, naming why (the receipts stay to be asked again)', async () => {
		fakes.expo.accessToken = 'secret-access-token';
		await expect(transport().receipts.check(['a'])).rejects.toThrow(/Expo receipts could not be fetched: UNAUTHORIZED/);
	});

	it('a connection lost after the request went out: delivery unknown, not resent', async () => {
		fakes.expo.on(token(1), { kind: 'reset' });
		const [lost] = await send(transport(), [token(1)]);
		expect(lost).toMatchObject({ outcome: 'retry', deliveryUnknown: true });
		expect(lost.reason).toMatch(/delivery unknown/);
	});

	it('no connection at all: certainly not sent, safe to retry', async () => {
		const closed = createServer();
		await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
		const port = (closed.address() as { port: number }).port;
		await new Promise((done) => closed.close(done));
		const routes = process.env.PUSH_TOKENS_FAKE_ROUTES;
		process.env.PUSH_TOKENS_FAKE_ROUTES = JSON.stringify({ ...fakes.routes, 'exp.host': `127.0.0.1:${port}` });
		try {
			const [refused] = await send(transport(), [token(1)]);
			expect(refused.outcome).toBe('retry');
			expect(refused.deliveryUnknown).toBeUndefined();
			expect(refused.reason).toMatch(/^not sent \(safe to retry\): .*ECONNREFUSED/);
		} finally {
			process.env.PUSH_TOKENS_FAKE_ROUTES = routes;
		}
	});

	it('an answer slower than the request timeout is delivery unknown', async () => {
		fakes.expo.on(token(1), { kind: 'slow', ms: 1500 });
		const [slow] = await send(transport({ requestTimeoutMs: 300 }), [token(1)]);
		expect(slow).toMatchObject({ outcome: 'retry', deliveryUnknown: true });
	});

	it('goes through HTTPS_PROXY, as the other providers do', async () => {
		const proxy = await new ConnectProxy({ routes: fakes.routes }).listen();
		try {
			const [delivery] = await send(transport({}, { HTTPS_PROXY: proxy.url }), [token(1)]);
			expect(delivery.outcome).toBe('delivered');
			expect(proxy.tunnels.map((t) => `${t.host}:${t.port}`)).toEqual(['exp.host:443']);
		} finally {
			await proxy.close();
		}
	});
});
