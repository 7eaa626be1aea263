/**
 * deploy/compose.yaml has never run on this machine (no container runtime). What is checked here
 * instead: the file parses; its services and commands; every environment variable a service sets
 * is one its program reads — for the n8n processes, n8n itself (the installed n8n 2.41.1: its
 * config schema's @Env names and the process.env reads of its sources) or this package's code,
 * and not one n8n 2.41.1 declares deprecated; for PostgreSQL and Redis, their images' documented
 * variables. And: every n8n process has the same database, queue and encryption key.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');
const DEPLOY = join(ROOT, 'deploy');

// js-yaml is in node_modules through jest (@istanbuljs/load-nyc-config); it has no types here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const jsYaml = require('js-yaml') as { safeLoad?: (text: string) => unknown; load: (text: string) => unknown };
/** YAML without custom tags (js-yaml 3's safeLoad, 4's load), merge keys (`<<`) included. */
const parseYaml = (text: string): unknown => (jsYaml.safeLoad ?? jsYaml.load)(text);

/** The n8n install the e2e suite uses (scripts/install-n8n.sh): installed now if missing. */
function n8nHome(): string {
	const home = process.env.PUSH_TOKENS_N8N_HOME ?? join(process.env.HOME ?? '', '.cache/n8n-nodes-push-tokens', `n8n-${process.env.N8N_VERSION ?? '2.41.1'}`);
	if (!existsSync(join(home, '.installed'))) execFileSync('bash', [join(ROOT, 'scripts/install-n8n.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
	return home;
}

// ---------------------------------------------------------------------------------------------
// What reads which variable

interface KnownVariables {
	/** n8n's config schema: `@Env('NAME')` (each also readable from a file, NAME_FILE). */
	n8nConfig: Set<string>;
	/** Other variables n8n's sources read (`process.env.NAME`). */
	n8nSources: Set<string>;
	/** Variables n8n's deprecation service warns about whatever their value. */
	n8nDeprecated: Set<string>;
	/** Variables this package's nodes and credentials read. */
	ours: Set<string>;
}

function* files(dir: string, ext: RegExp): Generator<string> {
	if (!existsSync(dir)) return;
	for (const entry of readdirSync(dir, { withFileTypes: true })) {
		const path = join(dir, entry.name);
		if (entry.isDirectory()) yield* files(path, ext);
		else if (ext.test(entry.name)) yield path;
	}
}

const NAME = '[A-Z][A-Z0-9_]*';
const ENV_DECORATOR = new RegExp(`\\bEnv\\)?\\(\\s*['"\`](${NAME})['"\`]`, 'g');
const PROCESS_ENV = new RegExp(`process\\.env(?:\\.(${NAME})\\b|\\[\\s*['"\`](${NAME})['"\`]\\s*\\])`, 'g');

/** Reads n8n's compiled sources: its config packages and the CLI, not the node packages (1-2 s). */
function n8nVariables(home: string): Omit<KnownVariables, 'ours'> {
	const modules = join(home, 'node_modules');
	const roots = ['n8n/dist', 'n8n-core/dist', 'n8n-workflow/dist', '@n8n/config/dist', '@n8n/backend-common/dist', '@n8n/backend-network/dist', '@n8n/db/dist', '@n8n/task-runner/dist'];
	const n8nConfig = new Set<string>();
	const n8nSources = new Set<string>();
	for (const root of roots) {
		for (const file of files(join(modules, root), /\.c?js$/)) {
			// (these name variables to warn about them, not to read them)
			if (/[\\/](deprecation|breaking-changes)[\\/]/.test(file)) continue;
			const text = readFileSync(file, 'utf8');
			if (!text.includes('Env') && !text.includes('process.env')) continue;
			for (const m of text.matchAll(ENV_DECORATOR)) n8nConfig.add(m[1]);
			for (const m of text.matchAll(PROCESS_ENV)) n8nSources.add(m[1] ?? m[2]);
		}
	}
	// DeprecationService: `{ envVar: 'NAME', message, checkValue?, warnIfMissing? }`; without a
	// checkValue or warnIfMissing it warns whenever the variable is set.
	const n8nDeprecated = new Set<string>();
	const deprecations = join(modules, 'n8n/dist/deprecation/deprecation.service.js');
	if (existsSync(deprecations)) {
		for (const entry of readFileSync(deprecations, 'utf8').split(/envVar:\s*/).slice(1)) {
			const name = /^['"](\w+)['"]/.exec(entry)?.[1];
			const body = entry.split(/\n\s*\},?\s*\n/)[0];
			if (name && !/checkValue|warnIfMissing/.test(body)) n8nDeprecated.add(name);
		}
	}
	return { n8nConfig, n8nSources, n8nDeprecated };
}

/** `env.NAME`, `env['NAME']` and `variable(env, ['NAME', …])` (nodes/core/net/proxy.ts) in nodes/ and credentials/. */
function ourVariables(): Set<string> {
	const names = new Set<string>();
	for (const dir of ['nodes', 'credentials']) {
		for (const file of files(join(ROOT, dir), /\.ts$/)) {
			const text = readFileSync(file, 'utf8');
			for (const m of text.matchAll(new RegExp(`\\benv\\??\\.(${NAME})\\b|\\benv\\[\\s*['"\`](${NAME})['"\`]\\s*\\]`, 'g'))) names.add(m[1] ?? m[2]);
			for (const m of text.matchAll(/variable\(\s*\w+\s*,\s*\[([^\]]*)\]/g)) for (const n of m[1].matchAll(new RegExp(`['"](${NAME})['"]`, 'g'))) names.add(n[1]);
		}
	}
	return names;
}

/** What the images of the other services read (their documentation: hub.docker.com/_/postgres, _/redis, _/caddy). */
const IMAGE_VARIABLES: Record<string, string[]> = {
	postgres: ['POSTGRES_USER', 'POSTGRES_PASSWORD', 'POSTGRES_DB', 'POSTGRES_INITDB_ARGS', 'POSTGRES_INITDB_WALDIR', 'POSTGRES_HOST_AUTH_METHOD', 'PGDATA'],
	redis: [],
	caddy: [],
};

/**
 * Why each variable a service sets would be ignored (or warned about): an empty list when every
 * one is read. `program`: 'n8n' or an image name from IMAGE_VARIABLES.
 */
function unreadVariables(program: string, names: string[], known: KnownVariables): string[] {
	const problems: string[] = [];
	for (const name of names) {
		if (program !== 'n8n') {
			if (!(IMAGE_VARIABLES[program] ?? []).includes(name)) problems.push(`${name}: not a variable the ${program} image reads`);
			continue;
		}
		if (known.n8nDeprecated.has(name)) problems.push(`${name}: deprecated by n8n (its deprecation service warns when it is set)`);
		else if (!(known.n8nConfig.has(name) || known.n8nConfig.has(name.replace(/_FILE$/, '')) || known.n8nSources.has(name) || known.ours.has(name))) {
			problems.push(`${name}: read by neither n8n nor this package`);
		}
	}
	return problems;
}

// ---------------------------------------------------------------------------------------------
// The compose file

interface Service {
	image?: string;
	build?: unknown;
	command?: string | string[];
	environment?: Record<string, unknown> | string[];
	volumes?: Array<string | { target?: string }>;
	depends_on?: string[] | Record<string, { condition?: string }>;
	healthcheck?: { test?: unknown };
}
interface Compose {
	services: Record<string, Service>;
	configs?: Record<string, { content?: string }>;
	'x-n8n-env'?: Record<string, unknown>;
}

const composeText = readFileSync(join(DEPLOY, 'compose.yaml'), 'utf8');
const compose = parseYaml(composeText) as Compose;
const services = compose.services;

function environment(service: Service): Record<string, unknown> {
	const env = service.environment ?? {};
	if (!Array.isArray(env)) return env;
	return Object.fromEntries(env.map((line) => [line.split('=')[0], line.slice(line.indexOf('=') + 1)]));
}
const command = (service: Service) => (Array.isArray(service.command) ? service.command.join(' ') : service.command);
/** The n8n processes: the services running the image the Dockerfile builds. */
const n8nServices = Object.entries(services).filter(([, s]) => s.build !== undefined);
/** postgres:16-alpine → postgres */
const program = (service: Service, name: string) => (n8nServices.some(([n]) => n === name) ? 'n8n' : (service.image ?? '').split(/[:/@]/)[0]);

let known: KnownVariables;
beforeAll(() => {
	known = { ...n8nVariables(n8nHome()), ours: ourVariables() };
}, 15 * 60_000); // (minutes only when n8n must be installed first)

describe('deploy/compose.yaml', () => {
	it('parses: PostgreSQL 16, Redis 7, and n8n main, webhook and worker processes of the Dockerfile image', () => {
		expect(Object.keys(services).sort()).toEqual(['caddy', 'n8n', 'n8n-webhook', 'n8n-worker', 'postgres', 'redis']);
		expect(services.postgres.image).toMatch(/^postgres:16\b/);
		expect(services.redis.image).toMatch(/^redis:7\b/);
		expect(Object.fromEntries(n8nServices.map(([name, s]) => [name, command(s)]))).toEqual({ n8n: 'start', 'n8n-webhook': 'webhook', 'n8n-worker': 'worker' });
		for (const [name, s] of n8nServices) {
			expect([name, s.build]).toEqual([name, '.']);
			expect([name, s.healthcheck?.test]).toEqual([name, expect.arrayContaining([expect.stringContaining('/healthz')])]);
		}
	});

	it('every environment variable a service sets is one its program reads', () => {
		const problems: string[] = [];
		for (const [name, s] of Object.entries(services)) {
			for (const p of unreadVariables(program(s, name), Object.keys(environment(s)), known)) problems.push(`${name}: ${p}`);
		}
		expect(problems).toEqual([]);
		// (compose takes strings, numbers and null: a bare `true` is refused by older versions)
		for (const [name, s] of Object.entries(services)) for (const [key, value] of Object.entries(environment(s))) expect([name, key, typeof value]).toEqual([name, key, 'string']);
	});

	it('every n8n process has the same database, queue, encryption key and URLs (the shared x-n8n-env)', () => {
		const shared = compose['x-n8n-env']!;
		expect(shared).toMatchObject({ DB_TYPE: 'postgresdb', EXECUTIONS_MODE: 'queue', N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE: 'true' });
		for (const key of ['DB_POSTGRESDB_HOST', 'DB_POSTGRESDB_DATABASE', 'DB_POSTGRESDB_USER', 'DB_POSTGRESDB_PASSWORD', 'QUEUE_BULL_REDIS_HOST', 'N8N_ENCRYPTION_KEY', 'N8N_WEBHOOK_URL']) {
			expect([key, typeof shared[key]]).toEqual([key, 'string']);
		}
		for (const [name, s] of n8nServices) expect([name, environment(s)]).toEqual([name, expect.objectContaining(shared)]);
		// the key comes from deploy/.env, never the file; the database is the postgres service's, the queue the redis service's
		expect(shared.N8N_ENCRYPTION_KEY).toMatch(/^\$\{N8N_ENCRYPTION_KEY:\?[^}]*\}$/);
		const pg = environment(services.postgres);
		expect([shared.DB_POSTGRESDB_HOST, shared.DB_POSTGRESDB_DATABASE, shared.DB_POSTGRESDB_USER, shared.DB_POSTGRESDB_PASSWORD]).toEqual(['postgres', pg.POSTGRES_DB, pg.POSTGRES_USER, pg.POSTGRES_PASSWORD]);
		expect(shared.QUEUE_BULL_REDIS_HOST).toBe('redis');
		// main leaves production webhooks to the webhook processes, and manual runs to the workers
		expect(environment(services.n8n)).toMatchObject({ N8N_DISABLE_PRODUCTION_MAIN_PROCESS: 'true', OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS: 'true' });
		expect(environment(services['n8n-worker'])).toMatchObject({ QUEUE_HEALTH_CHECK_ACTIVE: 'true' });
	});

	it('the webhook processes and workers start after main (its migrations); main after PostgreSQL and Redis', () => {
		const after = (s: Service) => (Array.isArray(s.depends_on) ? Object.fromEntries(s.depends_on.map((d) => [d, {}])) : (s.depends_on ?? {}));
		expect(after(services.n8n)).toEqual({ postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
		expect(after(services['n8n-webhook'])).toEqual({ n8n: { condition: 'service_healthy' } });
		expect(after(services['n8n-worker'])).toEqual({ n8n: { condition: 'service_healthy' } });
	});

	it('Caddy sends /webhook/ to every webhook process and the rest to main', () => {
		const caddyfile = compose.configs?.caddyfile?.content ?? '';
		expect(caddyfile).toMatch(/reverse_proxy \/webhook\/\* \{\s*dynamic a n8n-webhook 5678\s*\}/);
		expect(caddyfile).toMatch(/reverse_proxy n8n:5678/);
		expect(environment(services.n8n).N8N_PROXY_HOPS).toBe('1'); // Caddy, the one proxy
	});

	it('no volume on /home/node/.n8n: it would hide the package the image installs there', () => {
		for (const [name, s] of n8nServices) {
			const targets = (s.volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':')[1] : v.target));
			expect([name, targets.filter((t) => t?.startsWith('/home/node/.n8n'))]).toEqual([name, []]);
		}
	});

	it('each variable it interpolates is in deploy/.env.example or has a default', () => {
		const example = new Set([...readFileSync(join(DEPLOY, '.env.example'), 'utf8').matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
		const used = [...composeText.matchAll(/\$\{([A-Z][A-Z0-9_]*)(:?[-?][^}]*)?\}/g)];
		expect(used.length).toBeGreaterThan(0);
		expect(used.filter((m) => !example.has(m[1]) && !m[2]?.startsWith(':-')).map((m) => m[1])).toEqual([]);
		expect([...example].filter((name) => !used.some((m) => m[1] === name))).toEqual([]);
	});

	it('the Dockerfile builds on the n8n version the tests run, and installs this package', () => {
		const dockerfile = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');
		const n8n = JSON.parse(readFileSync(join(n8nHome(), 'node_modules/n8n/package.json'), 'utf8')) as { version: string };
		const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string };
		expect(dockerfile).toMatch(new RegExp(`^FROM docker\\.n8n\\.io/n8nio/n8n:${n8n.version.replace(/\./g, '\\.')}$`, 'm'));
		expect(dockerfile).toContain(`/home/node/.n8n/nodes/node_modules/${pkg.name}`);
		expect(dockerfile).toContain(`COPY --chown=node:node ${pkg.name}-*.tgz`);
	});
});

describe('the variable check', () => {
	it('refuses a misspelled, an unknown or a deprecated variable, and one meant for another program', () => {
		expect(unreadVariables('n8n', ['N8N_ENCRYPTION_KEY', 'DB_POSTGRESDB_SCHEMA', 'QUEUE_BULL_REDIS_PORT', 'N8N_ENCRYPTION_KEY_FILE', 'N8N_USER_FOLDER'], known)).toEqual([]);
		expect(unreadVariables('n8n', ['N8N_ENCRYPTON_KEY', 'PUSH_TOKENS_STORE_URL', 'WEBHOOK_URL', 'POSTGRES_PASSWORD'], known)).toEqual([
			'N8N_ENCRYPTON_KEY: read by neither n8n nor this package',
			'PUSH_TOKENS_STORE_URL: read by neither n8n nor this package',
			'WEBHOOK_URL: deprecated by n8n (its deprecation service warns when it is set)',
			'POSTGRES_PASSWORD: read by neither n8n nor this package',
		]);
		expect(unreadVariables('postgres', ['POSTGRES_PASSWORD', 'DB_POSTGRESDB_PASSWORD'], known)).toEqual(['DB_POSTGRESDB_PASSWORD: not a variable the postgres image reads']);
	});

	it('finds what it looks for: n8n config, n8n sources, deprecations, this package', () => {
		// (a change in how n8n is compiled would empty these sets, and the check would refuse everything or nothing)
		expect(known.n8nConfig.size).toBeGreaterThan(300);
		expect([...known.n8nConfig]).toEqual(expect.arrayContaining(['DB_TYPE', 'EXECUTIONS_MODE', 'QUEUE_BULL_REDIS_HOST', 'N8N_ENCRYPTION_KEY', 'N8N_WEBHOOK_URL', 'N8N_COMMUNITY_PACKAGES', 'N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE']));
		expect([...known.n8nSources]).toEqual(expect.arrayContaining(['OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS']));
		expect([...known.n8nDeprecated]).toEqual(expect.arrayContaining(['WEBHOOK_URL', 'N8N_RUNNERS_ENABLED']));
		expect([...known.n8nDeprecated]).not.toContain('OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS'); // (deprecated only when not true)
		expect([...known.ours].sort()).toEqual(expect.arrayContaining(['EXECUTIONS_MODE', 'HTTPS_PROXY', 'NO_PROXY', 'N8N_USER_FOLDER', 'QUEUE_BULL_REDIS_HOST']));
	});
});
