// Send reports (issue 20): a campaign of N devices sent through the sender with its send id (the
// providers replaced by a transport that answers at once: 1 in 100 dead, 1 in 50 a 503 after the
// last attempt, the rest delivered), then
//   1. its report read (Get Send Report's query): the median and worst of 50 reads; target < 50 ms,
//      whatever N (a report is a handful of rows, not one per device);
//   2. OPENS opens recorded through the Push Token Endpoint's core (AppEndpoint.handle, as the
//      webhook calls it, 50 in flight), by token, each device once: target ≥ 1,000 opens/s.
//   3. what recording the report costs a campaign: COMPARE devices sent under a send id that keeps
//      a report, and under one that keeps none (n8n:…, as Send Push makes per item), each the
//      first send of its id to those devices; ceiling: the one without. Target ≥ 0.8.
// Ratio: the target over ours (≥ 1 met), or the ceiling's time over ours (3). On each engine: SQLite (a file) and PostgreSQL
// (PUSH_TOKENS_PG_URL, an admin URL, default postgres://postgres@127.0.0.1:5432/test: a database of its own).
//   node bench/send-report.js [N] [opens] [engines] [compare]   (default 1,000,000, 20,000, sqlite,postgres, 100,000; after npm run build)
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { Client } = require('pg');
const { TokenStore, Sender, PushMessage, AppEndpoint, EndpointAuth } = require('../dist/nodes/core');
const { percentile, report, timed } = require('./report');

const N = Number(process.argv[2] ?? 1_000_000);
const OPENS = Number(process.argv[3] ?? 20_000);
const ENGINES = (process.argv[4] ?? 'sqlite,postgres').split(',');
const COMPARE = Number(process.argv[5] ?? 100_000);
const ADMIN = process.env.PUSH_TOKENS_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const APP = 'bench.report';
const SEND_ID = 'campaign-report-bench';
const token = (i) => `fcm-${i.toString(36)}:APA91b${'x'.repeat(140)}`;
const index = (t) => parseInt(t.slice(4, t.indexOf(':')), 36);

/** Answers at once: 1 in 100 dead, 1 in 50 unavailable, the rest delivered. */
const transport = {
	provider: 'fcm',
	send: async (devices) =>
		devices.map((d) => {
			const i = index(d.token);
			if (i % 100 === 7) return { outcome: 'invalid-token', reason: 'gone', code: 'UNREGISTERED', statusCode: 404 };
			if (i % 50 === 3) return { outcome: 'retry', reason: 'unavailable', code: 'UNAVAILABLE', statusCode: 503 };
			return { outcome: 'delivered', reason: 'accepted' };
		}),
	close: async () => undefined,
};

async function adminQuery(text) {
	const client = new Client({ connectionString: ADMIN });
	await client.connect();
	try {
		await client.query(text);
	} finally {
		await client.end();
	}
}

