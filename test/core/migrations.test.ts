/**
 * A store made before the send log of integers (schema version 2: a row of send id, app and token
 * per device) keeps what its send ids reached when it is opened by this version.
 */
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { DEFAULT_SCHEMA, TokenStore } from '../../nodes/core';
import { MIGRATIONS, MIGRATIONS_TABLE, migrationTableDdl, pendingStatements } from '../../nodes/core/store/migrations';
import { ENGINES, freshConfig, tokens } from '../support/stores';

const APP = 'app';
const AT = Date.UTC(2026, 5, 1);

/** Runs SQL on the fresh store's database, in the store's schema, as version 2 of this package would have. */
async function asVersion2(config: Record<string, unknown>, statements: string[]): Promise<void> {
	if (config.engine === 'sqlite') {
		const db = new Database(config.path as string);
		try {
			db.transaction(() => statements.forEach((statement) => db.exec(statement)))();
		} finally {
			db.close();
		}
		return;
	}
	const client = new Client({ connectionString: config.connectionString as string, options: `-c search_path=${DEFAULT_SCHEMA}` });
	await client.connect();
	try {
		await client.query(`CREATE SCHEMA ${DEFAULT_SCHEMA}`);
		for (const statement of statements) await client.query(statement);
	} finally {
		await client.end();
	}
}

describe.each(ENGINES)('[%s] migrations', (engine) => {
	it('a version 2 send log is carried over: its send ids still skip the devices they reached, and count from their first use', async () => {
		const { config, dispose } = await freshConfig(engine);
		try {
			const v2 = pendingStatements(engine, 0).filter((m) => m.version <= 2);
			const claims = (sendId: string, from: number, n: number) => Array.from({ length: n }, (_, i) => ({ sendId, appId: APP, token: tokens.fcm(from + i) }));
			const rows = [...claims('campaign-a', 0, 7000), ...claims('campaign-b', 3, 2)]; // more than one page of the carry-over
			await asVersion2(config as Record<string, unknown>, [
				migrationTableDdl(engine),
				...v2.flatMap((m) => m.statements),
				...v2.map((m) => `INSERT INTO ${MIGRATIONS_TABLE} (version, name, applied_at) VALUES (${m.version}, 'v${m.version}', 0)`),
				...rows.map((c, i) => `INSERT INTO send_log (send_id, app_id, token, at) VALUES ('${c.sendId}', '${c.appId}', '${c.token}', ${AT + i})`),
			]);

			const store = await TokenStore.open(config);
			try {
				const applied = await store.engine.db.selectFrom(MIGRATIONS_TABLE as 'sends').select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
				expect(Number(applied.n)).toBe(MIGRATIONS.length);
				expect(await store.engine.db.selectFrom('sends').select(['send_id', 'at']).orderBy('send_id').execute()).toEqual([
					{ send_id: 'campaign-a', at: AT },
					{ send_id: 'campaign-b', at: AT + 7000 },
				]);
				// What they reached is still claimed; the devices they did not reach are not.
				expect((await store.claimSends(claims('campaign-a', 0, 7000))).size).toBe(0);
				expect((await store.claimSends(claims('campaign-b', 0, 6))).size).toBe(4);
			} finally {
				await store.close();
			}
		} finally {
			await dispose();
		}
	});

	it('a version 3 store gains token kinds (an FCM installation id told by its shape) and loses the provider CHECK, its indexes kept', async () => {
		const { config, dispose } = await freshConfig(engine);
		try {
			const v3 = pendingStatements(engine, 0).filter((m) => m.version <= 3);
			const device = (id: string, token: string, platform: string, provider: string) =>
				`INSERT INTO devices (id, app_id, token, device_id, platform, provider, profile_id, foreground, last_status, registered_at, last_seen_at) VALUES ('${id}', '${APP}', '${token}', '${id}-device', '${platform}', '${provider}', 'p1', 1, 'unused', ${AT}, ${AT})`;
			await asVersion2(config as Record<string, unknown>, [
				migrationTableDdl(engine),
				...v3.flatMap((m) => [...m.statements, ...m.finally]),
				...v3.map((m) => `INSERT INTO ${MIGRATIONS_TABLE} (version, name, applied_at) VALUES (${m.version}, 'v${m.version}', 0)`),
				`INSERT INTO profiles (id, external_id, kind, created_at, updated_at) VALUES ('p1', 'kim', 'identified', ${AT}, ${AT})`,
				device('d1', tokens.fcm(1), 'android', 'fcm'),
				device('d2', tokens.fid(2), 'android', 'fcm'),
				device('d3', tokens.apns(3), 'ios', 'apns'),
				device('d4', 'https://push.example.com/send/4', 'web', 'webpush'),
			]);

			const store = await TokenStore.open(config);
			try {
				const kinds = await store.engine.db.selectFrom('devices').select(['id', 'token_kind']).orderBy('id').execute();
				expect(kinds).toEqual([
					{ id: 'd1', token_kind: 'registration-token' },
					{ id: 'd2', token_kind: 'fid' },
					{ id: 'd3', token_kind: 'device-token' },
					{ id: 'd4', token_kind: 'subscription' },
				]);
				// A provider the registry may add later needs no table change: the CHECK is gone.
				const later = { id: 'd5', app_id: APP, token: 'hms-1', device_id: null, platform: 'android' as const, provider: 'hms' as 'fcm', token_kind: 'token', address_data: null, profile_id: 'p1', foreground: 1 as const, push_enabled: null, provisional: 0 as const, last_status: 'unused' as const, consecutive_bounces: 0, registered_at: AT, last_seen_at: AT, last_active_at: null };
				await store.engine.db.insertInto('devices').values(later).execute();
				// The indexes are still there: (app, token) and (app, device id) stay unique.
				await expect(store.engine.db.insertInto('devices').values({ ...later, id: 'd6' }).execute()).rejects.toThrow(/unique|UNIQUE/);
				await expect(store.engine.db.insertInto('devices').values({ ...later, id: 'd7', token: 'hms-2', device_id: 'd1-device' }).execute()).rejects.toThrow(/unique|UNIQUE/);
				// What the store holds still works: the FCM token's owner is found, an app open refreshes it.
				expect(await store.register({ appId: APP, platform: 'android', token: tokens.fcm(1) })).toMatchObject({ action: 'refreshed', userId: 'kim', device: { tokenKind: 'registration-token' } });
			} finally {
				await store.close();
			}
		} finally {
			await dispose();
		}
	});
});
