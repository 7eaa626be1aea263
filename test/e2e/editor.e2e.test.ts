/**
 * The package in n8n's editor, in a real browser (Debian's Chromium through playwright-core):
 * every example opens with this package's icons, every node's parameter panel opens, the store
 * credential's connection test passes, a workflow runs from the editor and shows its output, and
 * the browser logs no error about the package. A missing Chromium fails the suite (never skips).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { HandlePushFeedback } from '../../nodes/HandlePushFeedback/HandlePushFeedback.node';
import { ImportPushTokens } from '../../nodes/ImportPushTokens/ImportPushTokens.node';
import { PushReports } from '../../nodes/PushReports/PushReports.node';
import { PushTokenCleanupTrigger } from '../../nodes/PushTokenCleanupTrigger/PushTokenCleanupTrigger.node';
import { PushTokenEndpoint } from '../../nodes/PushTokenEndpoint/PushTokenEndpoint.node';
import { PushTokenIdentity } from '../../nodes/PushTokenIdentity/PushTokenIdentity.node';
import { RegisterPushToken } from '../../nodes/RegisterPushToken/RegisterPushToken.node';
import { SendPush } from '../../nodes/SendPush/SendPush.node';
import { canvasNode, launchBrowser, loggedInPage, openWorkflow, setupOwner, type BrowserErrors } from './browser';
import { CREDENTIAL, example, line, N8nHarness, node, PACKAGE, type Json } from './harness';

const ROOT = join(__dirname, '../..');
const APP = 'com.example.app';
const TOKEN = `editor-fcm-token:APA91b${'e'.repeat(40)}`;

/** The package's nodes: the classes package.json lists (a test below checks the two lists agree). */
const NODE_CLASSES = { HandlePushFeedback, ImportPushTokens, PushReports, PushTokenCleanupTrigger, PushTokenEndpoint, PushTokenIdentity, RegisterPushToken, SendPush };
const NODES = Object.entries(NODE_CLASSES).map(([file, NodeClass]) => {
	const { name, displayName, icon } = new NodeClass().description;
	// n8n serves a community node's `file:` icon at /icons/<package>/<its path in the package>
	const light = typeof icon === 'string' ? icon : (icon as { light: string }).light;
	return { type: `${PACKAGE}.${name}`, name, displayName, dist: `dist/nodes/${file}/${file}.node.js`, iconPath: `/icons/${PACKAGE}/${posix.join(`dist/nodes/${file}`, light.replace(/^file:/, ''))}` };
});
const byType = new Map(NODES.map((n) => [n.type, n]));
const EXAMPLES = readdirSync(join(ROOT, 'examples'))
	.filter((file) => file.endsWith('.json'))
	.sort();

type Workflow = Json & { id: string; name: string; nodes: Array<{ name: string; type: string }> };

