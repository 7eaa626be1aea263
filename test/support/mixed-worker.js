// A separate OS process doing a random mix of every write the nodes make, on a small pool of
// tokens, devices and users shared with other processes, so they collide:
//   register (anonymous or with a user id, mostly with a device id from the pool → supersedes),
//   identify, clear identify (anonymous or remove), and delivery outcomes (delivered, bounced,
//   invalid-token).
// Usage: node mixed-worker.js '<store config JSON>' '<plan JSON>'
//   plan: { name, operations, seed, appId, tokens: string[], devices: string[], users: string[], invalidPerMille? }
// The mix is mixed-operations.js.
// Prints one JSON line: { counts: { "<verb>:<result>": n }, killed: [tokens], errors: [messages], ms }.
// A result a caller is meant to see (not found, refused) is counted; anything thrown otherwise
// (SQLITE_BUSY, a unique violation, a serialization failure that escaped) is an error.
const { TokenStore, NotFoundError } = require('../../dist/nodes/core');
const { random, nextOperation, tally } = require('./mixed-operations');

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

/**
 * The mutation check (PUSH_TOKENS_MUTATION): the same workers with one of the store's locks taken
 * away, to show that the replay test catches its loss (see test/reliability/concurrency.test.ts).
 *   no-key-locks  transactions take no lock on their token, device id and user keys
 *   no-row-locks  the rules' reads take no row lock (FOR UPDATE dropped)
 */
function mutate(store, mutation) {
	const engine = store.engine;
	const transaction = engine.transaction;
	const withoutForUpdate = {
		transformQuery: ({ node }) => (node.kind === 'SelectQueryNode' && node.endModifiers ? { ...node, endModifiers: node.endModifiers.filter((m) => m.modifier !== 'ForUpdate') } : node),
		transformResult: async ({ result }) => result,
	};
	if (mutation === 'no-key-locks') engine.transaction = (fn, options) => transaction(fn, { ...options, lock: [] });
	else if (mutation === 'no-row-locks') engine.transaction = (fn, options) => transaction((tx) => fn(tx.withPlugin(withoutForUpdate)), options);
	else throw new Error(`unknown PUSH_TOKENS_MUTATION ${mutation}`);
}

async function main() {
	const [configJson, planJson] = process.argv.slice(2);
	const plan = JSON.parse(planJson);
	const store = await TokenStore.open(JSON.parse(configJson));
	if (process.env.PUSH_TOKENS_MUTATION) mutate(store, process.env.PUSH_TOKENS_MUTATION);
	const rand = random(plan.seed);
	const results = tally();
	const errors = [];
	const started = Date.now();
	for (let i = 0; i < plan.operations; i++) {
		const [verb, input] = nextOperation(rand, plan);
		try {
			results.count(verb, input, await apply(store, verb, input));
		} catch (error) {
			if (error instanceof NotFoundError) results.count(verb, input, null);
			else errors.push(`${verb} ${JSON.stringify(input)}: ${error.code ?? ''} ${error.message}`);
		}
	}
	const ms = Date.now() - started;
	await store.close();
	process.stdout.write(JSON.stringify({ name: plan.name, counts: results.counts, killed: [...results.killed], errors: errors.slice(0, 20), errorCount: errors.length, ms }) + '\n');
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
