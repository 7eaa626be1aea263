// A provider's export read by its preset vs the same tokens in this package's own layout, same
// run, same engine: N rows of a OneSignal-shaped CSV export (its 23 columns, device_type codes,
// Web Push keys in base64 columns) and the same N tokens as app_id,platform,token,user_id.
// Both files are streamed from disk as the Import node streams them (readCsv, 256 KB chunks),
// into a fresh store each, with user ids (the With User IDs mode), each import in a process of its
// own (so neither inherits the other's grown heap). Prints the time and the peak RSS above the
// baseline of each import.
//   node bench/import-presets.js [N] [engines] [runs]   (default 1,000,000, sqlite,postgres, best of 2)
// Uses PUSH_TOKENS_PG_URL (default postgres://postgres@127.0.0.1:5432/test) to make its databases.
const { execFileSync } = require('node:child_process');
const { createECDH } = require('node:crypto');
const { createReadStream, createWriteStream, mkdtempSync, rmSync } = require('node:fs');
const { once } = require('node:events');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { Client } = require('pg');
const { TokenStore, readCsv, reader, detectPreset } = require('../dist/nodes/core');
const { report, timed } = require('./report');

const N = Number(process.argv[2] ?? 1_000_000);
const ENGINES = (process.argv[3] ?? 'sqlite,postgres').split(',');
const RUNS = Number(process.argv[4] ?? 2);
const ADMIN = process.env.PUSH_TOKENS_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const APP = 'bench.app';
const BATCH = 5000;

// 60% Android, 35% iOS, 5% Web Push (Chrome), each with an external user id.
const hex = (i) => i.toString(16).padStart(16, '0').repeat(4);
// Web Push keys must be points of the P-256 curve: a few real ones, shared by the web rows.
const KEYS = Array.from({ length: 32 }, (_, k) => ({ p256dh: createECDH('prime256v1').generateKeys(), auth: Buffer.alloc(16, k) }));
const b64 = (name, i) => KEYS[i % KEYS.length][name].toString('base64');
const b64url = (name, i) => KEYS[i % KEYS.length][name].toString('base64url');
function token(i) {
	const kind = i % 20;
	if (kind < 12) return { platform: 'android', code: 1, token: `f${i.toString(36)}:APA91b${'x'.repeat(140)}` };
	if (kind < 19) return { platform: 'ios', code: 0, token: hex(i) };
	const endpoint = `https://fcm.googleapis.com/fcm/send/e${i.toString(36)}:APA91b${'y'.repeat(120)}`;
	return { platform: 'web', code: 5, token: endpoint, p256: b64('p256dh', i), auth: b64('auth', i), p256url: b64url('p256dh', i), authUrl: b64url('auth', i) };
}

