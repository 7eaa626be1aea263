/**
 * A real n8n 2.x with this package installed from its packed tarball, the way a user installs it.
 * n8n itself is installed once per machine (scripts/install-n8n.sh, in ~/.cache); each harness
 * gets its own n8n user folder, store credential and store. Workflows are imported and run with
 * the n8n CLI (`n8n execute`), or served by `n8n start` for webhooks and schedules.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import webpush from 'web-push';
import { TokenStore, type StoreConfig } from '../../nodes/core';
import type { Fakes } from '../fakes/providers';
import { freshConfig, type EngineName } from '../support/stores';

/** The checkout: the nearest folder above with a package.json (the harness also runs compiled, from bench/.build). */
const ROOT = (function packageRoot(dir: string): string {
	return existsSync(join(dir, 'package.json')) ? dir : packageRoot(dirname(dir));
})(__dirname);
export const PACKAGE = 'n8n-nodes-push-tokens';
export const CREDENTIAL = { id: 'pushTokenStore01', name: 'Push Token Store' };

let n8nBin: string | undefined;
/** Installs n8n on first use (once per machine; minutes the first time). */
function n8n(): string {
	n8nBin ??= execFileSync('bash', [join(ROOT, 'scripts/install-n8n.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
	return n8nBin;
}

/** n8n's CLI prints logs around the run's JSON, which starts and ends with a brace on a line of its own. */
function parseRun(stdout: string): RunData {
	const start = stdout.search(/^\{$/m);
	const end = start < 0 ? -1 : stdout.slice(start).search(/^\}$/m);
	if (end < 0) throw new Error(`n8n printed no run JSON:\n${stdout.slice(-2000)}`);
	const run = JSON.parse(stdout.slice(start, start + end + 1)) as { data: { resultData: { runData: RunData; error?: { message: string } } } };
	if (run.data.resultData.error) throw new Error(`workflow failed: ${run.data.resultData.error.message}`);
	return run.data.resultData.runData;
}

export type Json = Record<string, unknown>;
type RunData = Record<string, Array<{ executionTime?: number; data?: { main: Array<Array<{ json: Json }> | null> } }>>;

export interface NodeSpec {
	name: string;
	type: string;
	parameters?: Json;
	continueOnFail?: boolean;
	typeVersion?: number;
	/** Whether the node uses the store credential (our nodes do). */
	store?: boolean;
	/** More credentials: type → { id, name }. */
	credentials?: Json;
	/** n8n's node settings: Retry On Fail. */
	retry?: { maxTries: number; waitBetweenTries: number };
	/** A webhook node's id: its production URLs are /webhook/<id>/<path>. */
	webhookId?: string;
}

/** The provider credentials the e2e suites import (see send.e2e.test.ts). */
export const PROVIDER_CREDENTIALS = {
	fcmServiceAccountApi: { id: 'fcmFakeAccount01', name: 'FCM (fake)' },
	apnsApi: { id: 'apnsFakeKey00001', name: 'APNs (fake)' },
	webPushVapidApi: { id: 'webPushVapid0001', name: 'Web Push (fake)' },
	expoApi: { id: 'expoFakeToken001', name: 'Expo (fake)' },
};

/** The access token of the Expo credential withFakeProviders imports (the fake checks it when told to). */
export const EXPO_ACCESS_TOKEN = 'fake-expo-access-token';

export const node = {
	register: (name: string, parameters: Json): NodeSpec => ({ name, type: `${PACKAGE}.registerPushToken`, parameters, store: true }),
	identity: (name: string, parameters: Json): NodeSpec => ({ name, type: `${PACKAGE}.pushTokenIdentity`, parameters, store: true }),
	importTokens: (name: string, parameters: Json): NodeSpec => ({ name, type: `${PACKAGE}.importPushTokens`, parameters, store: true }),
	feedback: (name: string, parameters: Json = {}): NodeSpec => ({ name, type: `${PACKAGE}.handlePushFeedback`, parameters, store: true }),
	cleanupTrigger: (name: string, parameters: Json): NodeSpec => ({ name, type: `${PACKAGE}.pushTokenCleanupTrigger`, parameters, store: true }),
	sendPush: (name: string, parameters: Json): NodeSpec => ({ name, type: `${PACKAGE}.sendPush`, parameters, store: true, credentials: PROVIDER_CREDENTIALS }),
	/** A Code node that outputs these items. */
	items: (name: string, items: Json[]): NodeSpec => ({
		name,
		type: 'n8n-nodes-base.code',
		typeVersion: 2,
		parameters: { jsCode: `return ${JSON.stringify(items.map((json) => ({ json })))};` },
	}),
	manual: (name = 'Start'): NodeSpec => ({ name, type: 'n8n-nodes-base.manualTrigger' }),
	readFile: (name: string, path: string): NodeSpec => ({ name, type: 'n8n-nodes-base.readWriteFile', parameters: { operation: 'read', fileSelector: path } }),
	webhook: (name: string, path: string): NodeSpec => ({
		name,
		type: 'n8n-nodes-base.webhook',
		typeVersion: 2,
		parameters: { httpMethod: 'POST', path, responseMode: 'lastNode', options: {} },
	}),
};

/**
 * An example workflow from examples/, using this harness's store credential, with its file paths
 * in `filesDir`. Its other credentials keep their ids: import them under those.
 */
export function example(name: string, filesDir: string): Json {
	const text = readFileSync(join(ROOT, 'examples', `${name}.json`), 'utf8').replaceAll('/path/to/n8n-files', filesDir);
	const workflow = JSON.parse(text) as Json & { nodes: Array<Json & { credentials?: Json }> };
	for (const n of workflow.nodes) if (n.credentials) n.credentials = { ...n.credentials, pushTokenStoreApi: CREDENTIAL };
	return workflow;
}

let workflowCounter = 0;

/** A workflow whose nodes run one after the other (each node's first output into the next). */
export function line(name: string, ...nodes: NodeSpec[]): Json {
	// (16 characters, the counter padded on its left: padding on the right made 2 and 20 one id)
	const prefix = `wf${process.pid}x`;
	const id = `${prefix}${String(workflowCounter++).padStart(16 - prefix.length, '0')}`;
	const connections: Json = {};
	nodes.slice(0, -1).forEach((n, i) => {
		connections[n.name] = { main: [[{ node: nodes[i + 1].name, type: 'main', index: 0 }]] };
	});
	return {
		id,
		name,
		active: false,
		settings: {},
		connections,
		nodes: nodes.map((n, i) => ({
			id: `${id}-${i}`,
			name: n.name,
			type: n.type,
			typeVersion: n.typeVersion ?? 1,
			position: [i * 220, 0],
			parameters: n.parameters ?? {},
			...(n.continueOnFail ? { continueOnFail: true } : {}),
			...(n.retry ? { retryOnFail: true, ...n.retry } : {}),
			// n8n registers a production webhook only when the node has a webhook id
			...(n.type === 'n8n-nodes-base.webhook' || n.webhookId ? { webhookId: n.webhookId ?? randomUUID() } : {}),
			...(n.store ? { credentials: { pushTokenStoreApi: CREDENTIAL, ...n.credentials } } : {}),
		})),
	};
}

/** DB_* settings for n8n from a PostgreSQL URL. */
export function n8nDatabaseEnv(connectionString: string): NodeJS.ProcessEnv {
	const url = new URL(connectionString);
	return {
		DB_TYPE: 'postgresdb',
		DB_POSTGRESDB_HOST: url.hostname,
		DB_POSTGRESDB_PORT: url.port || '5432',
		DB_POSTGRESDB_DATABASE: decodeURIComponent(url.pathname.slice(1)),
		DB_POSTGRESDB_USER: decodeURIComponent(url.username) || 'postgres',
		DB_POSTGRESDB_PASSWORD: decodeURIComponent(url.password),
	};
}

export class N8nHarness {
	private server?: ChildProcess;
	/** What `n8n start` printed so far (for failure messages). */
	serverLog: () => string = () => '';
	/** `n8n worker` and `n8n webhook` processes (queue mode), by name. */
	private readonly workers = new Map<string, { process: ChildProcess; log: () => string }>();

	private constructor(
		readonly engine: EngineName,
		readonly folder: string,
		readonly storeConfig: StoreConfig,
		/** The same store n8n writes to, opened by the test to assert on its contents. */
		readonly store: TokenStore,
		private readonly disposeStore: () => Promise<void>,
		private readonly extraEnv: NodeJS.ProcessEnv,
	) {}

	/** `env`: more environment for every n8n process (e.g. routes to the fake providers). */
	static async create(engine: EngineName, env: NodeJS.ProcessEnv = {}): Promise<N8nHarness> {
		n8n(); // installs n8n on first use
		const folder = mkdtempSync(join(tmpdir(), 'push-tokens-n8n-'));
		const { config, dispose } = await freshConfig(engine);
		execFileSync('bash', [join(ROOT, 'scripts/install-package.sh'), folder, tarball()], { stdio: ['ignore', 'ignore', 'inherit'] });
		const harness = new N8nHarness(engine, folder, config, await TokenStore.open(config), dispose, env);
		const data = config.engine === 'sqlite' ? { engine: 'sqlite', path: config.path } : { engine: 'postgres', connection: 'url', url: config.connectionString };
		await harness.importCredentials([{ ...CREDENTIAL, type: 'pushTokenStoreApi', data }]);
		return harness;
	}

	/**
	 * Like create, with the package put into the n8n user folder by `install` (given the folder and
	 * the packed tarball) instead of scripts/install-package.sh: e.g. the way an admin installs it
	 * by hand (test/e2e/install.e2e.test.ts).
	 */
	static async createInstalledBy(engine: EngineName, install: (folder: string, tarball: string) => void, env: NodeJS.ProcessEnv = {}): Promise<N8nHarness> {
		n8n(); // installs n8n on first use
		const folder = mkdtempSync(join(tmpdir(), 'push-tokens-n8n-'));
		const { config, dispose } = await freshConfig(engine);
		install(folder, tarball());
		const harness = new N8nHarness(engine, folder, config, await TokenStore.open(config), dispose, env);
		const data = config.engine === 'sqlite' ? { engine: 'sqlite', path: config.path } : { engine: 'postgres', connection: 'url', url: config.connectionString };
		await harness.importCredentials([{ ...CREDENTIAL, type: 'pushTokenStoreApi', data }]);
		return harness;
	}

	/**
	 * A SQLite harness whose n8n reaches the fake providers (test/fakes/network-edge.cjs routes
	 * their hostnames), with a credential for each imported under PROVIDER_CREDENTIALS (and
	 * `more` credentials, imported with them: one n8n CLI run fewer).
	 */
	static async withFakeProviders(fakes: Fakes, more: Json[] = []): Promise<N8nHarness> {
		const vapid = webpush.generateVAPIDKeys();
		fakes.webpush.vapidPublicKey = vapid.publicKey;
		const harness = await N8nHarness.create('sqlite', { NODE_OPTIONS: `--require ${join(ROOT, 'test/fakes/network-edge.cjs')}`, PUSH_TOKENS_FAKE_ROUTES: JSON.stringify(fakes.routes) });
		const { apns } = fakes;
		await harness.importCredentials([
			{ ...PROVIDER_CREDENTIALS.fcmServiceAccountApi, type: 'fcmServiceAccountApi', data: { serviceAccountJson: JSON.stringify(fakes.fcm.serviceAccount) } },
			{ ...PROVIDER_CREDENTIALS.apnsApi, type: 'apnsApi', data: { teamId: apns.teamId, keyId: apns.keyId, signingKey: apns.signingKey, bundleId: apns.bundleId, environment: 'production' } },
			{
				...PROVIDER_CREDENTIALS.webPushVapidApi,
				type: 'webPushVapidApi',
				data: { subject: 'mailto:ops@example.com', publicKey: vapid.publicKey, privateKey: vapid.privateKey, allowedPrivateHosts: fakes.webpush.host },
			},
			{ ...PROVIDER_CREDENTIALS.expoApi, type: 'expoApi', data: { accessToken: EXPO_ACCESS_TOKEN } },
			...more,
		]);
		return harness;
	}

	/** Credentials as `n8n import:credentials` takes them: [{ id, name, type, data }] with plaintext data. */
	async importCredentials(credentials: Json[]): Promise<void> {
		await this.cli(n8n(), 'import:credentials', `--input=${this.writeJson(`credentials-${workflowCounter++}.json`, credentials)}`);
	}

	get env(): NodeJS.ProcessEnv {
		return {
			...process.env,
			// jest sets NODE_ENV=test, under which the n8n CLI prints nothing
			NODE_ENV: 'production',
			JEST_WORKER_ID: undefined,
			N8N_USER_FOLDER: this.folder,
			N8N_DIAGNOSTICS_ENABLED: 'false',
			N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
			N8N_TEMPLATES_ENABLED: 'false',
			N8N_LOG_LEVEL: 'info',
			N8N_RESTRICT_FILE_ACCESS_TO: this.folder,
			N8N_RUNNERS_BROKER_PORT: String(5679 + (process.pid % 1000) + 1),
			DB_SQLITE_POOL_SIZE: '1',
			...this.extraEnv,
		};
	}

	writeJson(file: string, value: unknown): string {
		const path = join(this.folder, file);
		writeFileSync(path, JSON.stringify(value));
		return path;
	}

	private async cli(bin: string, ...args: string[]): Promise<string> {
		return this.cliWith({}, bin, ...args);
	}

	/**
	 * Runs the n8n CLI with its stdout going to a file: n8n exits as soon as it has written its
	 * output, and a pipe would lose what was not read by then (a large run's JSON is megabytes).
	 */
	private async cliWith(env: NodeJS.ProcessEnv, bin: string, ...args: string[]): Promise<string> {
		const file = join(this.folder, `stdout-${randomUUID()}.txt`);
		const out = openSync(file, 'w');
		try {
			const child = spawn(bin, args, { env: { ...this.env, ...env }, stdio: ['ignore', out, 'pipe'] });
			let stderr = '';
			child.stderr!.on('data', (d) => (stderr += d));
			const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done, fail) => {
				child.once('error', fail);
				child.once('close', (c, s) => done([c, s]));
			});
			const stdout = readFileSync(file, 'utf8');
			// n8n's CLI exits through process.exit with its native addons (isolated-vm, sqlite3) still
			// loaded; killed by a signal after it printed the whole run, the run itself is what it printed.
			if (code === null && signal !== null && /^\}$/m.test(stdout) && stdout.includes('"finished": true')) {
				process.stderr.write(`[n8n] ${args[0]} was killed by ${signal} after printing its finished run; the run is used\n`);
				return stdout;
			}
			if (code !== 0) throw new Error(`n8n ${args.join(' ')} failed (exit code ${code}, signal ${signal}):\n${stderr.slice(-3000)}\n${stdout.slice(0, 3000)}\n…\n${stdout.slice(-1500)}`);
			return stdout;
		} finally {
			closeSync(out);
			rmSync(file, { force: true });
		}
	}

	async importWorkflow(workflow: Json, publish = false): Promise<void> {
		const file = this.writeJson(`${workflow.id}.json`, workflow);
		await this.cli(n8n(), 'import:workflow', `--input=${file}`);
		if (publish) await this.cli(n8n(), 'publish:workflow', `--id=${workflow.id}`);
	}

	/** Imports and runs a workflow with `n8n execute` (with more environment, if given); returns every node's output items. */
	async execute(workflow: Json, env: NodeJS.ProcessEnv = {}): Promise<Outputs> {
		await this.importWorkflow(workflow);
		return new Outputs(parseRun(await this.cliWith(env, n8n(), 'execute', `--id=${workflow.id}`, '--rawOutput')));
	}

	/** Imports several workflows with one `n8n import:workflow` (one n8n process instead of one each). */
	async importWorkflows(workflows: Json[]): Promise<void> {
		const file = this.writeJson(`workflows-${workflowCounter++}.json`, workflows);
		await this.cli(n8n(), 'import:workflow', `--input=${file}`);
	}

	/**
	 * Runs an imported workflow with `n8n execute` (with more environment, if given: another
	 * N8N_USER_FOLDER too); returns every node's output items. Rejects with what n8n printed when
	 * n8n fails, e.g. on a node type it did not load.
	 */
	async executeImported(id: string, env: NodeJS.ProcessEnv = {}): Promise<Outputs> {
		return new Outputs(parseRun(await this.cliWith(env, n8n(), 'execute', `--id=${id}`, '--rawOutput')));
	}

	/**
	 * `n8n start` on a free port, serving published workflows (webhooks, schedules); `env`: more
	 * environment for this start only (after stop(), n8n can be started again with other settings).
	 */
	async start(env: NodeJS.ProcessEnv = {}): Promise<string> {
		const port = await freePort();
		this.server = spawn(n8n(), ['start'], { env: { ...this.env, ...env, N8N_PORT: String(port), N8N_LISTEN_ADDRESS: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'] });
		let log = '';
		this.server.stdout!.on('data', (d) => (log += d));
		this.server.stderr!.on('data', (d) => (log += d));
		const base = `http://127.0.0.1:${port}`;
		// /healthz answers from the moment n8n listens, and until its migrations are done every other path
		// answers 200 "n8n is starting up"; after them, webhooks 404 until the published workflows are
		// activated. n8n prints the editor's address once they are.
		await waitFor(
			async () => {
				if (this.server!.exitCode !== null) throw new Error(`n8n start exited with ${this.server!.exitCode}:\n${log.slice(-3000)}`);
				return log.includes('Editor is now accessible via');
			},
			120_000,
			() => `n8n did not start:\n${log.slice(-3000)}`,
		);
		this.serverLog = () => log;
		return base;
	}

	/**
	 * Posts to a published workflow's webhook until n8n serves it, and returns that first answer.
	 * Until then n8n answers 404 (routes or workflows not there yet) or, while it migrates, 200
	 * "n8n is starting up" — a status alone does not tell.
	 */
	async postWhenLive(base: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
		let answer = { status: 0, text: '' };
		await waitFor(
			async () => {
				const response = await fetch(`${base}/webhook/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
				answer = { status: response.status, text: await response.text() };
				return answer.status !== 404 && !answer.text.startsWith('n8n is starting up');
			},
			60_000,
			() => `the webhook ${path} never became active (last answer ${answer.status}: ${answer.text.slice(0, 300)}):\n${this.serverLog().slice(-3000)}`,
		);
		return answer;
	}

	/**
	 * `n8n worker` (queue mode: create the harness with EXECUTIONS_MODE=queue, the QUEUE_BULL_*
	 * settings, a PostgreSQL DB_* for n8n and one N8N_ENCRYPTION_KEY). Each worker gets its own
	 * task-runner broker port; resolves when the worker says it is ready.
	 */
	async startWorker(name: string, concurrency = 10): Promise<void> {
		const env = { ...this.env, N8N_RUNNERS_BROKER_PORT: String(await freePort()), QUEUE_HEALTH_CHECK_ACTIVE: 'false' };
		await this.spawnQueueProcess(name, ['worker', `--concurrency=${concurrency}`], env, 'n8n worker is now ready');
	}

	/**
	 * `n8n webhook` (queue mode, settings as for startWorker): a process that answers production
	 * webhook calls and hands their executions to the workers. Resolves with its base URL once it
	 * listens; it is stopped with the workers. `env`: more environment for this process.
	 */
	async startWebhook(name: string, more: NodeJS.ProcessEnv = {}): Promise<string> {
		const port = await freePort();
		const env = { ...this.env, ...more, N8N_PORT: String(port), N8N_LISTEN_ADDRESS: '127.0.0.1', N8N_RUNNERS_BROKER_PORT: String(await freePort()) };
		await this.spawnQueueProcess(name, ['webhook'], env, 'Webhook listener waiting for requests');
		return `http://127.0.0.1:${port}`;
	}

	/** An `n8n <args>` process of queue mode, kept under `name` and stopped with the others; resolves once it prints `ready`. */
	private async spawnQueueProcess(name: string, args: string[], env: NodeJS.ProcessEnv, ready: string): Promise<void> {
		const child = spawn(n8n(), args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
		let log = '';
		child.stdout!.on('data', (d) => (log += d));
		child.stderr!.on('data', (d) => (log += d));
		this.workers.set(name, { process: child, log: () => log });
		await waitFor(
			async () => {
				if (child.exitCode !== null) throw new Error(`n8n ${args[0]} ${name} exited with ${child.exitCode}:\n${log.slice(-3000)}`);
				return log.includes(ready);
			},
			120_000,
			() => `n8n ${args[0]} ${name} did not start:\n${log.slice(-3000)}`,
		);
	}

	/** What a worker (or webhook process) printed so far. */
	workerLog(name: string): string {
		const worker = this.workers.get(name);
		if (!worker) throw new Error(`no worker named ${name}`);
		return worker.log();
	}

	/** Stops `n8n start`, every worker and every webhook process. */
	async stop(): Promise<void> {
		await Promise.all([this.server, ...[...this.workers.values()].map((w) => w.process)].map(stopProcess));
	}

	async dispose(): Promise<void> {
		await this.stop();
		await this.store.close();
		await this.disposeStore();
		rmSync(this.folder, { recursive: true, force: true });
	}
}

/** A run's outputs: node name → output index → items' JSON. */
export class Outputs {
	constructor(readonly runData: RunData) {}
	of(nodeName: string, output = 0): Json[] {
		const runs = this.runData[nodeName];
		if (!runs) throw new Error(`node "${nodeName}" did not run (ran: ${Object.keys(this.runData).join(', ')})`);
		return (runs[0].data?.main[output] ?? []).map((item) => item.json);
	}
	/** Every run of a node (a loop runs it more than once): each run's items of this output. */
	runsOf(nodeName: string, output = 0): Json[][] {
		return (this.runData[nodeName] ?? []).map((run) => (run.data?.main[output] ?? []).map((item) => item.json));
	}
	/** How long the node's run took, in ms, as n8n measured it. */
	timeOf(nodeName: string): number {
		const time = this.runData[nodeName]?.[0]?.executionTime;
		if (time === undefined) throw new Error(`node "${nodeName}" has no execution time`);
		return time;
	}
}

let packed: string | undefined;
/** The package's tarball, packed once per test process from the built checkout. */
function tarball(): string {
	if (!packed) {
		const dir = mkdtempSync(join(tmpdir(), 'push-tokens-pack-'));
		const name = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').pop()!;
		packed = join(dir, name);
	}
	return packed;
}

async function stopProcess(child: ChildProcess | undefined): Promise<void> {
	if (!child || child.exitCode !== null || child.signalCode !== null) return;
	const exited = new Promise((done) => child.once('exit', done));
	child.kill('SIGTERM');
	let timer: NodeJS.Timeout | undefined;
	await Promise.race([exited, new Promise((done) => (timer = setTimeout(done, 20_000)))]);
	clearTimeout(timer); // (left running, it kept jest from exiting for 20 s)
	if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

export function freePort(): Promise<number> {
	return new Promise((done, fail) => {
		const server = createServer();
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address() as { port: number };
			server.close(() => done(port));
		});
		server.on('error', fail);
	});
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, explain: () => string = () => 'timed out'): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		if (await check()) return;
		if (Date.now() > deadline) throw new Error(explain());
		await new Promise((done) => setTimeout(done, 500));
	}
}
