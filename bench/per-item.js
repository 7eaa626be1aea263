// Send Push at n8n's grain (issue 11): the items of one execution, each its own personalised
// message, against the same devices sent as an audience, in a real n8n (the e2e harness) with
// the fake providers answering every push after a provider's round trip (40 ms). Figures are
// the Send Push node's own time as n8n measures it (runData executionTime), so n8n's start-up
// is left out of both; the "ceiling" is the audience send, the ratio per-item ÷ audience
// throughput. Target: ≥ 0.8. Each is run with n8n's default expression engine (vm: isolated-vm)
// and the legacy one (N8N_EXPRESSION_ENGINE=legacy), beside n8n's own floor: an Edit Fields
// node evaluating the same two expressions per item.
//   node bench/per-item.js [users ...]     (default 1,000 and 10,000)
require('../test/fakes/network-edge.cjs');
const { join } = require('node:path');
const { N8nHarness, line, node } = require('./.build/test/e2e/harness');
const { report } = require('./report');
const { startFakeProcess, providerCredentials } = require('./fake-server');

const SIZES = process.argv.slice(2).map(Number);
const LATENCY_MS = 40;
const apnsToken = (i) => i.toString(16).padStart(64, '0');

/** A Code node making n items ({ userId, name, token }) in the n8n process. */
const people = (n, offset) => ({
	name: 'People',
	type: 'n8n-nodes-base.code',
	typeVersion: 2,
	parameters: { jsCode: `return Array.from({ length: ${n} }, (_, i) => ({ json: { userId: 'user-' + (i + ${offset}), name: 'User ' + (i + ${offset}), token: (i + ${offset}).toString(16).padStart(64, '0') } }));` },
});

/** An Edit Fields node evaluating these expressions for every item. */
const expressions = (name, fields) => ({
	name,
	type: 'n8n-nodes-base.set',
	typeVersion: 3.4,
	parameters: { mode: 'manual', assignments: { assignments: fields.map(([field, value], i) => ({ id: `f${i}`, name: field, value, type: 'string' })) }, options: {} },
});

async function main() {
	const fake = await startFakeProcess({ latencyMs: LATENCY_MS });
	const n8n = await N8nHarness.create('sqlite', { NODE_OPTIONS: `--require ${join(__dirname, '../test/fakes/network-edge.cjs')}`, PUSH_TOKENS_FAKE_ROUTES: process.env.PUSH_TOKENS_FAKE_ROUTES });
	try {
		await n8n.importCredentials(providerCredentials(fake.config));
		const rows = [];
		let offset = 0;
		for (const n of SIZES.length ? SIZES : [1000, 10_000]) {
			// n users with one APNs device each, in an app of their own (the audience is exactly them)
			const app = `per-item-${n}.app`;
			await n8n.store.importTokens(
				(function* () {
					for (let i = offset; i < offset + n; i++) yield { appId: app, platform: 'ios', token: apnsToken(i), userId: `user-${i}` };
				})(),
				{ batchSize: 5000 },
			);
			const title = '=Hello {{ $json.name }}';
			const body = 'Your order has shipped';
			for (const engine of ['vm', 'legacy']) {
				const env = { N8N_EXPRESSION_ENGINE: engine };
				const run = async (name, spec, delivered) => {
					const out = await n8n.execute(line(`${name}-${n}-${engine}`, node.manual(), people(n, offset), spec), env);
					if (delivered) {
						const items = out.of('Send');
						const count = spec.parameters.target === 'audience' ? items[0].delivered : items.filter((r) => r.outcome === 'delivered').length;
						if (count !== n) throw new Error(`${name}: delivered ${count} of ${n}`);
					}
					return out.timeOf(spec.name);
				};
				const audience = await run('audience', node.sendPush('Send', { target: 'audience', appId: app, title: 'Hello', body }), true);
				const user = await run('user', node.sendPush('Send', { target: 'user', userId: '={{ $json.userId }}', appId: app, title, body }), true);
				const token = await run('token', node.sendPush('Send', { target: 'token', appId: app, platform: 'ios', token: '={{ $json.token }}', title, body }), true);
				// n8n's own floor: the same two expressions per item, evaluated by an Edit Fields node
				const floor = await run('expressions', expressions('Send', [['userId', '={{ $json.userId }}'], ['title', title]]), false);
				const perSecond = (ms) => Math.round(n / (ms / 1000));
				const extra = (ms) => ({ expressionEngine: engine, pushesPerSecond: perSecond(ms), audiencePushesPerSecond: perSecond(audience), expressionsMs: Math.round(floor) });
				const size = `${n.toLocaleString('en')} items (one APNs device each, answering after ${LATENCY_MS} ms), ${engine} expressions`;
				rows.push(
					{ what: `${size}: Send To = A User vs the same devices as an audience`, ours: user, ceiling: audience, target: 0.8, extra: extra(user) },
					{ what: `${size}: Send To = A User vs the audience + n8n evaluating the items' two expressions (the least a per-item send can take in n8n)`, ours: user, ceiling: audience + floor, target: null, extra: extra(user) },
					{ what: `${size}: Send To = One Device Token vs the same devices as an audience`, ours: token, ceiling: audience, target: null, extra: extra(token) },
					{ what: `${size}: Send To = One Device Token vs the audience + n8n evaluating the items' two expressions`, ours: token, ceiling: audience + floor, target: null, extra: extra(token) },
				);
			}
			offset += n;
		}
		report('per-item', rows);
		for (const r of rows.filter((_, k) => k % 2 === 0)) console.log(`  ${r.what}: ${r.extra.pushesPerSecond} pushes/s (audience ${r.extra.audiencePushesPerSecond}/s); n8n evaluating the same two expressions per item alone: ${r.extra.expressionsMs} ms`);
	} finally {
		await n8n.dispose();
		fake.stop();
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