// The columns of test/fixtures/import/onesignal.csv (the export with its extra fields).
const ONESIGNAL_COLUMNS = 'id,identifier,session_count,language,timezone,game_version,device_os,device_type,device_model,ad_id,tags,last_active,playtime,amount_spent,created_at,invalid_identifier,badge_count,external_user_id,notification_types,web_auth,web_p256,country,timezone_id';
const csvCell = (v) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
function oneSignalRow(i) {
	const t = token(i);
	const tags = csvCell(JSON.stringify({ plan: i % 3 ? 'free' : 'pro', level: String(i % 40) }));
	const os = t.platform === 'android' ? '14' : t.platform === 'ios' ? '17.4' : '120';
	const model = t.platform === 'android' ? 'Pixel 8' : t.platform === 'ios' ? '"iPhone15,2"' : 'Chrome';
	return `${uuid(i)},${t.token},${i % 90},en,-18000,1.4.${i % 9},${os},${t.code},${model},,${tags},2026-11-${String((i % 28) + 1).padStart(2, '0')} 10:00:00,${i % 5000},0.0,2025-01-01 00:00:00,f,0,user-${i},1,${t.auth ?? ''},${t.p256 ?? ''},US,America/New_York`;
}
function ownRow(i) {
	const t = token(i);
	const value = t.platform === 'web' ? csvCell(JSON.stringify({ endpoint: t.token, keys: { p256dh: t.p256url, auth: t.authUrl } })) : t.token;
	return `${APP},${t.platform},${value},user-${i}`;
}
const uuid = (i) => `${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;

async function writeCsv(path, header, row) {
	const out = createWriteStream(path);
	let chunk = header + '\n';
	for (let i = 0; i < N; i++) {
		chunk += row(i) + '\n';
		if (chunk.length > 1 << 20) {
			if (!out.write(chunk)) await once(out, 'drain');
			chunk = '';
		}
	}
	out.end(chunk);
	await once(out, 'finish');
}

async function admin(sql) {
	const client = new Client({ connectionString: ADMIN });
	await client.connect();
	try {
		await client.query(sql);
	} finally {
		await client.end();
	}
}

/** One import of the file into a fresh store: its time, its summary and its peak RSS above the baseline (MB). */
async function importFile(engine, file, dir, label) {
	let config;
	const db = `push_tokens_bench_${label}_${process.pid}`;
	if (engine === 'sqlite') {
		// A fresh file each run: the runs import the same tokens.
		const path = join(dir, `${label}.sqlite`);
		for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
		config = { engine, path };
	} else {
		await admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
		await admin(`CREATE DATABASE ${db}`);
		const url = new URL(ADMIN);
		url.pathname = `/${db}`;
		config = { engine, connectionString: url.toString() };
	}
	const store = await TokenStore.open(config);
	try {
		global.gc?.();
		const baseline = process.memoryUsage.rss();
		let peak = baseline;
		const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
		let summary;
		const ms = await timed(async () => {
			// As the node reads a file: Detect From Header picks the preset from the first row.
			const { preset, records } = await detectPreset(readCsv(createReadStream(file, { highWaterMark: 256 * 1024 })));
			summary = await store.importTokens(records, { batchSize: BATCH, read: reader(preset, { appId: APP }), source: preset.name });
		});
		clearInterval(sampler);
		if (summary.imported !== N) throw new Error(`${label}: imported ${summary.imported} of ${N}: ${JSON.stringify(summary).slice(0, 800)}`);
		return { ms, summary, peakMb: Math.round((Math.max(peak, process.memoryUsage.rss()) - baseline) / 1048576) };
	} finally {
		await store.close();
		if (engine === 'postgres') await admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => undefined);
	}
}

/** importFile in a child process: `--child <engine> <file> <label>`, one JSON line out. */
function importInChild(engine, file, dir, label) {
	const out = execFileSync(process.execPath, ['--expose-gc', __filename, String(N), '--child', engine, file, dir, label], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
	return JSON.parse(out.trim().split('\n').pop());
}

async function main() {
	if (process.argv[3] === '--child') {
		const [engine, file, dir, label] = process.argv.slice(4);
		process.stdout.write(JSON.stringify(await importFile(engine, file, dir, label)) + '\n');
		return;
	}
	const dir = mkdtempSync(join(tmpdir(), 'push-tokens-bench-presets-'));
	try {
		const oneSignal = join(dir, 'onesignal.csv');
		const own = join(dir, 'own.csv');
		await writeCsv(oneSignal, ONESIGNAL_COLUMNS, oneSignalRow);
		await writeCsv(own, 'app_id,platform,token,user_id', ownRow);
		const rows = [];
		for (const engine of ENGINES) {
			// Best of RUNS each, the two files taking turns: one run's figure moves with this machine's disk and neighbours.
			let ceiling;
			let ours;
			for (let run = 0; run < RUNS; run++) {
				const a = importInChild(engine, own, dir, 'own');
				const b = importInChild(engine, oneSignal, dir, 'onesignal');
				if (!ceiling || a.ms < ceiling.ms) ceiling = a;
				if (!ours || b.ms < ours.ms) ours = b;
			}
			if (!/onesignal/i.test(ours.summary.source)) throw new Error(`detected ${ours.summary.source}`);
			for (const key of Object.keys(ceiling.summary.byPlatform)) {
				if (ceiling.summary.byPlatform[key].imported !== ours.summary.byPlatform[key]?.imported) throw new Error(`${key}: the two files imported different tokens`);
			}
			console.log(`${engine}: peak RSS above baseline: OneSignal export ${ours.peakMb} MB, own layout ${ceiling.peakMb} MB`);
			rows.push({
				what: `import ${N.toLocaleString('en')} rows of a OneSignal CSV export into ${engine} (vs the same tokens in this package's layout)`,
				ours: ours.ms,
				ceiling: ceiling.ms,
				target: 0.9,
				extra: { peakRssMb: ours.peakMb, ceilingPeakRssMb: ceiling.peakMb },
			});
		}
		report('import-presets', rows);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
