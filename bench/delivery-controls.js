// Delivery controls (issue 21): an audience of N devices, spread over several time zones (and a
// share with none, which take the default zone), sent plainly, and the same audience sent with
// Local Time Delivery, Quiet Hours and a Frequency Cap on, in the same run, through the real Sender
// and store. The controls are set so that nobody is held — the local-time window covers the day,
// the quiet hours sit in a gap no device's clock is in while the bench runs, the cap is above what
// anyone has had — so both sends push to all N devices and the difference is what the checks cost:
// each device's local time, the quiet-hours test, the cap's read of its stamps (and the stamps,
// which every marketing send writes, with or without a cap). The providers are replaced by a
// transport that answers "delivered" at once, so what is measured is the store and the sender.
// Order: a warm-up send (reads the devices into the cache), then ROUNDS rounds of the plain send
// (the ceiling) and the send with the controls, each under its own send id, the order swapped
// every round (round 1 plain first); the best time of each is reported. Peak RSS above the
// baseline taken before the warm-up, sampled every 50 ms during each send (the highest of the
// rounds): the controls must keep the same memory bound. Target: ≥ 0.8 of the plain send's pushes/s.
// On each engine: SQLite (a file) and PostgreSQL (PUSH_TOKENS_PG_URL, an admin URL, default
// postgres://postgres@127.0.0.1:5432/test: a database of its own).
//   node --expose-gc bench/delivery-controls.js [N] [engines] [rounds]   (default 1,000,000, sqlite, 1; after npm run build)
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { Client } = require('pg');
const { sql } = require('kysely');
const { TokenStore, Sender, PushMessage } = require('../dist/nodes/core');
const { DeliveryControls } = require('../dist/nodes/core/send/controls');
const { localMinutes } = require('../dist/nodes/core/locale');
const { report, timed } = require('./report');

const N = Number(process.argv[2] ?? 1_000_000);
const ENGINES = (process.argv[3] ?? 'sqlite').split(',');
// (each round stamps every device twice: the cap of 24 below must stay above what they have had)
const ROUNDS = Math.min(5, Math.max(1, Number(process.argv[4] ?? 1)));
const ADMIN = process.env.PUSH_TOKENS_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const APP = 'bench.controls';
const DEFAULT_ZONE = 'Europe/London';
// (one device in 10 has no zone and takes the default)
const ZONES = ['America/Los_Angeles', 'America/New_York', 'America/Sao_Paulo', 'Europe/London', 'Europe/Paris', 'Asia/Kolkata', 'Asia/Tokyo', 'Australia/Sydney', 'Pacific/Auckland', null];
const token = (i) => `fcm-${i.toString(36)}:APA91b${'x'.repeat(140)}`;
const hhmm = (m) => `${String(Math.floor(m / 60) % 24).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

/** Answers "delivered" at once. */
const transport = {
	provider: 'fcm',
	send: async (devices) => devices.map(() => ({ outcome: 'delivered', reason: 'accepted' })),
	close: async () => undefined,
};

/**
 * Quiet hours no device is in now nor for the next `margin` minutes: the widest gap between the
 * zones' local times, starting `margin` minutes after the latest clock before it.
 */
function quietHoursNobodyIsIn(now, margin) {
	const clocks = [...new Set([...ZONES.filter(Boolean), DEFAULT_ZONE].map((z) => localMinutes(z, now)))].sort((a, b) => a - b);
	let best = { from: 0, length: -1 };
	for (let k = 0; k < clocks.length; k++) {
		const from = clocks[k];
		const length = ((k + 1 < clocks.length ? clocks[k + 1] : clocks[0] + 1440) - from + 1440) % 1440 || 1440;
		if (length > best.length) best = { from, length };
	}
	if (best.length < margin + 30) throw new Error(`no gap of ${margin + 30} minutes between the zones' clocks (${clocks.map(hhmm).join(', ')})`);
	return { start: hhmm(best.from + margin), end: hhmm(best.from + best.length - 5) };
}

async function adminQuery(text) {
	const client = new Client({ connectionString: ADMIN });
	await client.connect();
	try {
		await client.query(text);
	} finally {
		await client.end();
	}
}

