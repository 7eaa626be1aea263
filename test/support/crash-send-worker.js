// A process to kill -9 in the middle of an audience send (test/reliability/crash.test.ts).
// Run with --require test/fakes/network-edge.cjs and PUSH_TOKENS_FAKE_ROUTES pointing at the fakes.
// Usage: node crash-send-worker.js '<store config JSON>' '<{ fcm, apns } credentials JSON>' <send id> <app id>
const { ApnsTransport, FcmTransport, PushMessage, Sender, TokenStore } = require('../../dist/nodes/core');

async function main() {
	const [configJson, credentialsJson, sendId, appId] = process.argv.slice(2);
	const store = await TokenStore.open(JSON.parse(configJson));
	const { fcm, apns } = JSON.parse(credentialsJson);
	const transports = { fcm: new FcmTransport(fcm), apns: new ApnsTransport(apns) };
	const sender = new Sender(store, transports);
	process.stdout.write('started\n');
	const summary = await sender.sendAudience({ appId, pageSize: 2000 }, PushMessage.parse({ title: 'Crash', body: 'test' }), { record: true, sendId });
	await Promise.all(Object.values(transports).map((t) => t.close()));
	await store.close();
	process.stdout.write(JSON.stringify(summary) + '\n');
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
