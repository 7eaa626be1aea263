// A separate OS process hammering one store: identify and logout on a few shared tokens.
// Usage: node identify-worker.js '<store config JSON>' <worker name> <operations>
// Prints one JSON line: how many of each action it saw.
const { TokenStore } = require('../../dist/nodes/core');

async function main() {
	const [configJson, name, operations] = process.argv.slice(2);
	const store = await TokenStore.open(JSON.parse(configJson));
	const tokens = JSON.parse(process.env.WORKER_TOKENS);
	const users = ['alice', 'bob', 'carol', 'dave'];
	const seen = {};
	for (let i = 0; i < Number(operations); i++) {
		const token = tokens[(i * 7 + name.length) % tokens.length];
		const result =
			i % 5 === 4
				? await store.clearIdentify({ appId: 'app', token })
				: await store.identify({ appId: 'app', token, userId: users[(i + name.charCodeAt(0)) % users.length] });
		seen[result.action] = (seen[result.action] ?? 0) + 1;
	}
	await store.close();
	process.stdout.write(JSON.stringify(seen) + '\n');
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
