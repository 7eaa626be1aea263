/**
 * A small driver for n8n's editor in a real browser: Debian's Chromium through playwright-core
 * (Playwright's own browser builds cannot be downloaded here), the owner account made through
 * n8n's REST API, and the few editor gestures the editor tests and the screenshots share.
 */
import { execFileSync, type ExecFileSyncOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, request, selectors, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** The owner account of every harness (n8n's rule: 8+ characters, a number and an uppercase letter). */
export const OWNER = { email: 'owner@push-tokens.test', firstName: 'Push', lastName: 'Tokens', password: 'PushTokens1234' };

/**
 * Where Chromium is: CHROMIUM_PATH, else Debian's /usr/bin/chromium, which is installed with
 * apt-get when missing (as root). No Chromium → an error: the browser tests fail, never skip.
 */
export function chromiumPath(): string {
	const given = process.env.CHROMIUM_PATH;
	const path = given ?? '/usr/bin/chromium';
	if (existsSync(path)) return path;
	const canInstall = !given && process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
	if (canInstall) {
		process.stderr.write(`[browser] ${path} is missing: installing Debian's chromium (apt-get install -y chromium)\n`);
		try {
			const options: ExecFileSyncOptions = { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } };
			execFileSync('apt-get', ['update'], options);
			execFileSync('apt-get', ['install', '-y', 'chromium'], options);
		} catch (error) {
			process.stderr.write(`[browser] installing chromium failed: ${(error as Error).message}\n`);
		}
		if (existsSync(path)) return path;
	}
	const why = given ? 'CHROMIUM_PATH names no file' : canInstall ? '`apt-get install -y chromium` did not install it' : 'installing it needs root and apt-get';
	throw new Error(`Chromium is not installed at ${path} and could not be installed (${why}): install Debian's "chromium" package, or set CHROMIUM_PATH to a Chromium`);
}

/** Headless Chromium; each context gets a fresh, temporary profile (Playwright's default). */
export async function launchBrowser(): Promise<Browser> {
	// n8n's own test ids are data-test-id, not Playwright's default data-testid
	selectors.setTestIdAttribute('data-test-id');
	return chromium.launch({
		executablePath: chromiumPath(),
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
	});
}

/** Makes the owner account of a fresh n8n (POST /rest/owner/setup, n8n 2.41.1's OwnerSetupRequestDto). */
export async function setupOwner(base: string): Promise<void> {
	// (Playwright's client, not fetch: fetch's idle keep-alive socket would keep jest from exiting)
	const api = await request.newContext({ baseURL: base });
	try {
		const response = await api.post('/rest/owner/setup', { data: OWNER });
		if (!response.ok()) throw new Error(`owner setup failed: ${response.status()} ${await response.text()}`);
	} finally {
		await api.dispose();
	}
}

/** What the browser's console and page errors said, for the checks at the end. */
export interface BrowserErrors {
	messages: string[];
}

/**
 * A page logged in as the owner: POST /rest/login from the page's context sets n8n's auth cookie
 * in the browser (the editor's own login form would do the same). Console errors are collected.
 */
export async function loggedInPage(browser: Browser, base: string): Promise<{ context: BrowserContext; page: Page; errors: BrowserErrors }> {
	const context = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1, colorScheme: 'light' });
	// Long waits: n8n's editor on a busy 2-core machine can take many seconds to load a view.
	context.setDefaultTimeout(60_000);
	context.setDefaultNavigationTimeout(120_000);
	const errors: BrowserErrors = { messages: [] };
	const page = await context.newPage();
	page.on('console', (message) => {
		if (message.type() === 'error') errors.messages.push(`console: ${message.text()} (${message.location().url})`);
	});
	page.on('pageerror', (error) => errors.messages.push(`pageerror: ${error.message}\n${error.stack ?? ''}`));
	// "Leave without saving?" and the like: accepted, so that going to the next view never stalls
	page.on('dialog', (dialog) => void dialog.accept().catch(() => undefined));
	const login = await context.request.post('/rest/login', { data: { emailOrLdapLoginId: OWNER.email, password: OWNER.password } });
	if (!login.ok()) throw new Error(`login failed: ${login.status()} ${await login.text()}`);
	return { context, page, errors };
}

/**
 * Closes first-run modals if one shows. n8n 2.41.1 asks its "Customize n8n to you" survey only
 * with diagnostics on (the harness turns them off), and its NPS survey only later; kept in case.
 */
export async function dismissModals(page: Page): Promise<void> {
	const survey = page.getByRole('dialog').filter({ hasText: /Customize n8n to you/i }).first();
	if (await survey.isVisible()) await survey.getByRole('button', { name: /Get started|Skip/i }).first().click();
	const nps = page.getByTestId('nps-survey-modal').first();
	if (await nps.isVisible()) await page.keyboard.press('Escape');
}

/** Opens a workflow in the editor and waits until its canvas shows each of these nodes. */
export async function openWorkflow(page: Page, id: string, nodeNames: string[]): Promise<void> {
	await page.goto(`/workflow/${id}`);
	for (const name of nodeNames) await canvasNode(page, name).waitFor();
	await dismissModals(page);
}

/** A node on the canvas, by its name. */
export function canvasNode(page: Page, name: string) {
	return page.locator(`[data-test-id="canvas-node"][data-node-name="${name}"]`);
}
