/**
 * A Redis for queue-mode tests: the one at 127.0.0.1:6379 when it answers PING, else a private
 * `redis-server` started on a free port (no persistence) and stopped afterwards. Neither → a
 * clear error: the queue-mode test never skips.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { freePort, waitFor } from '../e2e/harness';

/** Sends raw RESP commands and resolves with what the server answered (until `until` matches). */
function talk(port: number, commands: string, until: RegExp, timeoutMs = 2000): Promise<string> {
	return new Promise((done, fail) => {
		const socket = connect({ host: '127.0.0.1', port });
		let answer = '';
		const timer = setTimeout(() => {
			socket.destroy();
			fail(new Error(`redis at 127.0.0.1:${port} did not answer`));
		}, timeoutMs);
		socket.on('connect', () => socket.write(commands));
		socket.on('data', (d) => {
			answer += d;
			if (until.test(answer)) {
				clearTimeout(timer);
				socket.end();
				done(answer);
			}
		});
		socket.on('error', (error) => {
			clearTimeout(timer);
			fail(error);
		});
	});
}

export async function redisAnswers(port: number): Promise<boolean> {
	return talk(port, 'PING\r\n', /\+PONG\r\n/).then(
		() => true,
		() => false,
	);
}

export interface Redis {
	host: string;
	port: number;
	/** Which Redis it is, for the test's log. */
	describe: string;
	/** Deletes this run's keys (by prefix) and stops the private server if one was started. */
	dispose(prefix?: string): Promise<void>;
}

export async function ensureRedis(): Promise<Redis> {
	const cleanup = async (port: number, prefix?: string) => {
		if (!prefix) return;
		// EVAL keeps the scan and the deletes in one round trip, with no client library.
		const script = `local n = 0 for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) n = n + 1 end return n`;
		const parts = ['EVAL', script, '0', `${prefix}*`];
		await talk(port, `*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join('')}`, /\r\n$/).catch(() => undefined);
	};
	if (await redisAnswers(6379)) return { host: '127.0.0.1', port: 6379, describe: 'the machine’s Redis at 127.0.0.1:6379', dispose: (prefix) => cleanup(6379, prefix) };

	const binary = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
	if (!binary) {
		throw new Error('queue mode needs Redis: nothing answers at 127.0.0.1:6379 and there is no redis-server binary to start one (install the Debian redis-server package)');
	}
	const port = await freePort();
	const server: ChildProcess = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
	let log = '';
	server.stdout!.on('data', (d) => (log += d));
	server.stderr!.on('data', (d) => (log += d));
	await waitFor(
		async () => {
			if (server.exitCode !== null) throw new Error(`redis-server exited with ${server.exitCode}:\n${log.slice(-2000)}`);
			return redisAnswers(port);
		},
		20_000,
		() => `redis-server did not answer on port ${port}:\n${log.slice(-2000)}`,
	);
	return {
		host: '127.0.0.1',
		port,
		describe: `a private redis-server (${binary}) on port ${port}`,
		dispose: async () => {
			if (server.exitCode !== null) return;
			const exited = new Promise((done) => server.once('exit', done));
			server.kill('SIGTERM');
			await Promise.race([exited, new Promise((done) => setTimeout(done, 5000))]);
		},
	};
}
