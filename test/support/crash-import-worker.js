// A process to kill -9 in the middle of a push_token_import (test/reliability/crash.test.ts).
// Usage: node crash-import-worker.js '<store config JSON>' <N>
// Imports N generated FCM tokens (anonymous, batches of 1,000) and prints one JSON line when done.
const { TokenStore } = require('../../dist/nodes/core');

/** The N rows of the import, generated (the same every run). */
function* rows(n) {
	for (let i = 0; i < n; i++) yield { appId: 'com.example.crash', platform: 'android', token: `fcm-crash-${i}:APA91b${'x'.repeat(20)}` };
}

async function main() {
	const [configJson, n] = process.argv.slice(2);
	const store = await TokenStore.open(JSON.parse(configJson));
	process.stdout.write('started\n');
	const summary = await store.importTokens(rows(Number(n)), { anonymousOnly: true });
	await store.close();
	process.stdout.write(JSON.stringify(summary) + '\n');
}

module.exports = { rows };
if (require.main === module) {
	main().catch((error) => {
		console.error(error);
		process.exit(1);
	});
}
