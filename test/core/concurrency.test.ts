/**
 * Concurrent identify / logout on the same tokens, in one process and across OS processes:
 * afterwards every token has exactly one owner and its changelog replays to that owner.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TokenStore, openStore, closeAllStores } from '../../nodes/core';
import { MIGRATIONS } from '../../nodes/core/store/migrations';
import { checkStore } from '../support/replay';
import { ENGINES, freshConfig, openTestStore, tokens } from '../support/stores';

const run = promisify(execFile);
const APP = 'app';

/** The store's changelog replays to its tables (test/support/replay.ts); the listed tokens are there, once each. */
async function checkTokens(store: TokenStore, list: string[]) {
	const check = await checkStore(store.engine.db);
	expect(check.problems).toEqual([]);
	expect(list.filter((token) => !check.tokens.get(`${APP}\u0000${token}`)?.present)).toEqual([]);
	return { moves: check.counts.moved ?? 0, clears: check.counts.cleared ?? 0 };
}

describe.each(ENGINES)('[%s] concurrency', (engine) => {
	it('20 concurrent identify calls on one token leave one owner and a truthful changelog', async () => {
		const t = await openTestStore(engine);
		try {
			await t.store.register({ appId: APP, platform: 'android', token: tokens.fcm(1) });
			const results = await Promise.all(Array.from({ length: 20 }, (_, i) => t.store.identify({ appId: APP, token: tokens.fcm(1), userId: `user-${i}` })));
			const { moves } = await checkTokens(t.store, [tokens.fcm(1)]);
			expect(moves).toBe(results.filter((r) => r.action === 'moved').length);
			expect(moves).toBe(20);
			// Everyone but the last user lost the token; only the last one holds it.
			const holders = await Promise.all(results.map(async (r) => (await t.store.getProfile({ userId: r.userId }))!.push_tokens.length));
			expect(holders.reduce((a, b) => a + b, 0)).toBe(1);
		} finally {
			await t.close();
		}
	});

	it('20 concurrent first registrations of one token, and 20 logins of new devices as one new user, queue on their keys: one device, one user, nothing retried', async () => {
		const t = await openTestStore(engine);
		try {
			const retries = t.store.engine.retries();
			const first = await Promise.all(Array.from({ length: 20 }, () => t.store.register({ appId: APP, platform: 'android', token: tokens.fcm(1), userId: 'kim' })));
			expect(first.map((r) => r.action).sort()).toEqual([...Array(19).fill('refreshed'), 'registered']);
			for (let i = 2; i <= 21; i++) await t.store.register({ appId: APP, platform: 'android', token: tokens.fcm(i) });
			await Promise.all(Array.from({ length: 20 }, (_, i) => t.store.identify({ appId: APP, token: tokens.fcm(i + 2), userId: 'lee' })));
			expect((await t.store.getProfile({ userId: 'lee' }))!.push_tokens).toHaveLength(20);
			expect((await t.store.getProfile({ userId: 'kim' }))!.push_tokens).toHaveLength(1);
			// (without the key locks each of these races is a unique violation, run again)
			expect(t.store.engine.retries() - retries).toBe(0);
			await checkTokens(t.store, [tokens.fcm(1)]);
		} finally {
			await t.close();
		}
	});

	it('4 OS processes identifying and logging out on shared tokens lose nothing', async () => {
		const { config, dispose } = await freshConfig(engine);
		const store = await TokenStore.open(config);
		try {
			const list = Array.from({ length: 3 }, (_, i) => tokens.fcm(i));
			for (const token of list) await store.register({ appId: APP, platform: 'android', token });
			const worker = join(__dirname, '../support/identify-worker.js');
			const outputs = await Promise.all(
				['w1', 'w2', 'w3', 'w4'].map((name) =>
					run(process.execPath, [worker, JSON.stringify(config), name, '150'], { env: { ...process.env, WORKER_TOKENS: JSON.stringify(list) } }),
				),
			);
			const seen = outputs.map((o) => JSON.parse(o.stdout) as Record<string, number>);
			const total = (action: string) => seen.reduce((sum, s) => sum + (s[action] ?? 0), 0);
			expect(total('moved') + total('unchanged') + total('anonymized')).toBe(600);
			const { moves, clears } = await checkTokens(store, list);
			expect(moves).toBe(total('moved'));
			expect(clears).toBe(total('anonymized'));
		} finally {
			await store.close();
			await dispose();
		}
	});

	it('4 processes and 4 stores opening one empty database at once migrate it exactly once', async () => {
		const { config, dispose } = await freshConfig(engine);
		const worker = join(__dirname, '../support/identify-worker.js');
		try {
			const [stores] = await Promise.all([
				Promise.all(Array.from({ length: 4 }, () => TokenStore.open(config))),
				...Array.from({ length: 4 }, () => run(process.execPath, [worker, JSON.stringify(config), 'opener', '0'], { env: { ...process.env, WORKER_TOKENS: '[]' } })),
			]);
			const applied = await stores[0].engine.db
				.selectFrom('push_tokens_migrations' as 'profiles')
				.select(({ fn }) => fn.countAll<number>().as('n'))
				.executeTakeFirstOrThrow();
			expect(Number(applied.n)).toBe(MIGRATIONS.length); // each once: a second would have failed its process on the primary key
			await Promise.all(stores.map((s) => s.close()));
		} finally {
			await dispose();
		}
	});

	it('openStore gives every caller of one config the same store', async () => {
		const { config, dispose } = await freshConfig(engine);
		try {
			const [a, b] = await Promise.all([openStore(config), openStore({ ...config })]);
			expect(a).toBe(b);
		} finally {
			await closeAllStores();
			await dispose();
		}
	});
});
