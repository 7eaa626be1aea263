// The fake providers in a process of their own (so a benchmark's sender does not share its CPU
// with them). Prints one JSON line: the routes and the keys, then serves until killed.
process.env.PUSH_TOKENS_FAKE_CERTS = require('node:path').join(__dirname, '../test/fakes/certs');
const { startFakes } = require('./.build/test/fakes/providers');

startFakes().then((fakes) => {
	process.stdout.write(
		JSON.stringify({
			routes: fakes.routes,
			fcm: fakes.fcm.serviceAccount,
			apns: { teamId: fakes.apns.teamId, keyId: fakes.apns.keyId, signingKey: fakes.apns.signingKey, bundleId: fakes.apns.bundleId },
			webpushHost: fakes.webpush.host,
		}) + '\n',
	);
	process.stdin.on('data', (line) => {
		// "subscribe N": answers N subscriptions the fake can decrypt
		const n = Number(String(line).split(' ')[1]);
		process.stdout.write(JSON.stringify(Array.from({ length: n }, () => fakes.webpush.subscribe())) + '\n');
	});
});
