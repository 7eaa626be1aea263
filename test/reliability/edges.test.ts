/**
 * Issue 22 (hardening): edges where a user got a wrong answer, a raw error or a long wait.
 *   A. import: a UTF-8 byte order mark before a quoted header lost the first column (rows went
 *      into the default app); a file with CR line endings imported 0 rows with no error;
 *   B. Get Token History: a fractional limit was a raw database error; a Web Push subscription
 *      (as the Token field invites) found nothing;
 *   C. a PostgreSQL URL with `?options=-c search_path=public` made the store migrate into public;
 */
import { NodeOperationError, type IDataObject } from 'n8n-workflow';
import { Client } from 'pg';
import { closeAllStores, readCsv, readJson, TokenStore, ValidationError, type StoreConfig } from '../../nodes/core';
import { ImportPushTokens } from '../../nodes/ImportPushTokens/ImportPushTokens.node';
import { PushTokenIdentity } from '../../nodes/PushTokenIdentity/PushTokenIdentity.node';
import { ENGINES, freshConfig, openTestStore, tokens, type TestStore } from '../support/stores';
import { execute } from './support-input-context';

const APP = 'com.example.app';
const DEFAULT_APP = 'com.example.default';

const collect = async (rows: AsyncIterable<unknown>) => {
	const out: unknown[] = [];
	for await (const row of rows) out.push(row);
	return out;
};
/** The URL of a PostgreSQL test store. */
const urlOf = (config: StoreConfig) => (config.engine === 'postgres' && config.connectionString) || '';
/** The store credential as a user fills it in for this test store. */
const credentialOf = (t: TestStore): IDataObject => (t.config.engine === 'sqlite' ? { engine: 'sqlite', path: t.config.path } : { engine: 'postgres', connection: 'url', url: urlOf(t.config) });

afterAll(() => closeAllStores());

describe('A. import: the readers, chunk by chunk', () => {
	const bomCsv = Buffer.from('\uFEFF"app_id","platform","token"\n"a","android","t1"\n');

	it('a byte order mark before a quoted header is dropped, wherever the chunks cut it', async () => {
		for (let cut = 0; cut <= 4; cut++) {
			expect(await collect(readCsv([bomCsv.subarray(0, cut), bomCsv.subarray(cut)]))).toEqual([{ app_id: 'a', platform: 'android', token: 't1' }]);
		}
		const oneByteChunks = [...bomCsv].map((b) => Buffer.from([b]));
		expect(await collect(readCsv(oneByteChunks))).toEqual([{ app_id: 'a', platform: 'android', token: 't1' }]);
		// JSON too, an array or JSON Lines
		const json = Buffer.from('\uFEFF[{"token":"a"}]');
		for (let cut = 0; cut <= 4; cut++) expect(await collect(readJson([json.subarray(0, cut), json.subarray(cut)]))).toEqual([{ token: 'a' }]);
		expect(await collect(readJson(['\uFEFF{"token":"a"}\n{"token":"b"}']))).toEqual([{ token: 'a' }, { token: 'b' }]);
	});

	it('CR, CR LF and LF each end a line, a CR LF cut between chunks is one, and a quoted field keeps its line breaks (as LF)', async () => {
		const rows = [
			{ app_id: 'a', token: 't1' },
			{ app_id: 'b', token: 't2' },
		];
		expect(await collect(readCsv(['app_id,token\ra,t1\rb,t2\r']))).toEqual(rows);
		expect(await collect(readCsv(['app_id,token\ra,t1\rb,t2']))).toEqual(rows);
		expect(await collect(readCsv(['app_id,token\r', '\na,t1\r', '\nb,t2\r\n']))).toEqual(rows);
		expect(await collect(readCsv(['app_id,token\r\n\r\na,t1\n\rb,t2\r']))).toEqual(rows); // blank lines between
		expect(await collect(readCsv(['token,note\r"x","one\rtwo\r\nthree"\ry,""\r']))).toEqual([
			{ token: 'x', note: 'one\ntwo\nthree' },
			{ token: 'y', note: '' },
		]);
		// line numbers count CR-only lines
		expect(await collect(readCsv(['a,b\r1,2\r3\r']))).toEqual([{ a: '1', b: '2' }, expect.objectContaining({ reason: 'line 3: expected 2 fields as in the header, got 1' })]);
		expect(await collect(readJson(['{"token":"a"}\r{"token":"b"}\r']))).toEqual([{ token: 'a' }, { token: 'b' }]);
		expect(await collect(readJson(['{"token":"a"}\r', '\n{"token":"b"}\r\n']))).toEqual([{ token: 'a' }, { token: 'b' }]);
		expect(await collect(readJson(['[\r{"token":"a"},\r{"token":\r']))).toEqual([{ token: 'a' }, expect.objectContaining({ reason: expect.stringMatching(/^the last element/) })]);
	});
});

