/**
 * Stores made by earlier versions, opened by this one: a send log before its integers (version
 * 2), devices before token kinds (version 3), and a store written by the code of version 6
 * (test/fixtures/store-v6: APNs' environment and Web Push's keys in columns of their own).
 */
import '../fakes/network-edge.cjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import webpush from 'web-push';
import { ApnsTransport, DEFAULT_SCHEMA, PushMessage, Sender, TokenStore, WebPushTransport } from '../../nodes/core';
import { DIALECTS } from '../../nodes/core/store/engines';
import { MIGRATIONS, MIGRATIONS_TABLE, migrationTableDdl, pendingStatements } from '../../nodes/core/store/migrations';
import { startFakes, type Fakes } from '../fakes/providers';
import { ENGINES, freshConfig, tokens } from '../support/stores';

/** What test/fixtures/store-v6/make.cjs wrote. */
interface Store6 {
	schemaVersion: number;
	app: string;
	devices: Record<'apnsSandbox' | 'apnsProduction' | 'apnsUnsaid' | 'fcm' | 'fid' | 'dead', string> & { webpush: { endpoint: string; keys: { p256dh: string; auth: string } } };
	webPushSecret: { privateKey: string; auth: string };
	rows: Record<string, Array<Record<string, string | number | null>>>;
}
const store6 = JSON.parse(readFileSync(join(__dirname, '../fixtures/store-v6/rows.json'), 'utf8')) as Store6;

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
			const v2 = pendingStatements(DIALECTS[engine], 0).filter((m) => m.version <= 2);
			const claims = (sendId: string, from: number, n: number) => Array.from({ length: n }, (_, i) => ({ sendId, appId: APP, token: tokens.fcm(from + i) }));
			const rows = [...claims('campaign-a', 0, 7000), ...claims('campaign-b', 3, 2)]; // more than one page of the carry-over
			await asVersion2(config as Record<string, unknown>, [
				migrationTableDdl(DIALECTS[engine]),
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
			const v3 = pendingStatements(DIALECTS[engine], 0).filter((m) => m.version <= 3);
			const device = (id: string, token: string, platform: string, provider: string) =>
				`INSERT INTO devices (id, app_id, token, device_id, platform, provider, profile_id, foreground, last_status, registered_at, last_seen_at) VALUES ('${id}', '${APP}', '${token}', '${id}-device', '${platform}', '${provider}', 'p1', 1, 'unused', ${AT}, ${AT})`;
			await asVersion2(config as Record<string, unknown>, [
				migrationTableDdl(DIALECTS[engine]),
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

	it('a store written by version 6 keeps every device with its provider data (address_data): APNs environments, Web Push keys, lookups, sends', async () => {
		const { config, dispose } = await freshConfig(engine);
		try {
			const v6 = pendingStatements(DIALECTS[engine], 0).filter((m) => m.version <= 6);
			expect(store6.schemaVersion).toBe(6);
			await asVersion2(config as Record<string, unknown>, [
				migrationTableDdl(DIALECTS[engine]),
				...v6.flatMap((m) => [...m.statements, ...m.finally]),
				...v6.map((m) => `INSERT INTO ${MIGRATIONS_TABLE} (version, name, applied_at) VALUES (${m.version}, 'v${m.version}', 0)`),
				...fixtureInserts(engine),
			]);
			const old = store6.rows.devices;
			const { devices: given, app } = store6;

			const store = await TokenStore.open(config);
			try {
				// The three columns are gone; each device's values are its provider's data.
				const data = await store.engine.db.selectFrom('devices').select(['token', 'address_data']).execute();
				expect(Object.fromEntries(data.map((r) => [r.token, r.address_data === null ? null : JSON.parse(r.address_data)]))).toEqual({
					[given.apnsSandbox]: { environment: 'sandbox' },
					[given.apnsProduction]: { environment: 'production' },
					[given.apnsUnsaid]: null,
					[given.fid]: null,
					[given.webpush.endpoint]: given.webpush.keys,
				});
				// Every device kept, shown as before.
				for (const row of old) {
					expect(await store.getDevice(app, String(row.token))).toMatchObject({
						id: row.id,
						provider: row.provider,
						tokenKind: row.token_kind,
						deviceId: row.device_id,
						profileId: row.profile_id,
						environment: row.environment,
						webPushKeys: row.web_p256dh ? { p256dh: row.web_p256dh, auth: row.web_auth } : null,
						timeZone: row.time_zone,
						language: row.language,
					});
				}
				// Lookups: a subscription finds its device; the changelog, the tombstone and the send log are kept.
				expect(await store.identify({ appId: app, token: given.webpush, userId: 'lee' })).toMatchObject({ action: 'unchanged', device: { token: given.webpush.endpoint } });
				expect((await store.changelog({ appId: app, token: given.fcm })).map((e) => e.type)).toEqual(['registered', 'superseded']);
				expect(await store.register({ appId: app, platform: 'android', token: given.dead })).toMatchObject({ action: 'refused' });
				expect((await store.claimSends([{ sendId: 'campaign-1', appId: app, token: given.fid }])).size).toBe(0);
				// An app open that does not say its environment keeps it; a new event gets a new id.
				expect(await store.register({ appId: app, platform: 'ios', token: given.apnsSandbox, userId: 'kim' })).toMatchObject({ action: 'refreshed', changed: [], device: { environment: 'sandbox', data: { environment: 'sandbox' } } });
				expect(await store.register({ appId: app, platform: 'ios', token: given.apnsUnsaid, environment: 'sandbox' })).toMatchObject({ changed: ['environment'], device: { environment: 'sandbox' } });
				expect((await store.changelog({ appId: app, token: given.apnsUnsaid })).map((e) => [e.type, e.reason])).toEqual([
					['registered', null],
					['refreshed', 'app open: environment null → sandbox'],
				]);

				// Sent as before: each APNs device to its environment's host, the Web Push one encrypted with its stored keys.
				fakes.reset();
				fakes.webpush.subscribe('store-v6', store6.webPushSecret);
				const vapid = webpush.generateVAPIDKeys();
				fakes.webpush.vapidPublicKey = vapid.publicKey;
				const transports = {
					apns: new ApnsTransport({ teamId: fakes.apns.teamId, keyId: fakes.apns.keyId, signingKey: fakes.apns.signingKey, bundleId: fakes.apns.bundleId }),
					webpush: new WebPushTransport({ subject: 'mailto:ops@example.com', publicKey: vapid.publicKey, privateKey: vapid.privateKey, allowedPrivateHosts: [fakes.webpush.host] }),
				};
				try {
					const devices = await store.getDevices([given.apnsSandbox, given.apnsProduction, given.webpush.endpoint].map((token) => ({ appId: app, token })));
					const results = await new Sender(store, transports).send([...devices.values()], PushMessage.parse({ title: 'Hello', body: 'World' }));
					expect(results.map((r) => r.outcome)).toEqual(['delivered', 'delivered', 'delivered']);
					const hosts = Object.fromEntries(fakes.apns.received.map((r) => [r.token, String(r.headers[':authority']).split(':')[0]]));
					expect(hosts).toEqual({ [given.apnsSandbox]: 'api.sandbox.push.apple.com', [given.apnsProduction]: 'api.push.apple.com' });
					expect(fakes.webpush.received.map((r) => r.body)).toEqual([expect.objectContaining({ title: 'Hello', body: 'World' })]);
				} finally {
					await Promise.all(Object.values(transports).map((t) => t.close()));
				}
			} finally {
				await store.close();
			}
		} finally {
			await dispose();
		}
	});
});

let fakes: Fakes;
beforeAll(async () => {
	fakes = await startFakes();
	process.env.PUSH_TOKENS_FAKE_ROUTES = JSON.stringify(fakes.routes);
});
afterAll(() => fakes.close());

/** The fixture's rows as INSERTs; an identity column (PostgreSQL) takes the stored ids, and its sequence goes on after them. */
function fixtureInserts(engine: string): string[] {
	const literal = (value: unknown) => (value === null ? 'NULL' : typeof value === 'number' ? String(value) : `'${String(value).replace(/'/g, "''")}'`);
	const serial = ['token_events', 'sends'];
	const inserts = Object.entries(store6.rows).flatMap(([table, rows]) =>
		rows.map((row) => `INSERT INTO ${table} (${Object.keys(row).join(', ')})${engine === 'postgres' && serial.includes(table) ? ' OVERRIDING SYSTEM VALUE' : ''} VALUES (${Object.values(row).map(literal).join(', ')})`),
	);
	return engine === 'postgres' ? [...inserts, ...serial.map((table) => `SELECT setval(pg_get_serial_sequence('${table}', 'id'), (SELECT MAX(id) FROM ${table}))`)] : inserts;
}
