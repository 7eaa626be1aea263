// The random mix of writes the concurrency tests make, shared by the OS-process worker
// (mixed-worker.js) and the n8n webhook streams (test/reliability/concurrency.test.ts), and how
// a result is counted: "<verb>:<result>" names that test/support/replay.ts compareCounts reads.

/** A small seeded PRNG (mulberry32): the same seed gives the same operations. */
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

/**
 * The next operation, [verb, input], on the plan's pool { appId, tokens, devices, users,
 * invalidPerMille }: register 30% (half with a device id of the pool, so tokens supersede each
 * other; a quarter with a user id), identify 28%, clear identify 15% (a tenth of them remove),
 * delivered 13%, bounced the rest but `invalidPerMille` ‰ invalid-token.
 */
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
	if (roll < 1000 - (plan.invalidPerMille ?? 1.5)) return ['outcome', { appId, token, outcome: 'bounced' }];
	return ['outcome', { appId, token, outcome: 'invalid-token', reason: 'UNREGISTERED' }];
}

/** A tally of results: count(verb, input, result) or count(verb, input, null) for "not found". */
function tally() {
	const counts = {};
	const killed = new Set();
	const add = (name) => (counts[name] = (counts[name] ?? 0) + 1);
	return {
		counts,
		killed,
		count(verb, input, result) {
			if (result === null) return add(`${verb}:not-found`);
			add(`${verb}:${result.action}`);
			if (verb === 'register' && result.supersededToken) add('register:superseded');
			if (verb === 'register' && result.action === 'refreshed' && result.movedFromUserId) add('register:moved-from-user');
			if (verb === 'identify' && result.action === 'unchanged' && result.statusReset) add('identify:status-reset');
			if (verb === 'outcome' && (result.action === 'removed' || result.action === 'tombstoned')) killed.add(input.token);
		},
	};
}

module.exports = { random, nextOperation, tally };
