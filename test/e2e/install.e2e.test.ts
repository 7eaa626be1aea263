/**
 * How an admin installs the package into a real n8n 2.41.1 without the public npm registry, under
 * the settings n8n reads for community packages (modules/community-packages/ in n8n 2.41.1):
 *
 *   - N8N_UNVERIFIED_PACKAGES_ENABLED (default true in 2.x, false in 3.0): checked by n8n's own
 *     installer only (the editor's install, N8N_COMMUNITY_PACKAGES, reinstall of missing packages),
 *     which refuses a package n8n has not verified when it is false.
 *   - N8N_COMMUNITY_PACKAGES_PREVENT_LOADING: n8n does not scan <user folder>/.n8n/nodes at all.
 *   - N8N_CUSTOM_EXTENSIONS: folders n8n loads every *.node.js / *.credentials.js of, named
 *     CUSTOM.<node> instead of <package>.<node>; neither setting above applies to them.
 *
 * The package is installed the way the README tells an admin: `npm install --omit=peer <tarball>`
 * in <user folder>/.n8n/nodes (as n8n documents manual installs and private nodes). Every way ×
 * setting is its own `n8n execute` of an imported workflow (Manual Trigger → Register Push Token,
 * a token of its own) against one SQLite store; a way that loads registers its token (checked in
 * the run and in the store), a way that refuses fails with n8n's message and writes nothing.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tokens } from '../support/stores';
import { line, N8nHarness, node, PACKAGE, type Json, type NodeSpec } from './harness';

const APP = 'com.example.app';
const VERSION = (JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as { version: string }).version;

/** What the README's installation section tells an admin to run in <user folder>/.n8n/nodes. */
function adminInstall(nodesDir: string, tarball: string): void {
	mkdirSync(nodesDir, { recursive: true });
	// --omit=peer as n8n's own installer drops peerDependencies: no second n8n-workflow beside n8n's
	// (--prefer-offline, --no-audit, --no-fund only spare the registry round trips)
	execFileSync('npm', ['install', '--omit=peer', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball], {
		cwd: nodesDir,
		stdio: ['ignore', 'ignore', 'inherit'],
	});
}

type Way = 'nodes' | 'custom';
interface Case {
	way: Way;
	setting: string;
	env: NodeJS.ProcessEnv;
	/** The node type the workflow uses. */
	type: string;
	loads: boolean;
	token: string;
	workflow?: Json;
}

const strict = { N8N_UNVERIFIED_PACKAGES_ENABLED: 'false', N8N_COMMUNITY_PACKAGES_PREVENT_LOADING: 'false' };
const open = { N8N_UNVERIFIED_PACKAGES_ENABLED: 'true', N8N_COMMUNITY_PACKAGES_PREVENT_LOADING: 'false' };
const prevent = { N8N_UNVERIFIED_PACKAGES_ENABLED: 'false', N8N_COMMUNITY_PACKAGES_PREVENT_LOADING: 'true' };
const packaged = `${PACKAGE}.registerPushToken`;
const custom = 'CUSTOM.registerPushToken';

let n = 0;
const kase = (way: Way, setting: string, env: NodeJS.ProcessEnv, type: string, loads: boolean): Case => ({ way, setting, env, type, loads, token: tokens.apns(0x2300 + ++n) });
const cases: Case[] = [
	kase('nodes', 'N8N_UNVERIFIED_PACKAGES_ENABLED=false', strict, packaged, true),
	kase('nodes', 'N8N_UNVERIFIED_PACKAGES_ENABLED=true', open, packaged, true),
	kase('nodes', 'N8N_COMMUNITY_PACKAGES_PREVENT_LOADING=true (unverified false)', prevent, packaged, false),
	kase('custom', 'N8N_UNVERIFIED_PACKAGES_ENABLED=false', strict, custom, true),
	kase('custom', 'N8N_UNVERIFIED_PACKAGES_ENABLED=true', open, custom, true),
	kase('custom', 'N8N_COMMUNITY_PACKAGES_PREVENT_LOADING=true (unverified false)', prevent, custom, true),
	// a workflow made where the package is in nodes/ names its nodes by the package: not loaded this way
	kase('custom', 'N8N_UNVERIFIED_PACKAGES_ENABLED=false, workflow naming the package', strict, packaged, false),
];

const WAYS: Record<Way, string> = {
	nodes: 'package in <user folder>/.n8n/nodes',
	custom: 'N8N_CUSTOM_EXTENSIONS=<the installed package folder>',
};

