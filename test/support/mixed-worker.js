// A separate OS process doing a random mix of every write the nodes make, on a small pool of
// tokens, devices and users shared with other processes, so they collide:
//   register (anonymous or with a user id, mostly with a device id from the pool → supersedes),
//   identify, clear identify (anonymous or remove), and delivery outcomes (delivered, bounced,
//   invalid-token).
// Usage: node mixed-worker.js '<store config JSON>' '<plan JSON>'
//   plan: { name, operations, seed, appId, tokens: string[], devices: string[], users: string[] }
// Prints one JSON line: { counts: { "<verb>:<result>": n }, killed: [tokens], errors: [messages], ms }.
// A result a caller is meant to see (not found, refused) is counted; anything thrown otherwise
// (SQLITE_BUSY, a unique violation, a serialization failure that escaped) is an error.
const { TokenStore, NotFoundError } = require('../../dist/nodes/core');

/** A small seeded PRNG (mulberry32): the same plan gives the same operations. */
function random(seed) {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** The next operation: [verb, input]. Weights in per mille. */
function nextOperation(rand, plan) {
	const pick = (list) => list[Math.floor(rand() * list.length)];
	const appId = plan.appId;
	const token = pick(plan.tokens);
	const roll = rand() * 1000;
	if (roll < 300) {
		const input = { appId, platform: 'android', token };
		if (rand() < 0.5) input.deviceId = pick(plan.devices);
		if (rand() < 0.25) input.userId = pick(plan.users);
		return ['register', input];
	}
	if (roll < 580) return ['identify', { appId, token, userId: pick(plan.users) }];
	if (roll < 730) return ['clear', { appId, token, mode: rand() < 0.1 ? 'remove' : 'anonymous' }];
	if (roll < 860) return ['outcome', { appId, token, outcome: 'delivered' }];
	if (roll < 997) return ['outcome', { appId, token, outcome: 'bounced' }];
	return ['outcome', { appId, token, outcome: 'invalid-token', reason: 'UNREGISTERED' }];
}

async function apply(store, verb, input) {
	switch (verb) {
		case 'register':
			return store.register(input);
		case 'identify':
			return store.identify(input);
		case 'clear':
			return store.clearIdentify(input);
		default:
			return store.recordOutcome(input);
	}
}

async function main() {
	const [configJson, planJson] = process.argv.slice(2);
	const plan = JSON.parse(planJson);
	const store = await TokenStore.open(JSON.parse(configJson));
	const rand = random(plan.seed);
	const counts = {};
	const killed = new Set();
	const errors = [];
	const count = (name) => (counts[name] = (counts[name] ?? 0) + 1);
	const started = Date.now();
	for (let i = 0; i < plan.operations; i++) {
		const [verb, input] = nextOperation(rand, plan);
		try {
			const result = await apply(store, verb, input);
			count(`${verb}:${result.action}`);
			if (verb === 'register' && result.supersededToken) count('register:superseded');
			if (verb === 'register' && result.action === 'refreshed' && result.movedFromUserId) count('register:moved-from-user');
			if (verb === 'outcome' && (result.action === 'removed' || result.action === 'tombstoned')) killed.add(input.token);
		} catch (error) {
			if (error instanceof NotFoundError) count(`${verb}:not-found`);
			else errors.push(`${verb} ${JSON.stringify(input)}: ${error.code ?? ''} ${error.message}`);
		}
	}
	const ms = Date.now() - started;
	await store.close();
	process.stdout.write(JSON.stringify({ name: plan.name, counts, killed: [...killed], errors: errors.slice(0, 20), errorCount: errors.length, ms }) + '\n');
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
