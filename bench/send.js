// Send throughput per provider: the Send Push path (audience streamed from the store, payload
// built, outcomes recorded) vs the bare library loop (firebase-admin sendEach, apns2 sendMany,
// web-push sendNotification) against the same fake, which runs in a separate process.
//   node bench/send.js [FCM devices] [APNs devices] [Web Push devices]
require('../test/fakes/network-edge.cjs');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { ApnsClient, Notification } = require('apns2');
const { initializeApp, cert, deleteApp } = require('firebase-admin/app');
const { getMessaging } = require('firebase-admin/messaging');
const webpush = require('web-push');
const { TokenStore, Sender, PushMessage, FcmTransport, ApnsTransport, WebPushTransport } = require('../dist/nodes/core');
const { report, timed } = require('./report');
const { startFakeProcess } = require('./fake-server');

const [FCM_N, APNS_N, WEB_N] = [Number(process.argv[2] ?? 20_000), Number(process.argv[3] ?? 20_000), Number(process.argv[4] ?? 3_000)];
const APP = 'bench.app';
const vapid = webpush.generateVAPIDKeys();
const message = PushMessage.parse({ title: 'Sale', body: 'Everything -20%', data: { campaign: 'bench' } });

async function main() {
	const fake = await startFakeProcess();
	const { config } = fake;
	const subscriptions = await fake.subscribe(WEB_N);
	const dir = mkdtempSync(join(tmpdir(), 'push-tokens-bench-'));
	const rows = [];
	try {
		const cases = [
			{
				provider: 'fcm',
				n: FCM_N,
				target: 0.85,
				token: (i) => `fcm-${i}:APA91b${'x'.repeat(140)}`,
				platform: 'android',
				transport: () => new FcmTransport({ projectId: config.fcm.project_id, clientEmail: config.fcm.client_email, privateKey: config.fcm.private_key }),
				bare: async (tokens) => {
					const app = initializeApp({ credential: cert(config.fcm), projectId: config.fcm.project_id }, `bare-${Date.now()}`);
					for (let i = 0; i < tokens.length; i += 500) {
						await getMessaging(app).sendEach(tokens.slice(i, i + 500).map((token) => ({ token, notification: { title: 'Sale', body: 'Everything -20%' }, data: { campaign: 'bench' } })));
					}
					await deleteApp(app);
				},
			},
			{
				provider: 'apns',
				n: APNS_N,
				target: 0.85,
				token: (i) => i.toString(16).padStart(64, '0'),
				platform: 'ios',
				transport: () => new ApnsTransport(config.apns),
				bare: async (tokens) => {
					const client = new ApnsClient({ team: config.apns.teamId, keyId: config.apns.keyId, signingKey: config.apns.signingKey, defaultTopic: config.apns.bundleId });
					for (let i = 0; i < tokens.length; i += 500) {
						await client.sendMany(tokens.slice(i, i + 500).map((t) => new Notification(t, { alert: { title: 'Sale', body: 'Everything -20%' }, data: { campaign: 'bench' } })));
					}
					await client.close();
				},
			},
			{
				provider: 'webpush',
				n: WEB_N,
				target: 0.9,
				token: (i) => subscriptions[i],
				platform: 'web',
				transport: () => new WebPushTransport({ subject: 'mailto:bench@example.com', publicKey: vapid.publicKey, privateKey: vapid.privateKey, allowedPrivateHosts: [config.webpushHost] }),
				bare: async (subs) => {
					const options = { vapidDetails: { subject: 'mailto:bench@example.com', publicKey: vapid.publicKey, privateKey: vapid.privateKey }, TTL: 86400 };
					for (let i = 0; i < subs.length; i += 50) {
						await Promise.all(subs.slice(i, i + 50).map((s) => webpush.sendNotification(s, JSON.stringify({ title: 'Sale', body: 'Everything -20%', data: { campaign: 'bench' } }), options)));
					}
				},
			},
		];
		for (const c of cases) {
			if (c.n === 0) continue;
			const store = await TokenStore.open({ engine: 'sqlite', path: join(dir, `${c.provider}.sqlite`) });
			const tokens = Array.from({ length: c.n }, (_, i) => c.token(i));
			await store.importTokens(tokens.map((token) => ({ appId: APP, platform: c.platform, token })), { batchSize: 5000 });
			// CPU of each side, to show what limits what: the sender's process, and the fakes' own.
			const cpu = () => ({ sender: process.cpuUsage(), fake: fake.cpuSeconds() });
			const used = (from) => ({ sender: (process.cpuUsage(from.sender).user + process.cpuUsage(from.sender).system) / 1e6, fake: fake.cpuSeconds() - from.fake });
			let from = cpu();
			const ceiling = await timed(() => c.bare(tokens));
			const bareCpu = used(from);
			const transport = c.transport();
			let summary;
			from = cpu();
			const ours = await timed(async () => {
				summary = await new Sender(store, { [c.provider]: transport }).sendAudience({ appId: APP, pageSize: 1000 }, message, { record: true, failureLimit: 5 });
			});
			const oursCpu = used(from);
			await transport.close();
			await store.close();
			if (summary.delivered !== c.n) throw new Error(`${c.provider}: delivered ${summary.delivered} of ${c.n}: ${JSON.stringify(summary.failures.slice(0, 3))}`);
			rows.push({
				what: `${c.provider}: ${c.n.toLocaleString('en')} pushes`,
				ours,
				ceiling,
				target: c.target,
				extra: {
					messagesPerSecond: Math.round(c.n / (ours / 1000)),
					bareMessagesPerSecond: Math.round(c.n / (ceiling / 1000)),
					senderCpuSeconds: Number(oursCpu.sender.toFixed(1)),
					bareCpuSeconds: Number(bareCpu.sender.toFixed(1)),
					fakeCpuSeconds: Number(oursCpu.fake.toFixed(1)),
					fakeCpuSecondsBare: Number(bareCpu.fake.toFixed(1)),
				},
			});
		}
		report('send', rows);
		for (const { what, ours, ceiling, extra: e } of rows) {
			console.log(`  ${what}: ${e.messagesPerSecond}/s (bare library ${e.bareMessagesPerSecond}/s)`);
			console.log(`    CPU busy: sender ${e.senderCpuSeconds} s of ${(ours / 1000).toFixed(1)} s, fake ${e.fakeCpuSeconds} s; bare library ${e.bareCpuSeconds} s of ${(ceiling / 1000).toFixed(1)} s, fake ${e.fakeCpuSecondsBare} s`);
		}
	} finally {
		fake.stop();
		rmSync(dir, { recursive: true, force: true });
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
