/**
 * Send Push inside a real n8n: the n8n process runs firebase-admin, apns2 and web-push
 * unchanged; only where the providers' hostnames lead is replaced (test/fakes/network-edge.cjs,
 * loaded with NODE_OPTIONS), to fakes in this process that speak the real protocols.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFakes, type Fakes, type FakeSubscription } from '../fakes/providers';
import { tokens } from '../support/stores';
import { example, EXPO_ACCESS_TOKEN, line, N8nHarness, node, PROVIDER_CREDENTIALS, waitFor, type Json } from './harness';

const APP = 'com.example.app';

describe('[sqlite] Send Push in a real n8n, through the real libraries to fake providers', () => {
	let fakes: Fakes;
	let n8n: N8nHarness;
	beforeAll(async () => {
		fakes = await startFakes();
		n8n = await N8nHarness.withFakeProviders(fakes);
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
		const { status } = await n8n.postWhenLive(base, 'push/order-shipped', { userId: 'kim', orderId: 'A-17' });
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
		// tombstoned with the provider's own code, as Update Token Store and a raw webhook item would
		const dead = await n8n.store.engine.db.selectFrom('dead_tokens').select('reason').where('token', '=', tokens.fcm(3)).executeTakeFirstOrThrow();
		expect(dead.reason).toBe('UNREGISTERED');
		expect((await n8n.store.getDevice(APP, tokens.fcm(1)))!.lastStatus).toBe('sent');
	}, 300_000);

	it('FCM installation ids: Register moves a device from its registration token to its FID, Send Push sends `fid`, Handle Push Feedback removes a dead FID', async () => {
		fakes.fcm.on(tokens.fid(2), { kind: 'error', status: 404, code: 'UNREGISTERED', message: 'Requested entity was not found.' });
		const out = await n8n.execute(
			line(
				'fid',
				node.manual(),
				node.register('Register token', { appId: APP, platform: 'android', token: tokens.fcm(900), deviceId: 'pixel-1', userId: 'sam' }),
				node.register('Register FID', { appId: APP, platform: 'android', token: tokens.fid(1), deviceId: 'pixel-1' }),
				node.register('Register dead FID', { appId: APP, platform: 'android', token: tokens.fid(2), userId: 'sam', additionalFields: { tokenKind: 'fid' } }),
				node.sendPush('Send Push', { target: 'user', userId: 'sam', title: 'Hello' }),
				node.feedback('Handle Push Feedback'),
			),
		);
		expect(out.of('Register FID')[0]).toMatchObject({ action: 'registered', supersededToken: tokens.fcm(900), userId: 'sam', device: { tokenKind: 'fid' } });
		expect(fakes.fcm.received.map((r) => [r.token, r.target]).sort()).toEqual([[tokens.fid(1), 'fid'], [tokens.fid(2), 'fid']]);
		expect(out.of('Send Push').map((r) => [r.token, r.outcome, r.code ?? null]).sort()).toEqual([[tokens.fid(1), 'delivered', null], [tokens.fid(2), 'invalid-token', 'UNREGISTERED_FID']]);
		expect(await n8n.store.getDevice(APP, tokens.fid(2))).toBeNull();
		expect((await n8n.store.register({ appId: APP, platform: 'android', token: tokens.fid(2) })).action).toBe('refused');
		// the replaced registration token was not dead
		expect(await n8n.store.engine.db.selectFrom('dead_tokens').select('token').where('token', '=', tokens.fcm(900)).execute()).toEqual([]);
		const profile = await n8n.store.getProfile({ userId: 'sam' });
		expect(profile!.push_tokens.map((p) => [p.token, p.token_kind])).toEqual([[tokens.fid(1), 'fid']]);
	}, 300_000);

	it('Expo: Register (provider Expo), Send Push sends it, the receipt says DeviceNotRegistered, Check Receipts removes and tombstones it', async () => {
		const dead = 'ExponentPushToken[e2eDeadxxxxxxxxxxxxxxx]';
		const alive = 'ExpoPushToken[e2eAlivexxxxxxxxxxxxxx]';
		fakes.expo.accessToken = EXPO_ACCESS_TOKEN;
		fakes.expo.onReceipt(dead, { status: 'error', error: 'DeviceNotRegistered', message: `"${dead}" is not a registered push notification recipient` });
		const sent = await n8n.execute(
			line(
				'expo send',
				node.manual(),
				node.register('Register dead', { appId: APP, platform: 'ios', token: dead, userId: 'ana', additionalFields: { provider: 'expo' } }),
				node.register('Register alive', { appId: APP, platform: 'android', token: alive, userId: 'ana', additionalFields: { provider: 'expo' } }),
				// (receipts are awaited where outcomes are applied: Update Token Store)
				node.sendPush('Send Push', { target: 'user', userId: 'ana', title: 'Hello', body: 'from Expo', options: { updateStore: true } }),
			),
		);
		expect(sent.of('Register dead')[0]).toMatchObject({ action: 'registered', device: { provider: 'expo' } });
		// Both accepted: Expo answers for the dead token only in its receipt.
		expect(sent.of('Send Push').map((r) => [r.token, r.provider, r.outcome]).sort()).toEqual([
			[alive, 'expo', 'delivered'],
			[dead, 'expo', 'delivered'],
		]);
		expect(fakes.expo.received.map((r) => [r.token, r.headers.authorization, (r.body as Json).title]).sort()).toEqual([
			[alive, `Bearer ${EXPO_ACCESS_TOKEN}`, 'Hello'],
			[dead, `Bearer ${EXPO_ACCESS_TOKEN}`, 'Hello'],
		]);
		expect(await n8n.store.getDevice(APP, dead)).not.toBeNull();
		expect((await n8n.store.dueReceipts('expo', Number.MAX_SAFE_INTEGER, 10)).map((r) => r.token).sort()).toEqual([alive, dead].sort());

		const checked = await n8n.execute(
			line(
				'expo receipts',
				node.manual(),
				{ ...node.feedback('Check Receipts', { operation: 'checkReceipts', minAgeMinutes: 0 }), typeVersion: 3, credentials: { expoApi: PROVIDER_CREDENTIALS.expoApi } },
			),
		);
		expect(fakes.expo.receiptRequests.flat().sort()).toEqual([...fakes.expo.ticketsOf(alive), ...fakes.expo.ticketsOf(dead)].sort());
		expect(checked.of('Check Receipts', 0)).toEqual([expect.objectContaining({ appId: APP, token: dead, action: 'removed', outcome: 'invalid-token' })]);
		expect(checked.of('Check Receipts', 3)).toEqual([expect.objectContaining({ checked: 2, answered: 2, byCode: { expo: { DeviceNotRegistered: 1 } } })]);
		expect(await n8n.store.getDevice(APP, dead)).toBeNull();
		expect((await n8n.store.register({ appId: APP, platform: 'ios', token: dead, provider: 'expo' })).action).toBe('refused');
		expect((await n8n.store.getDevice(APP, alive))!.lastStatus).toBe('sent');
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

	it('the OneSignal migration example as shipped: the export imported, then the Android users pushed the way OneSignal\'s SDK shows a data message', async () => {
		copyFileSync(join(__dirname, '../../examples/onesignal-export.sample.csv'), join(n8n.folder, 'onesignal-export.csv'));
		const workflow = example('migrate-from-onesignal', n8n.folder) as Json & { nodes: Array<Json & { parameters: Json }> };
		// its own app, so the audience is the export's devices only
		for (const n of workflow.nodes) {
			if (n.name === 'Import Push Tokens') n.parameters.defaultAppId = 'migrated.app';
			if (n.name === 'Push the Android users') {
				n.parameters.appId = 'migrated.app';
				n.credentials = { ...(n.credentials as Json), ...PROVIDER_CREDENTIALS };
			}
		}
		const out = await n8n.execute(workflow);
		expect(out.of('Import Push Tokens')[0]).toMatchObject({
			source: 'OneSignal Export',
			rows: 15,
			imported: 11,
			skippedBySource: 4,
			invalid: 0,
			byPlatform: { 'android/fcm': { imported: 6 }, 'ios/apns': { imported: 4 }, 'web/webpush': { imported: 1 } },
		});
		expect(await n8n.store.getProfile({ userId: 'customer-101' })).toMatchObject({ push_tokens: [expect.anything(), expect.anything()] });
		const [campaign] = out.of('Push the Android users');
		expect(campaign).toMatchObject({ devices: 6, delivered: 6, failed: 0, sendId: 'onesignal-migration-1' });

		expect(fakes.fcm.received).toHaveLength(6);
		for (const { body } of fakes.fcm.received) {
			const { message } = body as { message: Json };
			expect(message).not.toHaveProperty('notification');
			expect(message.data).toEqual({ push_send_id: 'onesignal-migration-1', title: 'We have moved', alert: 'Update the app for the new features', custom: expect.stringMatching(/^\{"i":"migration-\d+"\}$/) });
		}
		expect(fakes.apns.received).toHaveLength(0);
	}, 300_000);

	/** The shipped retry loop, its webhook replaced by a Code node of the same name giving these bodies. */
	function retryLoop(bodies: Json[], maxAttempts: number): Json {
		const workflow = example('send-push-retry-loop', n8n.folder) as Json & { nodes: Json[]; connections: Json };
		const notify = node.items('Notify', bodies.map((body) => ({ body })));
		workflow.nodes = [
			{ id: 'loop-start', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [-220, 0], parameters: {} },
			{ id: 'loop-notify', name: 'Notify', type: notify.type, typeVersion: notify.typeVersion, position: [0, 0], parameters: notify.parameters },
			...workflow.nodes.filter((n) => n.name !== 'Notify'),
		];
		for (const n of workflow.nodes) {
			if (n.name === 'Send Push') n.credentials = { ...(n.credentials as Json), ...PROVIDER_CREDENTIALS };
			if (n.name === 'Handle Push Feedback') n.parameters = { options: { maxAttempts } };
		}
		workflow.connections = { ...workflow.connections, Start: { main: [[{ node: 'Notify', type: 'main', index: 0 }]] } };
		workflow.id = `loop${Date.now().toString(36)}`.padEnd(16, '0').slice(0, 16);
		return workflow;
	}

	it('the shipped loop Send Push → Handle Push Feedback → Retry → Wait: two 429s with Retry-After, then delivered once; a 503 forever ends on Max Attempts', async () => {
		const limited = tokens.fcm(7001);
		const down = tokens.apns(7002);
		fakes.fcm.on(limited, { kind: 'error', status: 429, code: 'QUOTA_EXCEEDED', retryAfter: 1 }, { kind: 'error', status: 429, code: 'QUOTA_EXCEEDED', retryAfter: 1 }, { kind: 'ok' });
		fakes.apns.on(down, { kind: 'error', status: 503, code: 'ServiceUnavailable' });
		await n8n.store.register({ appId: APP, platform: 'android', token: limited, userId: 'loop-user' });
		await n8n.store.register({ appId: APP, platform: 'ios', token: down, userId: 'loop-user' });
		const out = await n8n.execute(
			retryLoop(
				[
					{ appId: APP, platform: 'android', token: limited, title: 'Your code', text: '1234' },
					{ appId: APP, platform: 'ios', token: down, title: 'Your code', text: '5678' },
				],
				4,
			),
		);
		expect(fakes.fcm.countFor(limited)).toBe(3);
		expect(fakes.fcm.delivered.get(limited)).toBe(1);
		expect(fakes.apns.countFor(down)).toBe(4);
		// each lap counts on: attempts 1, 2, 3 …; the provider's Retry-After (1 s) is honoured by every wait
		const laps = out.runsOf('Send Push').flat();
		expect(laps.filter((r) => r.token === limited).map((r) => [r.attempts, r.outcome, r.code])).toEqual([
			[1, 'retry', 'QUOTA_EXCEEDED'],
			[2, 'retry', 'QUOTA_EXCEEDED'],
			[3, 'delivered', undefined],
		]);
		expect(laps.filter((r) => r.token === down).map((r) => r.attempts)).toEqual([1, 2, 3, 4]);
		expect(new Set(laps.map((r) => r.action))).toEqual(new Set(['not-applied'])); // Update Token Store off: Feedback applies them
		const retries = out.runsOf('Handle Push Feedback', 2).flat();
		for (const r of retries.filter((x) => x.token === limited)) expect(r.retryAfterSeconds).toBeGreaterThanOrEqual(1);
		const other = out.runsOf('Handle Push Feedback', 3).flat();
		expect(other.find((r) => r.token === limited)).toMatchObject({ action: 'sent', outcome: 'delivered' });
		expect(other.find((r) => r.token === down)).toMatchObject({ action: 'retries-exhausted', attempts: 4, code: 'ServiceUnavailable' });
		// the title of the first lap's item is the title of every lap
		expect(fakes.fcm.received.map((r) => (r.body as { message: { notification?: { title?: string } } }).message.notification?.title)).toEqual(['Your code', 'Your code', 'Your code']);
	}, 300_000);

	it('Retry On Fail runs the node again with the same items: no device is pushed twice', async () => {
		const [a, c] = [tokens.fcm(7101), tokens.fcm(7103)];
		const refused = tokens.apns(7102);
		fakes.apns.on(refused, { kind: 'error', status: 400, code: 'DeviceTokenNotForTopic' });
		const error = await n8n
			.execute(
				line(
					'retry on fail',
					node.manual(),
					node.items('Orders', [
						{ platform: 'android', token: a },
						{ platform: 'ios', token: refused },
						{ platform: 'android', token: c },
					]),
					{
						...node.sendPush('Send', { target: 'token', appId: APP, platform: '={{ $json.platform }}', token: '={{ $json.token }}', title: 'Shipped', options: { resendLostAnswers: true } }),
						retry: { maxTries: 3, waitBetweenTries: 10 },
					},
				),
			)
			.catch((e: Error) => e);
		expect(String(error)).toContain('DeviceTokenNotForTopic');
		expect(fakes.apns.countFor(refused)).toBe(3); // tried on each of the 3 tries: a config error reaches no device
		expect(fakes.fcm.countFor(a)).toBe(1);
		expect(fakes.fcm.countFor(c)).toBe(1);
		// Resend Lost Answers: the collapse key is made from the item's send id, so a duplicate would show once
		const keys = fakes.fcm.received.map((r) => (r.body as { message: { android?: { collapse_key?: string } } }).message.android?.collapse_key);
		expect(keys).toEqual([expect.stringMatching(/^[\w-]{32}$/), expect.stringMatching(/^[\w-]{32}$/)]);
		expect(keys[0]).not.toBe(keys[1]);
	}, 300_000);

	it('says who was left out and why: a user send reaching nobody, an audience summary; the size check follows the providers reached', async () => {
		const app = 'exclusions.app';
		const reg = (token: string, userId: string, extra: object = {}) => n8n.store.register({ appId: app, platform: 'android', token, userId, ...extra });
		await reg(tokens.fcm(7201), 'ex-unsubscribed');
		await n8n.store.setSubscription({ userId: 'ex-unsubscribed', unsubscribed: true });
		await reg(tokens.fcm(7202), 'ex-suppressed');
		for (let k = 0; k < 2; k++) await n8n.store.recordOutcome({ appId: app, token: tokens.fcm(7202), outcome: 'bounced' });
		await reg(tokens.fcm(7203), 'ex-background', { foreground: false });
		await n8n.store.register({ appId: 'other.app', platform: 'android', token: tokens.fcm(7204), userId: 'ex-other-app' });
		await reg(tokens.fcm(7205), 'ex-reached');
		await n8n.store.importTokens([{ appId: app, platform: 'android', token: tokens.fcm(7206) }], { anonymousOnly: true });
		await n8n.store.register({ appId: app, platform: 'android', token: tokens.fcm(7207) }); // anonymous

		const users = ['ex-unsubscribed', 'ex-suppressed', 'ex-background', 'ex-other-app', 'ex-reached', 'ex-nobody'];
		const out = await n8n.execute(
			line('exclusions', node.manual(), node.items('Users', users.map((userId) => ({ userId }))), { ...node.sendPush('Send', { target: 'user', userId: '={{ $json.userId }}', appId: app, title: 'Hi' }), continueOnFail: true }),
		);
		const byUser = Object.fromEntries(out.of('Send').map((r, i) => [r.userId ?? users[i], r]));
		expect(byUser['ex-unsubscribed']).toMatchObject({ sent: 0, excluded: { unsubscribed: 1 }, reason: expect.stringContaining('1 device of an unsubscribed user, and the push is not transactional') });
		expect(byUser['ex-suppressed']).toMatchObject({ sent: 0, excluded: { suppressed: 1 }, reason: expect.stringContaining('suppressed') });
		expect(byUser['ex-background']).toMatchObject({ sent: 0, excluded: { backgroundOnly: 1 }, reason: expect.stringContaining('background pushes only, and this push is visible') });
		expect(byUser['ex-other-app']).toMatchObject({ sent: 0, excluded: {}, reason: `the user has no device for app "${app}"` });
		expect(byUser['ex-reached']).toMatchObject({ outcome: 'delivered' });
		expect(out.of('Send')[5]).toMatchObject({ error: expect.stringContaining('no profile with user id "ex-nobody"') });

		// an Android-only campaign of 4,000 bytes: over Web Push's 3,993, within FCM's 4,096 — and a VAPID credential on the node
		const campaign = await n8n.execute(line('exclusions campaign', node.manual(), node.sendPush('Campaign', { target: 'audience', appId: app, title: 'Sale', body: 'x'.repeat(3960) })));
		expect(campaign.of('Campaign')[0]).toMatchObject({ devices: 2, delivered: 2, excluded: { unsubscribed: 1, suppressed: 1, backgroundOnly: 1, anonymous: 1, imported: 0 } });
	}, 300_000);
});