describe('[sqlite] the nodes in n8n’s editor (Chromium)', () => {
	let n8n: N8nHarness;
	let browser: Browser;
	let page: Page;
	let errors: BrowserErrors;
	let examples: Workflow[] = [];
	const panelsOpened = new Set<string>();
	const run = line(
		'register from the editor',
		node.manual('Start'),
		node.items('Device', [{ appId: APP, platform: 'android', token: TOKEN }]),
		node.register('Register Push Token', { appId: '={{ $json.appId }}', platform: '={{ $json.platform }}', token: '={{ $json.token }}' }),
	) as Workflow;

	beforeAll(async () => {
		// Chromium first: a machine without it fails here, before minutes of n8n set-up
		browser = await launchBrowser();
		n8n = await N8nHarness.create('sqlite');
		examples = EXAMPLES.map((file) => example(file.replace(/\.json$/, ''), n8n.folder) as Workflow);
		for (const workflow of [...examples, run]) await n8n.importWorkflow(workflow);
		const base = await n8n.start();
		await setupOwner(base);
		({ page, errors } = await loggedInPage(browser, base));
	}, 15 * 60_000);
	afterAll(async () => {
		await browser?.close();
		await n8n?.dispose();
	});

	/** Fails with what the page showed and what n8n printed, which a bare timeout does not say. */
	async function explained<T>(what: string, step: () => Promise<T>): Promise<T> {
		try {
			return await step();
		} catch (error) {
			const text = await page.locator('body').innerText().catch(() => '(no page)');
			throw new Error(`${what}: ${(error as Error).message}\n--- page text ---\n${text.slice(0, 3000)}\n--- n8n log ---\n${n8n.serverLog().slice(-3000)}`);
		}
	}

	it('the nodes checked here are the nodes package.json gives n8n', () => {
		const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { n8n: { nodes: string[] } };
		expect([...pkg.n8n.nodes].sort()).toEqual(NODES.map((n) => n.dist).sort());
	});

	it('the examples cover every node of the package', () => {
		expect(examples.length).toBeGreaterThan(0);
		const used = new Set(examples.flatMap((w) => w.nodes.map((n) => n.type)));
		expect(NODES.map((n) => n.type).filter((type) => !used.has(type))).toEqual([]);
	});

	it.each(EXAMPLES)('%s opens: each node of the package shows its icon, and its parameter panel opens', async (file) => {
		const workflow = examples[EXAMPLES.indexOf(file)];
		const canvas = workflow.nodes.filter((n) => n.type !== 'n8n-nodes-base.stickyNote');
		await explained(`opening ${file}`, () => openWorkflow(page, workflow.id, canvas.map((n) => n.name)));

		for (const n of canvas.filter((c) => byType.has(c.type))) {
			const expected = byType.get(n.type)!;
			const onCanvas = canvasNode(page, n.name);
			expect(await onCanvas.getAttribute('data-node-type')).toBe(n.type);
			// n8n's unknown-node look: a "?" placeholder icon and a "not installed" status
			expect(await onCanvas.getByTestId('node-not-installed').count()).toBe(0);
			expect(await onCanvas.locator('[class*="nodeIconPlaceholder"]').count()).toBe(0);
			const icon = onCanvas.locator('img');
			await icon.waitFor();
			expect(new URL((await icon.getAttribute('src'))!, 'http://n8n').pathname).toBe(expected.iconPath);
			// decode() rejects for an image that failed to load
			const width = await icon.evaluate(async (el) => {
				const img = el as unknown as { decode(): Promise<void>; naturalWidth: number };
				await img.decode();
				return img.naturalWidth;
			});
			expect(width).toBeGreaterThan(0);

			await explained(`the parameter panel of "${n.name}" (${n.type})`, async () => {
				await onCanvas.dblclick();
				const ndv = page.getByTestId('ndv');
				await ndv.getByTestId('node-parameters').waitFor();
				expect(await ndv.getByText('Install this node to use it').count()).toBe(0);
				expect(await ndv.getByText(/is not valid as its type/).count()).toBe(0);
				expect(await ndv.getByTestId('node-parameters').locator('[data-test-id^="parameter-input-"]').count()).toBeGreaterThan(0);
				// the panel's title is the node's own name, shown with the package's icon
				expect(await ndv.getByTestId('node-title-container').getByTestId('inline-edit-preview').innerText()).toBe(n.name);
				await ndv.locator(`img[src$="${expected.iconPath}"]`).first().waitFor();
				await ndv.getByTestId('ndv-close-button').click();
				await ndv.waitFor({ state: 'hidden' });
			});
			panelsOpened.add(n.type);
		}
	}, 300_000);

	it('every node’s parameter panel was opened', () => {
		expect(NODES.map((n) => n.type).filter((type) => !panelsOpened.has(type))).toEqual([]);
	});

	it('the Push Token Store credential’s connection test passes (the credential opened from the Credentials list)', async () => {
		await explained('the credential test', async () => {
			await page.goto('/home/credentials');
			const card = page.getByTestId('resources-list-item').filter({ hasText: CREDENTIAL.name });
			// opening a saved credential runs its connection test (POST /rest/credentials/test)
			const tested = page.waitForResponse((r) => r.url().endsWith('/rest/credentials/test') && r.request().method() === 'POST');
			await card.click();
			const response = await tested;
			expect(await response.json()).toMatchObject({ data: { status: 'OK' } });
			const modal = page.getByTestId('editCredential-modal');
			await modal.getByTestId('credentials-config-container-test-success').getByText('Connection tested successfully').waitFor();
			await modal.locator('.el-dialog__headerbtn, [aria-label="Close"]').first().click();
			await modal.waitFor({ state: 'hidden' });
		});
	}, 180_000);

	it('a workflow runs from the editor: Manual Trigger → Code → Register Push Token, the output panel shows the registered token', async () => {
		await explained('running from the editor', async () => {
			await openWorkflow(page, run.id, run.nodes.map((n) => n.name));
			await page.getByTestId('execute-workflow-button').click();
			const register = canvasNode(page, 'Register Push Token');
			await register.getByTestId('canvas-node-status-success').waitFor({ timeout: 120_000 });
			await register.dblclick();
			const output = page.getByTestId('ndv').getByTestId('output-panel');
			await output.getByTestId('node-run-status-success').waitFor();
			await output.getByText('registered', { exact: true }).waitFor();
			expect(await output.innerText()).toContain(TOKEN);
			await page.getByTestId('ndv').getByTestId('ndv-close-button').click();
		});
		expect(await n8n.store.getDevice(APP, TOKEN)).toMatchObject({ token: TOKEN, provider: 'fcm' });
	}, 240_000);

	it('the browser logged no error about the package', () => {
		const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
		const ours = new RegExp([PACKAGE, ...NODES.flatMap((n) => [n.name, n.displayName]), 'pushTokenStoreApi'].map(escape).join('|'), 'i');
		// The one expected 404: the editor asks every non-trigger node for an optional output-schema
		// file (GET /schemas/<type>/<version>.json, or <version>/<operation>.json for a node with
		// operations, a node's __schema__ folder) to preview its output before it ran; the package
		// ships none, and n8n then shows no preview. Printed, not failed on.
		const noSchema = new RegExp(`status of 404 .*/schemas/${escape(PACKAGE)}\\.\\w+/[\\d.]+(/\\w+)*\\.json\\)$`);
		const failing = errors.messages.filter((m) => ours.test(m) && !noSchema.test(m));
		// that 404 and n8n's own console noise (not this package's to fix) are printed
		const printed = errors.messages.filter((m) => !failing.includes(m));
		if (printed.length) console.warn(`browser errors not failed on:\n${printed.join('\n')}`);
		expect(failing).toEqual([]);
	});
});
