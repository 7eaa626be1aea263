/**
 * The store's own PostgreSQL schema: on a database that already has tables of the same names
 * (often n8n's own database), the store keeps to its schema; two schemas are two stores; a store
 * that 0.1.0 made in `public` is moved into the schema on first open.
 */
import { Client } from 'pg';
import { DEFAULT_SCHEMA, TokenStore } from '../../nodes/core';
import { freshConfig, tokens } from '../support/stores';

const APP = 'app';
let url: string;
let dispose: () => Promise<void>;

beforeEach(async () => {
	const fresh = await freshConfig('postgres');
	url = (fresh.config as { connectionString: string }).connectionString;
	dispose = fresh.dispose;
});
afterEach(() => dispose());

async function query<T = Record<string, unknown>>(text: string): Promise<T[]> {
	const client = new Client({ connectionString: url });
	await client.connect();
	try {
		return (await client.query(text)).rows as T[];
	} finally {
		await client.end();
	}
}

/** Our tables, where they are. */
const tablesOf = async (schema: string) =>
	(await query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = '${schema}' ORDER BY table_name`)).map((r) => r.table_name);

const STORE_TABLES = ['dead_tokens', 'devices', 'profiles', 'push_tokens_migrations', 'receipts', 'send_log', 'send_report_counts', 'send_reports', 'sends', 'token_events'];

it('on a database with its own public.profiles and public.devices, the store lives in its schema and leaves them untouched', async () => {
	await query(`CREATE TABLE public.profiles (id serial PRIMARY KEY, name text); INSERT INTO public.profiles (name) VALUES ('theirs')`);
	await query(`CREATE TABLE public.devices (serial_number text PRIMARY KEY); INSERT INTO public.devices VALUES ('X-1')`);
	const before = JSON.stringify(await query(`SELECT * FROM public.profiles`)) + JSON.stringify(await query(`SELECT * FROM public.devices`));

	const store = await TokenStore.open({ engine: 'postgres', connectionString: url });
	try {
		const registered = await store.register({ appId: APP, platform: 'android', token: tokens.fcm(1), userId: 'alice' });
		expect(registered.action).toBe('registered');
		await store.identify({ appId: APP, token: tokens.fcm(1), userId: 'bob' });
		expect(await store.getProfile({ userId: 'bob' })).toMatchObject({ push_tokens: [expect.objectContaining({ token: tokens.fcm(1) })] });
		await store.cleanup({ staleAfterDays: 1 });
	} finally {
		await store.close();
	}
	expect(await tablesOf(DEFAULT_SCHEMA)).toEqual(STORE_TABLES);
	expect(await tablesOf('public')).toEqual(['devices', 'profiles']);
	expect(JSON.stringify(await query(`SELECT * FROM public.profiles`)) + JSON.stringify(await query(`SELECT * FROM public.devices`))).toBe(before);
});

it('two schemas on one database are two independent stores', async () => {
	const a = await TokenStore.open({ engine: 'postgres', connectionString: url, schema: 'store_a' });
	const b = await TokenStore.open({ engine: 'postgres', connectionString: url, schema: 'store_b' });
	try {
		await a.register({ appId: APP, platform: 'android', token: tokens.fcm(1), userId: 'alice' });
		await b.register({ appId: APP, platform: 'android', token: tokens.fcm(2), userId: 'alice' });
		await b.recordOutcome({ appId: APP, token: tokens.fcm(1), outcome: 'invalid-token', reason: 'UNREGISTERED' }); // tombstoned in b only
		expect(await a.getDevice(APP, tokens.fcm(1))).not.toBeNull();
		expect(await a.getDevice(APP, tokens.fcm(2))).toBeNull();
		expect(await b.getDevice(APP, tokens.fcm(2))).not.toBeNull();
		expect((await a.register({ appId: APP, platform: 'android', token: tokens.fcm(1) })).action).toBe('refreshed');
		expect((await b.register({ appId: APP, platform: 'android', token: tokens.fcm(1) })).action).toBe('refused');
	} finally {
		await Promise.all([a.close(), b.close()]);
	}
	expect(await tablesOf('store_a')).toEqual(STORE_TABLES);
	expect(await tablesOf('store_b')).toEqual(STORE_TABLES);
	expect(await tablesOf('public')).toEqual([]);
});

it('a store that 0.1.0 made in public is moved into the schema on first open, whole, by one of several workers opening at once', async () => {
	// 0.1.0 kept its tables (and its migrations table) in public.
	const old = await TokenStore.open({ engine: 'postgres', connectionString: url, schema: 'public' });
	await old.register({ appId: APP, platform: 'android', token: tokens.fcm(1), userId: 'alice' });
	await old.recordOutcome({ appId: APP, token: tokens.fcm(9), outcome: 'invalid-token', reason: 'UNREGISTERED' });
	await old.close();
	expect(await tablesOf('public')).toEqual(STORE_TABLES);

	const stores = await Promise.all(Array.from({ length: 4 }, () => TokenStore.open({ engine: 'postgres', connectionString: url })));
	try {
		expect(await tablesOf('public')).toEqual([]);
		expect(await tablesOf(DEFAULT_SCHEMA)).toEqual(STORE_TABLES);
		expect(await stores[0].getProfile({ userId: 'alice' })).toMatchObject({ push_tokens: [expect.objectContaining({ token: tokens.fcm(1) })] });
		expect((await stores[1].register({ appId: APP, platform: 'android', token: tokens.fcm(9) })).action).toBe('refused'); // the tombstone moved too
		// The changelog's id sequence moved with its table: new rows keep numbering after the old ones.
		await stores[2].identify({ appId: APP, token: tokens.fcm(1), userId: 'bob' });
		const ids = (await stores[2].changelog({ appId: APP, token: tokens.fcm(1) })).map((e) => e.id);
		expect(ids).toEqual([...ids].sort((x, y) => x - y));
		expect(new Set(ids).size).toBe(ids.length);
	} finally {
		await Promise.all(stores.map((s) => s.close()));
	}
});
