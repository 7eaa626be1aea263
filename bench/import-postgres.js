// Import N tokens into PostgreSQL through the import path vs the raw ceiling: the same rows
// (profiles, devices, events) inserted with unnest() arrays, one statement per table per
// 5,000 rows, one transaction each, nothing else.   node bench/import-postgres.js [N]
// Uses PUSH_TOKENS_PG_URL (default postgres://postgres@127.0.0.1:5432/test) to make its databases.
const { Client } = require('pg');
const { DEFAULT_SCHEMA, TokenStore, newId } = require('../dist/nodes/core');
const { report, timed } = require('./report');

const N = Number(process.argv[2] ?? 1_000_000);
const ADMIN = process.env.PUSH_TOKENS_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const APP = 'bench.app';
const token = (i) => `fcm-${i.toString(36)}:APA91b${'x'.repeat(140)}`;
function* rows() {
	for (let i = 0; i < N; i++) yield { appId: APP, platform: 'android', token: token(i), deviceId: `d-${i}` };
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

async function freshDatabase(name) {
	await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
	await admin(`CREATE DATABASE ${name}`);
	const url = new URL(ADMIN);
	url.pathname = `/${name}`;
	return url.toString();
}

async function main() {
	const names = [`push_tokens_bench_raw_${process.pid}`, `push_tokens_bench_ours_${process.pid}`];
	try {
		const rawUrl = await freshDatabase(names[0]);
		await (await TokenStore.open({ engine: 'postgres', connectionString: rawUrl })).close(); // the store's schema
		const raw = new Client({ connectionString: rawUrl, options: `-c search_path=${DEFAULT_SCHEMA}` });
		await raw.connect();
		const ceiling = await timed(async () => {
			let batch = [];
			const flush = async () => {
				const now = Date.now();
				const profiles = batch.map(() => newId());
				await raw.query('BEGIN');
				await raw.query("INSERT INTO profiles (id, kind, unsubscribed, created_at, updated_at) SELECT id, 'imported', 0, $2, $2 FROM unnest($1::text[]) AS id", [profiles, now]);
				await raw.query(
					"INSERT INTO devices (id, app_id, token, device_id, platform, provider, profile_id, foreground, provisional, last_status, consecutive_bounces, registered_at, last_seen_at) SELECT d.id, $1, d.token, d.device_id, 'android', 'fcm', d.profile_id, 1, 0, 'unused', 0, $5, $5 FROM unnest($2::text[], $3::text[], $4::text[], $6::text[]) AS d(id, token, device_id, profile_id)",
					[APP, batch.map(() => newId()), batch.map((r) => r.token), batch.map((r) => r.deviceId), now, profiles],
				);
				await raw.query(
					"INSERT INTO token_events (at, type, app_id, token, device_id, to_profile_id, reason) SELECT $1, 'imported', $2, e.token, e.device_id, e.profile_id, 'push token import' FROM unnest($3::text[], $4::text[], $5::text[]) AS e(token, device_id, profile_id)",
					[now, APP, batch.map((r) => r.token), batch.map((r) => r.deviceId), profiles],
				);
				await raw.query('COMMIT');
				batch = [];
			};
			for (const r of rows()) {
				batch.push(r);
				if (batch.length === 5000) await flush();
			}
			if (batch.length) await flush();
		});
		await raw.end();

		const store = await TokenStore.open({ engine: 'postgres', connectionString: await freshDatabase(names[1]) });
		let summary;
		const ours = await timed(async () => {
			summary = await store.importTokens(rows(), { batchSize: 5000 });
		});
		await store.close();
		if (summary.imported !== N) throw new Error(`imported ${summary.imported} of ${N}`);
		report('import-postgres', [{ what: `import ${N.toLocaleString('en')} tokens into PostgreSQL`, ours, ceiling, target: 0.5 }]);
	} finally {
		for (const name of names) await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
