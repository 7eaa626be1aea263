#!/usr/bin/env node
/**
 * Finds a PostgreSQL for the tests, or starts one, then runs the command given after it with
 * PUSH_TOKENS_PG_URL set. The PostgreSQL tests never skip: no server found or started → exit 1.
 *
 *   1. PUSH_TOKENS_PG_URL, when set;
 *   2. the machine's server at postgres://postgres@127.0.0.1:5432/test;
 *   3. a private cluster made with the Debian binaries (initdb, pg_ctl) in a temporary folder,
 *      on a free port, stopped and deleted when the command ends (PUSH_TOKENS_PG=private forces it).
 */
const { spawn, spawnSync, execFileSync } = require('node:child_process');
const { existsSync, mkdtempSync, readdirSync, rmSync, chownSync } = require('node:fs');
const { createServer } = require('node:net');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { Client } = require('pg');

const log = (message) => console.error(`[postgres] ${message}`);
const redact = (url) => url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');

async function reachable(url) {
	const client = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
	try {
		await client.connect();
		await client.query('SELECT 1');
		return true;
	} catch {
		return false;
	} finally {
		await client.end().catch(() => undefined);
	}
}

function postgresBin() {
	const root = '/usr/lib/postgresql';
	const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
	for (const v of versions) if (existsSync(join(root, v, 'bin', 'initdb'))) return join(root, v, 'bin');
	const onPath = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).stdout.trim();
	return onPath ? join(onPath, '..') : null;
}

function freePort() {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address();
			server.close(() => resolve(port));
		});
		server.on('error', reject);
	});
}

/** initdb refuses to run as root: as root, the cluster runs as the postgres user. */
function asServerUser(bin, args) {
	const isRoot = process.getuid?.() === 0;
	return isRoot ? execFileSync('runuser', ['-u', 'postgres', '--', bin, ...args], { stdio: 'pipe' }) : execFileSync(bin, args, { stdio: 'pipe' });
}

async function startPrivateCluster() {
	const bin = postgresBin();
	if (!bin) throw new Error('no PostgreSQL server reachable and no initdb/pg_ctl found (install the Debian postgresql package)');
	const dir = mkdtempSync(join(tmpdir(), 'push-tokens-pg-'));
	const data = join(dir, 'data');
	if (process.getuid?.() === 0) {
		const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
		const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
		chownSync(dir, uid, gid);
	}
	const port = await freePort();
	log(`starting a private cluster with ${bin}/pg_ctl in ${dir} on port ${port}`);
	asServerUser(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
	asServerUser(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'server.log'), '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
	const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
	return {
		url,
		stop() {
			try {
				asServerUser(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', 'stop']);
			} finally {
				rmSync(dir, { recursive: true, force: true });
			}
		},
	};
}

async function main() {
	const command = process.argv.slice(2);
	if (command.length === 0) throw new Error('usage: ensure-postgres.js <command> [args...]');
	let url = process.env.PUSH_TOKENS_PG_URL;
	let cluster = null;
	if (process.env.PUSH_TOKENS_PG === 'private') {
		cluster = await startPrivateCluster();
		url = cluster.url;
	} else if (url) {
		if (!(await reachable(url))) throw new Error(`PUSH_TOKENS_PG_URL (${redact(url)}) is not reachable`);
		log(`using PUSH_TOKENS_PG_URL ${redact(url)}`);
	} else if (await reachable('postgres://postgres@127.0.0.1:5432/test')) {
		url = 'postgres://postgres@127.0.0.1:5432/test';
		log(`using the machine's server at ${url}`);
	} else {
		cluster = await startPrivateCluster();
		url = cluster.url;
	}
	if (cluster) log(`private cluster ready at ${url}`);
	const child = spawn(command[0], command.slice(1), { stdio: 'inherit', env: { ...process.env, PUSH_TOKENS_PG_URL: url } });
	const forward = (signal) => child.kill(signal);
	process.on('SIGINT', forward);
	process.on('SIGTERM', forward);
	child.on('exit', (code, signal) => {
		if (cluster) {
			log('stopping the private cluster');
			cluster.stop();
		}
		process.exit(code ?? (signal ? 1 : 0));
	});
}

main().catch((error) => {
	log(error.message);
	process.exit(1);
});
