// The fake providers in a process of their own (so a benchmark's sender does not share its CPU
// with them). Run as a script it prints one JSON line (the routes and the keys), then serves
// until killed; required, it gives `startFakeProcess()` to the benchmarks.
const { spawn } = require('node:child_process');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { createInterface } = require('node:readline');

/**
 * Starts this file as a child process (answering every request `latencyMs` after it came) and points this process's network edge at it.
 * Returns the fakes' config, `subscribe(n)` (Web Push subscriptions the fake can decrypt), `cpuSeconds()` and `stop()`.
 */
async function startFakeProcess({ latencyMs = 0 } = {}) {
	const child = spawn(process.execPath, [__filename], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, PUSH_TOKENS_FAKE_LATENCY_MS: String(latencyMs) } });
	const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
	const config = JSON.parse((await lines.next()).value);
	process.env.PUSH_TOKENS_FAKE_ROUTES = JSON.stringify(config.routes);
	return {
		config,
		async subscribe(n) {
			child.stdin.write(`subscribe ${n}\n`);
			return JSON.parse((await lines.next()).value);
		},
		/** CPU seconds the fakes' process has used so far (Linux /proc: user + system clock ticks, 100 a second). */
		cpuSeconds() {
			const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
			return (Number(fields[11]) + Number(fields[12])) / 100;
		},
		stop: () => child.kill(),
	};
}
/** The three provider credentials of the fakes, as `N8nHarness.importCredentials` takes them (Send Push names all three: each must exist for a workflow to start). */
function providerCredentials(config) {
	const { PROVIDER_CREDENTIALS } = require('./.build/test/e2e/harness');
	const vapid = require('web-push').generateVAPIDKeys();
	const { apns, fcm } = config;
	return [
		{ ...PROVIDER_CREDENTIALS.apnsApi, type: 'apnsApi', data: { teamId: apns.teamId, keyId: apns.keyId, signingKey: apns.signingKey, bundleId: apns.bundleId, environment: 'production' } },
		{ ...PROVIDER_CREDENTIALS.fcmServiceAccountApi, type: 'fcmServiceAccountApi', data: { serviceAccountJson: JSON.stringify(fcm) } },
		{ ...PROVIDER_CREDENTIALS.webPushVapidApi, type: 'webPushVapidApi', data: { subject: 'mailto:ops@example.com', publicKey: vapid.publicKey, privateKey: vapid.privateKey } },
	];
}
module.exports = { startFakeProcess, providerCredentials };

function serve() {
	process.env.PUSH_TOKENS_FAKE_CERTS = join(__dirname, '../test/fakes/certs');
	const { startFakes } = require('./.build/test/fakes/providers');
	startFakes().then((fakes) => {
		// A provider's round trip (PUSH_TOKENS_FAKE_LATENCY_MS), as far away as the real ones are.
		const latency = Number(process.env.PUSH_TOKENS_FAKE_LATENCY_MS ?? 0);
		for (const fake of [fakes.fcm, fakes.apns, fakes.webpush]) fake.latencyMs = latency;
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
}

if (require.main === module) serve();