describe.each(ENGINES)('[%s] edges of issue 22', (engine) => {
	let t: TestStore;
	beforeAll(async () => {
		t = await openTestStore(engine);
	});
	afterAll(async () => {
		await closeAllStores();
		await t.close();
	});

	describe('A. import files: a byte order mark, CR line endings, no rows', () => {
		const importFile = (text: string, format: 'csv' | 'json' = 'csv', continueOnFail = false) =>
			execute(new ImportPushTokens(), {
				items: [{ binary: { data: { text, mimeType: format === 'csv' ? 'text/csv' : 'application/json' } } }],
				params: { mode: 'anonymous', source: 'file', binaryPropertyName: 'data', format, defaultAppId: DEFAULT_APP, defaultPlatform: '', options: {} },
				credentials: { pushTokenStoreApi: credentialOf(t) },
				continueOnFail,
			});
		const appOf = async (token: string) => (await t.store.getDevice(APP, token))?.appId ?? ((await t.store.getDevice(DEFAULT_APP, token)) ? DEFAULT_APP : null);

		it('a CSV from Excel (byte order mark, quoted header, CR LF) imports into the app its rows name, not the default app', async () => {
			const token = tokens.fcm(101);
			const [[summary]] = await importFile(`\uFEFF"app_id","platform","token"\r\n"${APP}","android","${token}"\r\n`);
			expect(summary.json).toMatchObject({ rows: 1, imported: 1, invalid: 0 });
			expect(await appOf(token)).toBe(APP);
		});

		it('a CSV and JSON Lines with CR line endings import every row', async () => {
			const csv = [tokens.fcm(102), tokens.fcm(103)];
			const [[fromCsv]] = await importFile(`app_id,platform,token\r${csv.map((token) => `${APP},android,${token}`).join('\r')}\r`);
			expect(fromCsv.json).toMatchObject({ rows: 2, imported: 2, invalid: 0 });
			const json = [tokens.fcm(104), tokens.fcm(105)];
			const [[fromJson]] = await importFile(`\uFEFF${json.map((token) => JSON.stringify({ app_id: APP, platform: 'android', token })).join('\r')}\r`, 'json');
			expect(fromJson.json).toMatchObject({ rows: 2, imported: 2, invalid: 0 });
			for (const token of [...csv, ...json]) expect(await appOf(token)).toBe(APP);
		});

		it('a file that yields no rows is an error saying so (an error item with Continue On Fail), not a summary of zeros', async () => {
			for (const [text, format, expected] of [
				['app_id,platform,token\n', 'csv', 'a CSV file is a header row, then a row per token'],
				['', 'csv', 'a CSV file is a header row, then a row per token'],
				['[]', 'json', 'a JSON file is an array of objects, or an object per line'],
				['\n\n', 'json', 'a JSON file is an array of objects, or an object per line'],
			] as const) {
				const error = await importFile(text, format).catch((e: unknown) => e);
				expect(error).toBeInstanceOf(NodeOperationError);
				expect((error as Error).message).toBe(`Item 1: no rows found in the file (${expected})`);
				const [[item]] = await importFile(text, format, true);
				expect(item.json.error).toBe(`Item 1: no rows found in the file (${expected})`);
			}
		});
	});

	describe('B. Get Token History: the limit, and a Web Push subscription as the token', () => {
		const sub = tokens.webpush(201);
		const history = (params: IDataObject) =>
			execute(new PushTokenIdentity(), { params: { operation: 'getTokenHistory', historyOf: 'token', appId: APP, returnAll: false, limit: 50, ...params }, credentials: { pushTokenStoreApi: credentialOf(t) } });
		beforeAll(async () => {
			await t.store.register({ appId: APP, platform: 'web', token: sub, userId: 'web-history' });
		});

		it('a limit that is not a whole number of at least 1 is a validation error naming the field, in the store and in the node', async () => {
			for (const limit of [0.5, 2.5, 0, -1, Number.NaN]) {
				const error = await t.store.changelog({ userId: 'web-history' }, { limit, newestFirst: true }).catch((e: unknown) => e);
				expect(error).toBeInstanceOf(ValidationError);
				expect((error as Error).message).toMatch(/^changelog page: field "limit": expected a whole number of at least 1, got /);
			}
			await expect(t.store.changelog({ userId: 'web-history' }, { limit: 10, before: 1.5 })).rejects.toThrow('field "before": expected a whole number of at least 1, got 1.5');
			const error = await history({ token: sub.endpoint, limit: 2.5 }).catch((e: unknown) => e);
			expect(error).toBeInstanceOf(NodeOperationError);
			expect((error as Error).message).toBe('Item 1: field "limit": expected a whole number of at least 1, got 2.5');
			expect(await t.store.changelog({ userId: 'web-history' }, 1)).toHaveLength(1);
		});

		it('the subscription JSON (or object, or an endpoint in another spelling) finds the history of its endpoint', async () => {
			const expected = [{ type: 'registered', token: sub.endpoint, toUserId: 'web-history' }];
			expect(await t.store.changelog({ appId: APP, token: JSON.stringify(sub) })).toMatchObject(expected);
			expect(await t.store.changelog({ appId: APP, token: sub })).toMatchObject(expected);
			expect(await t.store.changelog({ appId: APP, token: JSON.stringify({ ...sub, endpoint: sub.endpoint.replace('https://push.example.com', 'HTTPS://PUSH.example.com:443') }) })).toMatchObject(expected);
			const [out] = await history({ token: JSON.stringify(sub) });
			expect(out.map((o) => o.json)).toMatchObject(expected);
			await expect(t.store.changelog({ appId: APP, token: '{"keys":{}}' })).rejects.toThrow('field "token": expected a token string or a subscription with an endpoint, got "{\\"keys\\":{}}"');
		});
	});
});

describe('[postgres] C. a URL whose options set search_path', () => {
	it('the store migrates into its schema and works there; public stays empty', async () => {
		const { config, dispose } = await freshConfig('postgres');
		const url = new URL(urlOf(config));
		url.searchParams.set('options', '-c search_path=public');
		const store = await TokenStore.open({ engine: 'postgres', connectionString: url.toString() });
		const client = new Client({ connectionString: urlOf(config) });
		try {
			await store.register({ appId: APP, platform: 'android', token: tokens.fcm(301) });
			expect((await store.getDevice(APP, tokens.fcm(301)))?.appId).toBe(APP);
			await client.connect();
			const { rows } = await client.query<{ schema: string; n: number }>(
				`SELECT table_schema AS schema, count(*)::int AS n FROM information_schema.tables WHERE table_schema IN ('public', 'push_tokens') GROUP BY 1 ORDER BY 1`,
			);
			expect(rows).toEqual([{ schema: 'push_tokens', n: 7 }]);
		} finally {
			await client.end();
			await store.close();
			await dispose();
		}
	});
});
