/**
 * Send Push inside a real n8n: the n8n process runs firebase-admin, apns2 and web-push
 * unchanged; only where the providers' hostnames lead is replaced (test/fakes/network-edge.cjs,
 * loaded with NODE_OPTIONS), to fakes in this process that speak the real protocols.
 */
import { join } from 'node:path';
import webpush from 'web-push';
import { startFakes, type Fakes, type FakeSubscription } from '../fakes/providers';
import { tokens } from '../support/stores';
import { line, N8nHarness, node, PROVIDER_CREDENTIALS, waitFor } from './harness';

const APP = 'com.example.app';
const vapid = webpush.generateVAPIDKeys();

describe('[sqlite] Send Push in a real n8n, through the real libraries to fake providers', () => {
	let fakes: Fakes;
	let n8n: N8nHarness;
	beforeAll(async () => {
		fakes = await startFakes();
		fakes.webpush.vapidPublicKey = vapid.publicKey;
		n8n = await N8nHarness.create('sqlite', {
			NODE_OPTIONS: `--require ${join(__dirname, '../fakes/network-edge.cjs')}`,
			PUSH_TOKENS_FAKE_ROUTES: JSON.stringify(fakes.routes),
		});
		const { apns } = fakes;
		await n8n.importCredentials([
			{ ...PROVIDER_CREDENTIALS.fcmServiceAccountApi, type: 'fcmServiceAccountApi', data: { serviceAccountJson: JSON.stringify(fakes.fcm.serviceAccount) } },
			{ ...PROVIDER_CREDENTIALS.apnsApi, type: 'apnsApi', data: { teamId: apns.teamId, keyId: apns.keyId, signingKey: apns.signingKey, bundleId: apns.bundleId, environment: 'production' } },
			{
				...PROVIDER_CREDENTIALS.webPushVapidApi,
				type: 'webPushVapidApi',
				data: { subject: 'mailto:ops@example.com', publicKey: vapid.publicKey, privateKey: vapid.privateKey, allowedPrivateHosts: fakes.webpush.host },
			},
		]);
	}, 15 * 60_000);
	afterAll(async () => {
		await n8n?.dispose();
		await fakes?.close();
	});
	beforeEach(() => fakes.reset());

	it('webhook → Send Push → Handle Push Feedback: delivered on all three, the dead token removed', async () => {
		const sub: FakeSubscription = fakes.webpush.subscribe();
		for (const [platform, token] of [['android', tokens.fcm(1)], ['ios', tokens.apns(2)], ['web', sub], ['android', tokens.fcm(3)]] as const) {
			await n8n.store.register({ appId: APP, platform, token, userId: 'kim' });
		}
		fakes.fcm.on(tokens.fcm(3), { kind: 'error', status: 404, code: 'UNREGISTERED', message: 'Requested entity was not found.' });

		await n8n.importWorkflow(
			line(
				'send to a user',
				node.webhook('Order shipped', 'push/order-shipped'),
				node.sendPush('Send Push', {
					target: 'user',
					userId: '={{ $json.body.userId }}',
					title: 'Your order shipped',
					body: '={{ "Order " + $json.body.orderId + " is on its way" }}',
					customData: { pairs: [{ key: 'orderId', value: '={{ $json.body.orderId }}' }] },
				}),
				node.feedback('Handle Push Feedback'),
			),
			true,
		);
		const base = await n8n.start();
		let status = 404;
		await waitFor(
			async () => {
				status = (await fetch(`${base}/webhook/push/order-shipped`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'kim', orderId: 'A-17' }) })).status;
				return status !== 404;
			},
			60_000,
			() => `webhook never active:\n${n8n.serverLog().slice(-3000)}`,
		);
		expect(status).toBe(200);
		await waitFor(async () => (await n8n.store.getDevice(APP, tokens.fcm(3))) === null, 30_000, () => `the dead token was not removed:\n${n8n.serverLog().slice(-3000)}`);
		await n8n.stop();

		expect(fakes.fcm.countFor(tokens.fcm(1))).toBe(1);
		expect(fakes.apns.countFor(tokens.apns(2))).toBe(1);
		expect(fakes.webpush.countFor(sub.endpoint)).toBe(1);
		expect((fakes.fcm.received.find((r) => r.token === tokens.fcm(1))!.body as { message: object }).message).toMatchObject({
			notification: { title: 'Your order shipped', body: 'Order A-17 is on its way' },
			data: { orderId: 'A-17' },
		});
		expect(fakes.apns.received[0].body).toMatchObject({ aps: { alert: { title: 'Your order shipped' } }, orderId: 'A-17' });
		expect(fakes.webpush.received[0].body).toMatchObject({ title: 'Your order shipped', data: { orderId: 'A-17' } });
		expect((await n8n.store.register({ appId: APP, platform: 'android', token: tokens.fcm(3) })).action).toBe('refused');
		expect((await n8n.store.getDevice(APP, tokens.fcm(1)))!.lastStatus).toBe('sent');
	}, 300_000);

	it('a campaign to an audience of 10,000 devices sends each once and reports the summary', async () => {
		const subs = Array.from({ length: 2000 }, () => fakes.webpush.subscribe());
		const rows = [
			...Array.from({ length: 4000 }, (_, i) => ({ appId: 'campaign.app', platform: 'android', token: tokens.fcm(20_000 + i) })),
			...Array.from({ length: 4000 }, (_, i) => ({ appId: 'campaign.app', platform: 'ios', token: tokens.apns(20_000 + i) })),
			...subs.map((token) => ({ appId: 'campaign.app', platform: 'web', token })),
		];
		expect((await n8n.store.importTokens(rows)).imported).toBe(10_000);

		const out = await n8n.execute(
			line('campaign', node.manual(), node.sendPush('Campaign', { target: 'audience', appId: 'campaign.app', title: 'Sale', body: 'Everything -20%', options: { sendId: 'sale-2026-11' } })),
		);
		expect(out.of('Campaign')).toEqual([
			expect.objectContaining({
				devices: 10_000,
				delivered: 10_000,
				failed: 0,
				invalidToken: 0,
				sendId: 'sale-2026-11',
				byProvider: { fcm: { devices: 4000, delivered: 4000 }, apns: { devices: 4000, delivered: 4000 }, webpush: { devices: 2000, delivered: 2000 } },
			}),
		]);
		for (const fake of [fakes.fcm, fakes.apns, fakes.webpush]) {
			expect(new Set(fake.received.map((r) => r.token)).size).toBe(fake.received.length);
		}
		expect(fakes.fcm.received.length + fakes.apns.received.length + fakes.webpush.received.length).toBe(10_000);
	}, 600_000);
});
