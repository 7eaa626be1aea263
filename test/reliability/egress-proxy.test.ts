/**
 * Egress through an HTTPS_PROXY: FCM (and its OAuth exchange), APNs and Web Push, through the
 * real libraries, tunnelled by a real CONNECT proxy on 127.0.0.1 that records what it carried;
 * the SSRF guard still decides which Web Push endpoints are connected to.
 */
import '../fakes/network-edge.cjs';
import webpush from 'web-push';
import { ApnsTransport, FcmTransport, PushMessage, Sender, WebPushTransport, type Transport } from '../../nodes/core';
import { ConnectProxy } from '../fakes/connect-proxy';
import { startFakes, type Fakes } from '../fakes/providers';
import { openTestStore, tokens, type TestStore } from '../support/stores';

const APP = 'com.example.app';
const vapid = webpush.generateVAPIDKeys();
const message = PushMessage.parse({ title: 'Hello' });
let fakes: Fakes;
let t: TestStore;
const open: Transport[] = [];

beforeAll(async () => {
	fakes = await startFakes();
	process.env.PUSH_TOKENS_FAKE_ROUTES = JSON.stringify(fakes.routes);
	fakes.webpush.vapidPublicKey = vapid.publicKey;
	t = await openTestStore('sqlite');
});
/** Closes the test's transports, then the proxy. */
async function done(p: ConnectProxy) {
	await Promise.all(open.splice(0).map((x) => x.close()));
	await p.close();
}
afterAll(async () => {
	await t.close();
	await fakes.close();
});
beforeEach(() => fakes.reset());

/** A proxy that tunnels to the fakes (a CONNECT to the fake Web Push's address goes to its port). */
async function proxy(options: ConstructorParameters<typeof ConnectProxy>[0] = {}) {
	const p = await new ConnectProxy({ routes: { ...fakes.routes, '127.0.0.1': `127.0.0.1:${fakes.webpush.port}` }, ...options }).listen();
	return p;
}
const transports = (env: NodeJS.ProcessEnv) => {
	const sa = fakes.fcm.serviceAccount;
	const made = {
		fcm: new FcmTransport({ projectId: sa.project_id, clientEmail: sa.client_email, privateKey: sa.private_key }, { env }),
		apns: new ApnsTransport({ teamId: fakes.apns.teamId, keyId: fakes.apns.keyId, signingKey: fakes.apns.signingKey, bundleId: fakes.apns.bundleId }, { env }),
		webpush: new WebPushTransport(
			{ subject: 'mailto:ops@example.com', publicKey: vapid.publicKey, privateKey: vapid.privateKey, allowedPrivateHosts: [fakes.webpush.host] },
			// the fake's name resolves to where it listens (the guard resolves it, then asks the proxy for that address)
			{ env, resolve: async (host) => (host === fakes.webpush.host ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '10.0.0.5', family: 4 }]) },
		),
	};
	open.push(...Object.values(made));
	return made;
};
let users = 0;
/** A new user's three devices, one per provider. */
const devices = async (sub: ReturnType<Fakes['webpush']['subscribe']>) => {
	const userId = `user-${++users}`;
	await t.store.register({ appId: APP, platform: 'android', token: tokens.fcm(users), userId });
	await t.store.register({ appId: APP, platform: 'ios', token: tokens.apns(users), userId });
	await t.store.register({ appId: APP, platform: 'web', token: sub, userId });
	return (await t.store.devicesOfUsers([userId], { appId: APP })).get(userId)!;
};