describe('installing without the public registry: n8n 2.41.1 with the package in nodes/ or in N8N_CUSTOM_EXTENSIONS', () => {
	let n8n: N8nHarness;
	/** The same package folder, loaded as a custom extension by an n8n whose nodes/ is empty. */
	let extension: string;
	/** That n8n's user folder: the harness's n8n config and database, without nodes/. */
	let customUserFolder: string;
	const matrix: string[] = [];

	beforeAll(async () => {
		n8n = await N8nHarness.createInstalledBy('sqlite', (folder, tarball) => adminInstall(join(folder, '.n8n', 'nodes'), tarball));
		const nodesDir = join(n8n.folder, '.n8n', 'nodes');
		extension = join(nodesDir, 'node_modules', PACKAGE);
		for (const c of cases) {
			const register: NodeSpec = { name: 'Register', type: c.type, store: true, parameters: { appId: APP, platform: 'ios', token: c.token, deviceId: `device-${c.token.slice(-4)}` } };
			c.workflow = line(`install: ${c.way} ${c.setting}`, node.manual(), register);
		}
		await n8n.importWorkflows(cases.map((c) => c.workflow!));
		// An n8n with the same database and encryption key (so the same credential and workflows), and
		// an empty nodes/: copied while no n8n runs, SQLite's -wal and -shm files with the database.
		customUserFolder = join(n8n.folder, 'custom-extensions-admin');
		mkdirSync(join(customUserFolder, '.n8n'), { recursive: true });
		for (const file of readdirSync(join(n8n.folder, '.n8n')).filter((f) => f === 'config' || f.startsWith('database.sqlite'))) {
			copyFileSync(join(n8n.folder, '.n8n', file), join(customUserFolder, '.n8n', file));
		}
	}, 600_000);

	afterAll(async () => {
		process.stderr.write(`[install] way × setting → result\n${matrix.join('\n')}\n`);
		await n8n?.dispose();
	});

	it('the README install puts the package and its dependencies in nodes/, without a second n8n-workflow', () => {
		const nodesDir = join(n8n.folder, '.n8n', 'nodes');
		expect(JSON.parse(readFileSync(join(extension, 'package.json'), 'utf8'))).toMatchObject({ name: PACKAGE, version: VERSION });
		for (const dependency of ['better-sqlite3', 'pg', 'kysely', 'firebase-admin', 'apns2', 'web-push']) expect(existsSync(join(nodesDir, 'node_modules', dependency))).toBe(true);
		expect(existsSync(join(nodesDir, 'node_modules', 'n8n-workflow'))).toBe(false);
	});

	it.each(cases.map((c) => [`${c.way}: ${c.setting} → ${c.loads ? 'loads and runs' : 'refused'}`, c] as const))(
		'%s',
		async (_title, c) => {
			const env = c.way === 'custom' ? { ...c.env, N8N_USER_FOLDER: customUserFolder, N8N_CUSTOM_EXTENSIONS: extension } : { ...c.env, N8N_CUSTOM_EXTENSIONS: undefined };
			const started = Date.now();
			const id = c.workflow!.id as string;
			if (c.loads) {
				const out = await n8n.executeImported(id, env);
				expect(out.of('Register')).toEqual([expect.objectContaining({ action: 'registered', device: expect.objectContaining({ token: c.token, provider: 'apns' }) })]);
				expect((await n8n.store.changelog({ appId: APP, token: c.token })).map((e) => e.type)).toEqual(['registered']);
				matrix.push(`  ${WAYS[c.way]} × ${c.setting}: loads, ${c.type} registered its token (${Date.now() - started} ms)`);
			} else {
				await expect(n8n.executeImported(id, env)).rejects.toThrow(`Unrecognized node type: ${c.type}`);
				expect(await n8n.store.changelog({ appId: APP, token: c.token })).toEqual([]);
				matrix.push(`  ${WAYS[c.way]} × ${c.setting}: refused, "Unrecognized node type: ${c.type}" (${Date.now() - started} ms)`);
			}
		},
		120_000,
	);

	it("n8n's own installer (N8N_COMMUNITY_PACKAGES, no registry needed to refuse) refuses the unverified package when N8N_UNVERIFIED_PACKAGES_ENABLED=false", async () => {
		const started = Date.now();
		const message = `N8N_COMMUNITY_PACKAGES: no checksum available for '${PACKAGE}@${VERSION}' and unverified packages are disabled`;
		await expect(
			n8n.start({
				N8N_UNVERIFIED_PACKAGES_ENABLED: 'false',
				N8N_COMMUNITY_PACKAGES_MANAGED_BY_ENV: 'true',
				N8N_COMMUNITY_PACKAGES: JSON.stringify([{ name: PACKAGE, version: VERSION }]),
			}),
		).rejects.toThrow(message);
		await n8n.stop();
		matrix.push(`  n8n's installer, N8N_COMMUNITY_PACKAGES=[${PACKAGE}@${VERSION}] × N8N_UNVERIFIED_PACKAGES_ENABLED=false: refused, n8n start exits: "${message}" (${Date.now() - started} ms)`);
	}, 120_000);
});
