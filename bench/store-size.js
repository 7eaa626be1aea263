// The store's size follows its devices, not its traffic (issue 12): N devices, DAYS simulated days
// of one app open per device a day and one campaign a day to all of them (a send id each, the
// answers recorded), and a clean-up each day with the default retention (send log 30 days,
// changelog 400 days). The store is SQLite; its size is the pages in use (the file, less its free
// pages, after a checkpoint), per table from dbstat. Ratio: size after day 1 ÷ size after day DAYS;
// target: day DAYS ≤ 1.5 × day 1 (a ratio ≥ 0.67). Providers answer at once (the network edge
// replaced by a transport that delivers everything): what is measured is the store.
//   node bench/store-size.js [N devices] [days]        (default 100,000 and 30)
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const Database = require('better-sqlite3');
const { TokenStore, Sender, PushMessage } = require('../dist/nodes/core');
const { report } = require('./report');

const N = Number(process.argv[2] ?? 100_000);
const DAYS = Number(process.argv[3] ?? 30);
const APP = 'bench.size';
const DAY_MS = 86_400_000;
const token = (i) => `fcm-${i.toString(36)}:APA91b${'x'.repeat(140)}`;

/** Delivers every push at once. */
const delivering = { provider: 'fcm', send: async (devices) => devices.map(() => ({ outcome: 'delivered', reason: 'accepted' })), close: async () => undefined };

function size(path) {
	const db = new Database(path);
	try {
		db.pragma('wal_checkpoint(TRUNCATE)');
		const pageSize = db.pragma('page_size', { simple: true });
		const used = (db.pragma('page_count', { simple: true }) - db.pragma('freelist_count', { simple: true })) * pageSize;
		const tables = {};
		for (const row of db.prepare("SELECT name, SUM(pgsize) AS bytes FROM dbstat WHERE name NOT LIKE 'sqlite_%' GROUP BY name").all()) tables[row.name] = row.bytes;
		const rows = Object.fromEntries(['devices', 'profiles', 'token_events', 'sends', 'send_log', 'dead_tokens'].map((t) => [t, db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get().n]));
		return { bytes: used, tables, rows };
	} finally {
		db.close();
	}
}

async function main() {
	const dir = mkdtempSync(join(tmpdir(), 'push-tokens-bench-size-'));
	const path = join(dir, 'store.sqlite');
	let now = Date.UTC(2026, 0, 1);
	try {
		const store = await TokenStore.open({ engine: 'sqlite', path }, { clock: () => now });
		const sender = new Sender(store, { fcm: delivering });
		const message = PushMessage.parse({ title: 'Today', body: 'Something new' });
		const sizes = [];
		const started = Date.now();
		for (let day = 1; day <= DAYS; day++) {
			for (let i = 0; i < N; i++) {
				await store.register({ appId: APP, platform: 'android', token: token(i), deviceId: `device-${i}`, userId: `user-${i}` });
				now += Math.floor(DAY_MS / 2 / N); // the opens spread over the day's first half
			}
			const summary = await sender.sendAudience({ appId: APP, pageSize: 5000 }, message, { record: true, sendId: `campaign-day-${day}`, failureLimit: 0 });
			if (summary.delivered !== N) throw new Error(`day ${day}: ${JSON.stringify(summary).slice(0, 500)}`);
			await store.cleanup();
			now = Date.UTC(2026, 0, 1) + day * DAY_MS;
			if (day === 1 || day === DAYS || day % 10 === 0) {
				const s = size(path);
				sizes.push({ day, ...s });
				console.log(`day ${day}: ${(s.bytes / 1e6).toFixed(1)} MB in use; rows ${JSON.stringify(s.rows)}; by table and index (MB) ${JSON.stringify(Object.fromEntries(Object.entries(s.tables).map(([k, v]) => [k, Number((v / 1e6).toFixed(1))])))} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
			}
		}
		await store.close();
		const first = sizes[0];
		const last = sizes[sizes.length - 1];
		report('store-size', [
			{
				what: `SQLite store of ${N.toLocaleString('en')} devices: size after day 1 vs after day ${DAYS} (an app open per device a day, a campaign a day, a clean-up a day)`,
				unit: 'bytes',
				ours: last.bytes,
				ceiling: first.bytes,
				target: Number((1 / 1.5).toFixed(2)),
				extra: { day1Bytes: first.bytes, lastDayBytes: last.bytes, growth: Number((last.bytes / first.bytes).toFixed(2)), day1Rows: first.rows, lastDayRows: last.rows, lastDayTables: last.tables },
			},
		]);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