async function openStore(engine, dir, what) {
	if (engine === 'sqlite') {
		const path = join(dir, `${what}.sqlite`);
		return { config: { engine: 'sqlite', path }, dispose: async () => ['', '-wal', '-shm'].forEach((end) => rmSync(path + end, { force: true })) };
	}
	const name = `push_tokens_bench_report_${what}_${process.pid}`;
	await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
	await adminQuery(`CREATE DATABASE ${name}`);
	const url = new URL(ADMIN);
	url.pathname = `/${name}`;
	return { config: { engine: 'postgres', connectionString: url.toString() }, dispose: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** 3. The same audience sent under a send id with a report and one without (the ceiling). */
async function compare(engine, dir, rows) {
	const { config, dispose } = await openStore(engine, dir, 'compare');
	const store = await TokenStore.open(config);
	try {
		await store.importTokens((function* () {
			for (let i = 0; i < COMPARE; i++) yield { appId: APP, platform: 'android', token: token(i) };
		})(), { batchSize: 5000, anonymousOnly: true });
		const sender = new Sender(store, { fcm: transport });
		const send = (sendId) => timed(() => sender.sendAudience({ appId: APP, includeAnonymous: true, pageSize: 5000 }, PushMessage.parse({ title: 'Bench', body: 'report' }), { sendId, record: true, maxAttempts: 1, failureLimit: 0 }));
		await send('n8n:warm-up'); // (the first pass reads the devices into the cache)
		const without = await send('n8n:ceiling');
		const withReport = await send('campaign-compare');
		console.log(`[${engine}] ${COMPARE} devices: ${(withReport / 1000).toFixed(1)} s with a report, ${(without / 1000).toFixed(1)} s without`);
		rows.push({ what: `[${engine}] a ${COMPARE}-device campaign recording its report (ceiling: the same without one)`, ours: withReport, ceiling: without, target: 0.8 });
	} finally {
		await store.close();
		await dispose();
	}
}

async function bench(engine, dir, rows) {
	const { config, dispose } = await openStore(engine, dir, 'main');
	const store = await TokenStore.open(config);
	try {
		const importMs = await timed(() =>
			store.importTokens((function* () {
				for (let i = 0; i < N; i++) yield { appId: APP, platform: 'android', token: token(i) };
			})(), { batchSize: 5000, anonymousOnly: true }),
		);
		const sender = new Sender(store, { fcm: transport });
		let summary;
		const sendMs = await timed(async () => {
			summary = await sender.sendAudience({ appId: APP, includeAnonymous: true, pageSize: 5000 }, PushMessage.parse({ title: 'Bench', body: 'report' }), { sendId: SEND_ID, record: true, maxAttempts: 1, failureLimit: 0 });
		});
		console.log(`[${engine}] ${N} devices imported in ${(importMs / 1000).toFixed(1)} s, sent in ${(sendMs / 1000).toFixed(1)} s (${Math.round(N / (sendMs / 1000))}/s)`);

		// 1. Reading the report.
		const first = await store.sendReport(SEND_ID);
		if (first.targeted !== N || first.sent !== summary.delivered || first.sent + first.failed !== N) throw new Error(`[${engine}] the report disagrees with the send: ${JSON.stringify({ report: first, summary }).slice(0, 600)}`);
		const counts = await store.engine.db.selectFrom('send_report_counts').select(({ fn }) => fn.countAll().as('n')).executeTakeFirstOrThrow();
		const reads = [];
		for (let k = 0; k < 50; k++) reads.push(await timed(() => store.sendReport(SEND_ID)));
		reads.sort((a, b) => a - b);
		const median = percentile(reads, 50);
		console.log(`[${engine}] report of ${N} devices: ${Number(counts.n)} count rows; read median ${median.toFixed(2)} ms, worst ${reads.at(-1).toFixed(2)} ms`);
		rows.push({ what: `[${engine}] Get Send Report of a ${N}-device campaign (median of 50 reads)`, ours: median, ceiling: 50, target: 1, extra: { worstMs: Number(reads.at(-1).toFixed(2)), medianMs: Number(median.toFixed(2)), countRows: Number(counts.n), devices: N } });

		// 2. Opens through the endpoint's core, 50 in flight, each a distinct delivered device.
		const endpoint = new AppEndpoint(store, new EndpointAuth({ appKey: 'key', verification: 'none' }), null, { appId: APP, logoutMode: 'anonymous', maxBodyBytes: 64 * 1024, maxBatch: 500 });
		const devices = [];
		for (let i = 0; devices.length < OPENS && i < N; i++) if (i % 100 !== 7 && i % 50 !== 3) devices.push(token(i));
		let next = 0;
		let counted = 0;
		const cpu = process.cpuUsage();
		const openMs = await timed(() =>
			Promise.all(
				Array.from({ length: 50 }, async () => {
					while (next < devices.length) {
						const body = { sendId: SEND_ID, token: devices[next++] };
						const answer = await endpoint.handle({ route: 'opened', body, bytes: 100, appKey: 'key', client: '203.0.113.7' });
						if (answer.status !== 200) throw new Error(`[${engine}] ${answer.status} ${JSON.stringify(answer.body)}`);
						if (answer.body.counted) counted++;
					}
				}),
			),
		);
		const after = await store.sendReport(SEND_ID);
		if (counted !== devices.length || after.opened !== devices.length) throw new Error(`[${engine}] ${counted} opens counted, the report says ${after.opened}, of ${devices.length}`);
		// (this process's CPU: on a shared machine, opens per CPU-second say what the wall time cannot)
		const used = process.cpuUsage(cpu);
		const cpuSeconds = (used.user + used.system) / 1e6;
		const perSecond = devices.length / (openMs / 1000);
		console.log(`[${engine}] ${devices.length} opens in ${(openMs / 1000).toFixed(2)} s: ${Math.round(perSecond)}/s (${Math.round(devices.length / cpuSeconds)} per CPU-second of this process); open rate ${after.openRate}`);
		rows.push({ what: `[${engine}] opens through the endpoint core, 50 in flight (time for ${devices.length}; ceiling: the same at 1,000/s)`, ours: openMs, ceiling: (devices.length / 1000) * 1000, target: 1, extra: { opensPerSecond: Math.round(perSecond), opensPerCpuSecond: Math.round(devices.length / cpuSeconds) } });
	} finally {
		await store.close();
		await dispose();
	}
}

async function main() {
	const dir = mkdtempSync(join(tmpdir(), 'push-tokens-bench-report-'));
	const rows = [];
	try {
		for (const engine of ENGINES) {
			if (COMPARE > 0) await compare(engine, dir, rows);
			if (N > 0) await bench(engine, dir, rows);
		}
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
	report('send-report', rows);
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
