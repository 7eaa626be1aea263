// Import N tokens into SQLite through the import path (validation, skip-existing, temporary
// profiles, changelog) vs the raw ceiling: better-sqlite3 inserting the same rows (profiles,
// devices, events) in batched transactions with prepared statements and nothing else.
// Then a re-import of the same N (all skipped).   node bench/import-sqlite.js [N]
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const Database = require('better-sqlite3');
const { TokenStore, newId } = require('../dist/nodes/core');
const { report, timed } = require('./report');

const N = Number(process.argv[2] ?? 1_000_000);
const APP = 'bench.app';
const token = (i) => `fcm-${i.toString(36)}:APA91b${'x'.repeat(140)}`;
function* rows() {
	for (let i = 0; i < N; i++) yield { appId: APP, platform: 'android', token: token(i), deviceId: `d-${i}` };
}

async function main() {
	const dir = mkdtempSync(join(tmpdir(), 'push-tokens-bench-'));
	try {
		// The ceiling: same tables (the store's own schema), same rows, prepared statements, 5,000 rows a transaction.
		const seed = await TokenStore.open({ engine: 'sqlite', path: join(dir, 'raw.sqlite') });
		await seed.close();
		const raw = new Database(join(dir, 'raw.sqlite'));
		raw.pragma('journal_mode = WAL');
		raw.pragma('synchronous = NORMAL');
		raw.pragma('cache_size = -65536'); // as the store sets it
		const insertProfile = raw.prepare("INSERT INTO profiles (id, external_id, kind, unsubscribed, created_at, updated_at) VALUES (?, NULL, 'imported', 0, ?, ?)");
		const insertDevice = raw.prepare(
			"INSERT INTO devices (id, app_id, token, device_id, platform, provider, address_data, profile_id, foreground, push_enabled, provisional, last_status, consecutive_bounces, registered_at, last_seen_at, last_active_at) VALUES (?, ?, ?, ?, 'android', 'fcm', NULL, ?, 1, NULL, 0, 'unused', 0, ?, ?, NULL)",
		);
		const insertEvent = raw.prepare("INSERT INTO token_events (at, type, app_id, token, device_id, to_profile_id, reason) VALUES (?, 'imported', ?, ?, ?, ?, 'push token import')");
		const batch = raw.transaction((list, now) => {
			for (const r of list) {
				const profile = newId();
				insertProfile.run(profile, now, now);
				insertDevice.run(newId(), r.appId, r.token, r.deviceId, profile, now, now);
				insertEvent.run(now, r.appId, r.token, r.deviceId, profile);
			}
		});
		const ceiling = await timed(async () => {
			let list = [];
			for (const r of rows()) {
				list.push(r);
				if (list.length === 5000) {
					batch(list, Date.now());
					list = [];
				}
			}
			if (list.length) batch(list, Date.now());
		});
		raw.close();

		const store = await TokenStore.open({ engine: 'sqlite', path: join(dir, 'store.sqlite') });
		let summary;
		const ours = await timed(async () => {
			summary = await store.importTokens(rows(), { batchSize: 5000 });
		});
		if (summary.imported !== N) throw new Error(`imported ${summary.imported} of ${N}`);
		let again;
		const reimport = await timed(async () => {
			again = await store.importTokens(rows(), { batchSize: 5000 });
		});
		if (again.skippedExisting !== N) throw new Error(`re-import skipped ${again.skippedExisting} of ${N}`);
		await store.close();

		report('import-sqlite', [
			{ what: `import ${N.toLocaleString('en')} tokens into SQLite`, ours, ceiling, target: 0.6 },
			{ what: `re-import the same ${N.toLocaleString('en')} (all skipped)`, ours: reimport, ceiling, target: null },
		]);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