async function openStore(engine, dir) {
	if (engine === 'sqlite') {
		const path = join(dir, 'controls.sqlite');
		return { config: { engine: 'sqlite', path }, dispose: async () => ['', '-wal', '-shm'].forEach((end) => rmSync(path + end, { force: true })) };
	}
	const name = `push_tokens_bench_controls_${process.pid}`;
	await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
	await adminQuery(`CREATE DATABASE ${name}`);
	const url = new URL(ADMIN);
	url.pathname = `/${name}`;
	return { config: { engine: 'postgres', connectionString: url.toString() }, dispose: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** Runs `fn`, sampling RSS every 50 ms: its time and the peak RSS above `baseline`, in MB. */
async function measured(fn, baseline) {
	global.gc?.();
	let peak = process.memoryUsage().rss;
	const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
	let result;
	const ms = await timed(async () => {
		result = await fn();
	});
	clearInterval(sampler);
	peak = Math.max(peak, process.memoryUsage().rss);
	return { ms, result, peakMB: Math.round((peak - baseline) / 1048576) };
}

async function bench(engine, dir, rows) {
	const { config, dispose } = await openStore(engine, dir);
	const store = await TokenStore.open(config);
	try {
		const importMs = await timed(() =>
			store.importTokens((function* () {
				for (let i = 0; i < N; i++) {
					const timeZone = ZONES[i % ZONES.length];
					yield { appId: APP, platform: 'android', token: token(i), ...(timeZone ? { timeZone } : {}) };
				}
			})(), { batchSize: 5000, anonymousOnly: true }),
		);
		console.log(`[${engine}] ${N} devices over ${ZONES.length - 1} zones (1 in ${ZONES.length} none) imported in ${(importMs / 1000).toFixed(1)} s`);
		// (this machine's PostgreSQL runs with autovacuum off: without statistics after the bulk load,
		// its plans for the audience pages are a production server's only until autovacuum's first pass)
		if (engine === 'postgres') await sql`VACUUM ANALYZE`.execute(store.engine.db);
		const sender = new Sender(store, { fcm: transport });
		const message = PushMessage.parse({ title: 'Spring sale', body: 'Everything -20%' });
		const query = { appId: APP, includeAnonymous: true, pageSize: 5000 };
		const send = (sendId, controls) => sender.sendAudience(query, message, { sendId, record: true, maxAttempts: 1, failureLimit: 0, ...(controls ? { controls } : {}) });

		global.gc?.();
		const baseline = process.memoryUsage().rss;
		await send(`${engine}-warm-up`);
		// (the margin: the sends' clocks must stay out of the quiet hours while they run, however slow the machine)
		const quietHours = quietHoursNobodyIsIn(Date.now(), 90);
		const controls = DeliveryControls.parse({
			localTime: '00:00',
			localTimeWindowMinutes: 1440, // every device's local time is in the window
			defaultTimeZone: DEFAULT_ZONE,
			quietHours,
			frequencyCap: { pushes: 24, hours: 24 }, // each device has had at most 2 × ROUNDS: nobody capped
		});
		const best = (a, b) => (a && a.ms <= b.ms ? { ...a, peakMB: Math.max(a.peakMB, b.peakMB) } : { ...b, peakMB: Math.max(a?.peakMB ?? 0, b.peakMB) });
		let plain;
		let on;
		for (let round = 1; round <= ROUNDS; round++) {
			const runs = {
				plain: () => measured(() => send(`${engine}-plain-${round}`), baseline),
				controls: () => measured(() => send(`${engine}-controls-${round}`, controls), baseline),
			};
			for (const what of round % 2 === 1 ? ['plain', 'controls'] : ['controls', 'plain']) {
				// Each send rewrites every device row: on PostgreSQL the dead versions of the sends before
				// would slow the later one (autovacuum is off here), so each measured send starts vacuumed.
				if (engine === 'postgres') await sql`VACUUM ANALYZE`.execute(store.engine.db);
				const run = await runs[what]();
				const s = run.result;
				const held = s.outsideLocalTime + s.quietHours + s.frequencyCapped;
				if (s.delivered !== N || held !== 0) throw new Error(`[${engine}] ${what}: delivered ${s.delivered} of ${N}, held ${held} (${JSON.stringify({ outsideLocalTime: s.outsideLocalTime, quietHours: s.quietHours, frequencyCapped: s.frequencyCapped })})`);
				if (ROUNDS > 1) console.log(`[${engine}] round ${round}, ${what}: ${(run.ms / 1000).toFixed(1)} s, peak RSS +${run.peakMB} MB`);
				if (what === 'plain') plain = best(plain, run);
				else on = best(on, run);
			}
		}
		const stamped = await store.engine.db
			.selectFrom('devices')
			.select(({ fn }) => fn.countAll().as('n'))
			.where('marketing_sent', 'is not', null)
			.executeTakeFirstOrThrow();
		if (Number(stamped.n) !== N) throw new Error(`[${engine}] ${stamped.n} devices carry frequency-cap stamps, of ${N}`);

		const rate = (run) => Math.round(N / (run.ms / 1000));
		console.log(`[${engine}] plain: ${(plain.ms / 1000).toFixed(1)} s, ${rate(plain)}/s, peak RSS +${plain.peakMB} MB; with local time, quiet hours ${quietHours.start}–${quietHours.end}, cap 24/24 h: ${(on.ms / 1000).toFixed(1)} s, ${rate(on)}/s, peak RSS +${on.peakMB} MB`);
		rows.push({
			what: `[${engine}] a ${N.toLocaleString('en')}-device audience with local time, quiet hours and a frequency cap (ceiling: the same sent plainly)`,
			ours: on.ms,
			ceiling: plain.ms,
			target: 0.8,
			extra: { devices: N, plainPerSecond: rate(plain), controlsPerSecond: rate(on), plainPeakRssAboveBaselineMB: plain.peakMB, controlsPeakRssAboveBaselineMB: on.peakMB, quietHours: `${quietHours.start}-${quietHours.end}` },
		});
	} finally {
		await store.close();
		await dispose();
	}
}

async function main() {
	const dir = mkdtempSync(join(tmpdir(), 'push-tokens-bench-controls-'));
	const rows = [];
	try {
		for (const engine of ENGINES) await bench(engine, dir, rows);
		report('delivery-controls', rows);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