it('FCM, its OAuth exchange, APNs and Web Push all go through the proxy: HTTP/2 inside the tunnel, delivered once each', async () => {
	const p = await proxy({ auth: 'ops:s3cret' });
	try {
		const sub = fakes.webpush.subscribe();
		const results = await new Sender(t.store, transports({ HTTPS_PROXY: `http://ops:s3cret@127.0.0.1:${p.port}` })).send(await devices(sub), message);
		expect(results.map((r) => [r.provider, r.outcome])).toEqual(expect.arrayContaining([['fcm', 'delivered'], ['apns', 'delivered'], ['webpush', 'delivered']]));
		expect(new Set(p.tunnels.map((x) => `${x.host}:${x.port}`))).toEqual(new Set(['oauth2.googleapis.com:443', 'fcm.googleapis.com:443', 'api.push.apple.com:443', '127.0.0.1:443']));
		expect(p.tunnels.every((x) => x.auth === 'ops:s3cret')).toBe(true);
		expect([fakes.fcm.received.length, fakes.apns.received.length, fakes.webpush.countFor(sub.endpoint)]).toEqual([1, 1, 1]);
	} finally {
		await done(p);
	}
});

it('NO_PROXY: the hosts it names are reached directly', async () => {
	const p = await proxy();
	try {
		const sub = fakes.webpush.subscribe();
		const results = await new Sender(t.store, transports({ HTTPS_PROXY: p.url, NO_PROXY: 'googleapis.com, push.apple.com' })).send(await devices(sub), message);
		expect(results.every((r) => r.outcome === 'delivered')).toBe(true);
		expect(p.tunnels.map((x) => x.host)).toEqual(['127.0.0.1']);
	} finally {
		await done(p);
	}
});

it('the SSRF guard still applies behind the proxy: a private endpoint is refused before any CONNECT; a public one is tunnelled to its checked address, not its name', async () => {
	const p = await proxy({ refuse: () => 502 });
	try {
		const web = transports({ HTTPS_PROXY: p.url }).webpush;
		const device = (endpoint: string) => ({ ...fakes.webpush.subscribe(), endpoint });
		const [internal] = await new Sender(t.store, { webpush: web }).send([{ ...(await t.store.register({ appId: APP, platform: 'web', token: device('https://internal.example/push/1') })).device! }], message, { maxAttempts: 1 });
		expect(internal).toMatchObject({ outcome: 'config-error', reason: expect.stringContaining('internal.example resolves to 10.0.0.5') });
		expect(p.tunnels).toEqual([]);

		const publicWeb = new WebPushTransport({ subject: 'mailto:ops@example.com', publicKey: vapid.publicKey, privateKey: vapid.privateKey }, { env: { HTTPS_PROXY: p.url }, resolve: async () => [{ address: '93.184.216.34', family: 4 }] });
		open.push(publicWeb);
		const [refused] = await new Sender(t.store, { webpush: publicWeb }).send([(await t.store.register({ appId: APP, platform: 'web', token: device('https://push.example.org/push/2') })).device!], message, { maxAttempts: 1 });
		expect(p.tunnels.map((x) => `${x.host}:${x.port}`)).toEqual(['93.184.216.34:443']);
		// refused by the proxy: certainly not sent, so a transient failure, not "delivery unknown"
		expect(refused).toMatchObject({ outcome: 'retry', reason: expect.stringMatching(/^not sent \(safe to retry\): .*refused CONNECT .*502/) });
		expect(refused.deliveryUnknown).toBeUndefined();
	} finally {
		await done(p);
	}
});

it('a proxy that refuses the credentials: nothing is sent, every device fails as not sent, and the password is nowhere in the results', async () => {
	const p = await proxy({ auth: 'ops:right' });
	try {
		const sub = fakes.webpush.subscribe();
		const results = await new Sender(t.store, transports({ HTTPS_PROXY: `http://ops:wrong-secret@127.0.0.1:${p.port}` })).send(await devices(sub), message, { maxAttempts: 1 });
		expect(results.map((r) => r.outcome)).toEqual(['retry', 'retry', 'retry']);
		expect(results.some((r) => r.deliveryUnknown)).toBe(false);
		expect(JSON.stringify(results)).not.toContain('wrong-secret');
		expect(fakes.fcm.received.length + fakes.apns.received.length + fakes.webpush.received.length).toBe(0);
	} finally {
		await done(p);
	}
});
