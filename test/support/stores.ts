/**
 * Real stores for tests: a fresh SQLite file, or a fresh PostgreSQL database made on the server
 * that `npm test` found or started (PUSH_TOKENS_PG_URL). Nothing is mocked.
 */
import { createECDH, createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { TokenStore, type StoreConfig } from '../../nodes/core';

export type EngineName = 'sqlite' | 'postgres';
export const ENGINES: EngineName[] = ['sqlite', 'postgres'];

export function pgUrl(): string {
	const url = process.env.PUSH_TOKENS_PG_URL;
	if (!url) throw new Error('PUSH_TOKENS_PG_URL is not set: run the tests with `npm test`, which finds or starts a PostgreSQL');
	return url;
}

let counter = 0;

/** A config for a brand-new, empty store of the engine, and how to throw it away. */
export async function freshConfig(engine: EngineName): Promise<{ config: StoreConfig; dispose: () => Promise<void> }> {
	if (engine === 'sqlite') {
		const dir = mkdtempSync(join(tmpdir(), 'push-tokens-test-'));
		return { config: { engine: 'sqlite', path: join(dir, 'store.sqlite') }, dispose: async () => rmSync(dir, { recursive: true, force: true }) };
	}
	const admin = pgUrl();
	const name = `push_tokens_test_${process.pid}_${Date.now().toString(36)}_${counter++}`;
	await adminQuery(admin, `CREATE DATABASE ${name}`);
	const url = new URL(admin);
	url.pathname = `/${name}`;
	return {
		config: { engine: 'postgres', connectionString: url.toString() },
		dispose: () => adminQuery(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
	};
}

async function adminQuery(url: string, text: string): Promise<void> {
	const client = new Client({ connectionString: url });
	await client.connect();
	try {
		await client.query(text);
	} finally {
		await client.end();
	}
}

/** A clock tests can move. */
export class TestClock {
	constructor(public now = Date.UTC(2026, 0, 1)) {}
	readonly read = () => this.now;
	advanceDays(days: number) {
		this.now += days * 86_400_000;
	}
	advance(ms = 1) {
		this.now += ms;
	}
}

export interface TestStore {
	store: TokenStore;
	config: StoreConfig;
	clock: TestClock;
	close: () => Promise<void>;
}

export async function openTestStore(engine: EngineName): Promise<TestStore> {
	const { config, dispose } = await freshConfig(engine);
	const clock = new TestClock();
	const store = await TokenStore.open(config, { clock: clock.read });
	return {
		store,
		config,
		clock,
		close: async () => {
			await store.close();
			await dispose();
		},
	};
}

/** Test tokens of the right shape per provider. */
export const tokens = {
	apns: (n: number) => n.toString(16).padStart(64, '0'),
	fcm: (n: number) => `fcm-token-${n}:APA91b${'x'.repeat(20)}`,
	/** A Firebase Installation ID: 22 characters of base64url, the first of c, d, e or f. */
	fid: (n: number) => `c${n.toString(36).padStart(21, '0')}`,
	webpush: (n: number) => ({
		endpoint: `https://push.example.com/send/${n}`,
		keys: { p256dh: p256PublicKey(n).toString('base64url'), auth: Buffer.alloc(16, 7).toString('base64url') },
	}),
};

/** A real P-256 public key, the same for the same n (a browser's p256dh must be a point of the curve). */
function p256PublicKey(n: number): Buffer {
	const ecdh = createECDH('prime256v1');
	ecdh.setPrivateKey(createHash('sha256').update(`p256dh-${n}`).digest());
	return ecdh.getPublicKey();
}
