#!/usr/bin/env node
/**
 * The README's screenshots of the package in n8n's editor, written to docs/images/:
 *   canvas-send-feedback.png  Send Push → Handle Push Feedback after a run, items on the branches
 *   send-push-panel.png       Send Push's panel after that run (input, parameters, output)
 *   import-result.png         Import Push Tokens' output after the CSV import example ran
 *   nodes-panel.png           the nodes panel searched for "push"
 *   endpoint-panel.png        the Push Token Endpoint's panel (the register example's)
 *   send-report.png           a send report's HTML page (Get Send Report's HTML option), in Chromium
 *
 *   npm run screenshots                 (builds dist first; n8n 2.41.1 as the e2e tests install it, Debian's Chromium)
 *   npm run screenshots -- send-report  (only the report's picture: no n8n)
 *
 * The same n8n as the e2e tests (test/e2e/harness.ts: the packed package in a private user folder)
 * and the same browser driver (test/e2e/browser.ts); sends go to the fake providers of
 * test/fakes/providers.ts, routed as in test/e2e/send.e2e.test.ts.
 */
const { execFileSync } = require('node:child_process');
const { copyFileSync, mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');
const IMAGES = join(ROOT, 'docs/images');
const BUILD = join(ROOT, '.test-tmp/screenshots-build');

// The driver, the harness and the fakes are TypeScript: compiled here (as bench/tsconfig.json does
// for the benchmarks), inside the checkout so that the harness finds the package above it.
mkdirSync(BUILD, { recursive: true });
writeFileSync(
	join(BUILD, 'tsconfig.json'),
	JSON.stringify({
		extends: '../../tsconfig.json',
		compilerOptions: { outDir: '.', rootDir: '../..', declaration: false, sourceMap: false, noUnusedLocals: false },
		files: ['../../test/e2e/harness.ts', '../../test/e2e/browser.ts', '../../test/fakes/providers.ts'],
	}),
);
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(BUILD, 'tsconfig.json')], { stdio: 'inherit' });
process.env.PUSH_TOKENS_FAKE_CERTS = join(ROOT, 'test/fakes/certs'); // the compiled fakes are not beside their certificates

const { N8nHarness, example, PROVIDER_CREDENTIALS } = require(join(BUILD, 'test/e2e/harness'));
const { canvasNode, launchBrowser, loggedInPage, openWorkflow, setupOwner } = require(join(BUILD, 'test/e2e/browser'));
const { startFakes, unitHash } = require(join(BUILD, 'test/fakes/providers'));
const { freshConfig, tokens } = require(join(BUILD, 'test/support/stores'));

const APP = 'com.example.app';

/** The shipped send example, its webhook replaced by a Manual Trigger and a Code node giving the webhook's body. */
function sendExample(folder) {
	const workflow = example('send-push-on-event', folder);
	const webhook = workflow.nodes.find((n) => n.type === 'n8n-nodes-base.webhook');
	const [x, y] = webhook.position;
	workflow.nodes = [
		{ id: 'shot-start', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [x - 260, y], parameters: {} },
		{
			id: webhook.id,
			name: webhook.name,
			type: 'n8n-nodes-base.code',
			typeVersion: 2,
			position: [x, y],
			parameters: { jsCode: `return [{ json: { body: { userId: 'kim', orderId: 'A-17' } } }];` },
		},
		// (no sticky note: the picture is of the nodes)
		...workflow.nodes.filter((n) => n !== webhook && n.type !== 'n8n-nodes-base.stickyNote'),
	];
	for (const n of workflow.nodes) if (n.type.endsWith('.sendPush')) n.credentials = { ...n.credentials, ...PROVIDER_CREDENTIALS };
	workflow.connections = { ...workflow.connections, Start: { main: [[{ node: webhook.name, type: 'main', index: 0 }]] } };
	workflow.id = 'shotSendFeedback';
	workflow.pinData = {};
	return workflow;
}

/**
 * A screenshot cropped to what shows: the union of the boxes of `boxes` (elements taken whole) and
 * of whatever inside `content` shows something (text, an image, an icon: empty containers are
 * as large as the window), with a margin, kept inside `within` and the window. Toolbars and
 * buttons that show on hover only (a trigger's "Execute workflow") are left out.
 */
async function shotOf(page, file, { boxes = [], content = [], within, margin = 0 }) {
	const clip = await page.evaluate(
		({ boxes, content, within, margin }) => {
			const all = (selectors) => selectors.flatMap((s) => [...document.querySelectorAll(s)]);
			const shows = (el) => ['IMG', 'svg', 'INPUT'].includes(el.tagName) || [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
			const inside = all(content).flatMap((el) => [...el.querySelectorAll('*')].filter(shows));
			const rects = [...all(boxes), ...inside]
				.filter((el) => !el.closest('[data-test-id="canvas-node-toolbar"], [data-test-id="canvas-node"] button'))
				.map((el) => el.getBoundingClientRect())
				.filter((r) => r.width > 0 && r.height > 0);
			if (!rects.length) return null;
			const limit = within ? document.querySelector(within).getBoundingClientRect() : { left: 0, top: 0, right: innerWidth, bottom: innerHeight };
			const left = Math.max(limit.left, 0, Math.min(...rects.map((r) => r.left)) - margin);
			const top = Math.max(limit.top, 0, Math.min(...rects.map((r) => r.top)) - margin);
			const right = Math.min(limit.right, innerWidth, Math.max(...rects.map((r) => r.right)) + margin);
			const bottom = Math.min(limit.bottom, innerHeight, Math.max(...rects.map((r) => r.bottom)) + margin);
			return { x: Math.floor(left), y: Math.floor(top), width: Math.ceil(right - Math.floor(left)), height: Math.ceil(bottom - Math.floor(top)) };
		},
		{ boxes, content, within, margin },
	);
	if (!clip) throw new Error(`nothing to take a picture of for ${file}`);
	await page.screenshot({ path: join(IMAGES, file), clip });
	console.log(`[screenshots] docs/images/${file} (${clip.width}×${clip.height})`);
}

/** Waits until the canvas stops moving (zoom-to-fit animates): its transform the same for 10 frames. */
async function canvasSettled(page) {
	await page.evaluate(
		() =>
			new Promise((done) => {
				let last = '';
				let same = 0;
				const tick = () => {
					const now = document.querySelector('.vue-flow__viewport')?.style.transform ?? '';
					same = now === last ? same + 1 : 0;
					last = now;
					if (same >= 10) done();
					else requestAnimationFrame(tick);
				};
				tick();
			}),
	);
}

/** Closes n8n's toasts ("Workflow executed successfully"), which would sit over the picture. */
async function closeToasts(page) {
	for (const close of await page.locator('.el-notification .el-notification__closeBtn').all()) await close.click().catch(() => undefined);
	await page.locator('.el-notification').first().waitFor({ state: 'hidden' });
}

async function executeAndWait(page, lastNode) {
	await page.getByTestId('execute-workflow-button').click();
	await canvasNode(page, lastNode).getByTestId('canvas-node-status-success').waitFor({ timeout: 120_000 });
	await closeToasts(page);
}

/**
 * A send report as Get Send Report's HTML option makes it (nodes/core/report/html.ts), from what a
 * store recorded: a campaign of 300 devices sent through the real provider libraries to the fakes
 * (dead tokens, providers unavailable, lost answers), as Send Push's An Audience operation sends it
 * (its census gives the skipped devices), a rerun an hour later reaching the devices whose
 * provider was unavailable, then the app's opens over the next hours. The store's clock is moved
 * by the script, so that the timeline spans those hours.
 */
async function sendReportShot(browser, fakes) {
	const core = require(join(ROOT, 'dist/nodes/core'));
	require(join(ROOT, 'test/fakes/network-edge.cjs')); // the providers' hostnames → the fakes, as in the tests
	process.env.PUSH_TOKENS_FAKE_ROUTES = JSON.stringify(fakes.routes);
	const vapid = require('web-push').generateVAPIDKeys();
	fakes.webpush.vapidPublicKey = vapid.publicKey;
	const sa = fakes.fcm.serviceAccount;
	const apns = fakes.apns;
	const transports = {
		fcm: new core.FcmTransport({ projectId: sa.project_id, clientEmail: sa.client_email, privateKey: sa.private_key }),
		apns: new core.ApnsTransport({ teamId: apns.teamId, keyId: apns.keyId, signingKey: apns.signingKey, bundleId: apns.bundleId }),
		webpush: new core.WebPushTransport({ subject: 'mailto:ops@example.com', publicKey: vapid.publicKey, privateKey: vapid.privateKey, allowedPrivateHosts: [fakes.webpush.host] }),
	};
	const { config, dispose } = await freshConfig('sqlite');
	const START = Date.parse('2026-12-04T09:00:00Z');
	let now = START - 86_400_000;
	const store = await core.TokenStore.open(config, { clock: () => now });
	try {
		// 300 devices: 160 Android (FCM), 100 iOS (APNs), 40 browsers (Web Push); 12 never identified, 9 users unsubscribed
		const devices = [];
		for (let i = 0; i < 300; i++) {
			const [platform, token] = i < 160 ? ['android', tokens.fcm(i)] : i < 260 ? ['ios', tokens.apns(i)] : ['web', fakes.webpush.subscribe(`sub-${i}`)];
			const userId = i % 25 === 7 ? undefined : `user-${i}`;
			await store.register({ appId: APP, platform, token, ...(userId ? { userId } : {}) });
			devices.push({ i, platform, address: typeof token === 'string' ? token : token.endpoint, userId });
		}
		for (const d of devices.filter((d) => d.userId && d.i % 31 === 11)) await store.setSubscription({ userId: d.userId, unsubscribed: true });
		// What the providers answer: dead tokens, unavailable (retry), answers lost (delivery unknown)
		const fake = { android: fakes.fcm, ios: fakes.apns, web: fakes.webpush };
		const answers = {
			dead: { android: { kind: 'error', status: 404, code: 'UNREGISTERED' }, ios: { kind: 'error', status: 410, code: 'Unregistered' }, web: { kind: 'error', status: 410, code: 'Gone' } },
			bad: { android: { kind: 'error', status: 404, code: 'UNREGISTERED' }, ios: { kind: 'error', status: 400, code: 'BadDeviceToken' }, web: { kind: 'error', status: 404, code: 'Not Found' } },
			unavailable: { android: { kind: 'error', status: 503, code: 'UNAVAILABLE' }, ios: { kind: 'error', status: 503, code: 'ServiceUnavailable' }, web: { kind: 'error', status: 503, code: 'Service Unavailable' } },
			// (Web Push only: on HTTP/2 a reset connection loses the answers of every push in flight on it)
			lost: { web: { kind: 'reset' } },
		};
		const fate = (d) => {
			const u = unitHash(`fate:${d.i}`);
			return u < 0.04 ? 'dead' : u < 0.06 ? 'bad' : u < 0.1 ? 'unavailable' : u < 0.15 ? 'lost' : 'ok';
		};
		const comesBack = (d) => fate(d) === 'unavailable' && unitHash(`back:${d.i}`) < 0.6;
		for (const d of devices) {
			const answer = answers[fate(d)]?.[d.platform];
			if (answer) fake[d.platform].on(d.address, answer);
		}
		const sender = new core.Sender(store, transports);
		const message = core.PushMessage.parse({ title: 'Winter sale: 30% off until Sunday', body: 'Your favourites are on sale.' });
		const query = { appId: APP, visible: true };
		const campaign = async () => {
			const census = await store.audienceCensus(query);
			const summary = await sender.sendAudience(query, message, { sendId: 'winter-sale', record: true, maxAttempts: 1, failureLimit: 300 });
			await store.recordSkipped('winter-sale', { ...census.excluded, alreadyReached: summary.skipped });
			return summary;
		};
		now = START;
		const first = await campaign();
		// an hour later most of the providers' unavailable answers are over: the rerun reaches those devices, skips the ones reached
		for (const d of devices) if (comesBack(d)) fake[d.platform].on(d.address, { kind: 'ok' });
		now = START + 60 * 60_000;
		const rerun = await campaign();
		// the app's opens: a third of the devices reached, most in the first half hour after their push
		const opens = [];
		for (const d of devices) {
			const f = fate(d);
			if ((f !== 'ok' && !comesBack(d)) || unitHash(`open:${d.i}`) >= 0.35) continue;
			const after = Math.floor(-Math.log(1 - unitHash(`when:${d.i}`)) * 20 * 60_000);
			opens.push({ at: (f === 'ok' ? START : START + 60 * 60_000) + 5_000 + after, d });
		}
		opens.sort((a, b) => a.at - b.at);
		for (const { at, d } of opens) {
			now = at;
			await store.recordOpen({ appId: APP, sendId: 'winter-sale', token: d.address, openedAt: new Date(at).toISOString() });
		}
		const report = await store.sendReport('winter-sale');
		console.log(`[screenshots] winter-sale: ${report.targeted} targeted, ${report.sent} sent, ${report.failed} failed, ${report.opened} opened (first run ${first.delivered} delivered, rerun ${rerun.delivered})`);
		const page = await browser.newPage({ viewport: { width: 720, height: 900 } });
		await page.setContent(core.reportHtml(report));
		await page.screenshot({ path: join(IMAGES, 'send-report.png'), fullPage: true });
		console.log('[screenshots] docs/images/send-report.png');
		await page.close();
	} finally {
		await store.close();
		await Promise.all(Object.values(transports).map((t) => t.close()));
		await dispose();
	}
}

async function main() {
	mkdirSync(IMAGES, { recursive: true });
	const browser = await launchBrowser();
	const fakes = await startFakes();
	if (process.argv.includes('send-report')) {
		try {
			await sendReportShot(browser, fakes);
		} finally {
			await browser.close();
			await fakes.close();
		}
		return;
	}
	const n8n = await N8nHarness.withFakeProviders(fakes);
	try {
		// Kim's devices: two reached, one the provider says is gone (→ Removed), one it asks to retry later (→ Retry)
		const sub = fakes.webpush.subscribe();
		for (const [platform, token] of [['android', tokens.fcm(1)], ['web', sub], ['android', tokens.fcm(3)], ['ios', tokens.apns(4)]]) {
			await n8n.store.register({ appId: APP, platform, token, userId: 'kim' });
		}
		fakes.fcm.on(tokens.fcm(3), { kind: 'error', status: 404, code: 'UNREGISTERED', message: 'Requested entity was not found.' });
		fakes.apns.on(tokens.apns(4), { kind: 'error', status: 503, code: 'ServiceUnavailable' });
		const send = sendExample(n8n.folder);
		await n8n.importWorkflow(send);
		copyFileSync(join(ROOT, 'examples/tokens.sample.csv'), join(n8n.folder, 'tokens.csv'));
		const importCsv = example('import-tokens-csv', n8n.folder);
		await n8n.importWorkflow(importCsv);
		await n8n.importCredentials([{ id: 'pushEndpointAuth1', name: 'Push Token Endpoint Auth', type: 'pushTokenEndpointAuthApi', data: { appKey: 'app-key', hmacSecret: 'an-hmac-secret-of-32-characters!' } }]);
		const endpoint = example('register-token-webhook', n8n.folder);
		await n8n.importWorkflow(endpoint);

		const base = await n8n.start();
		await setupOwner(base);
		const { page } = await loggedInPage(browser, base);
		const onCanvas = (w) => w.nodes.filter((n) => n.type !== 'n8n-nodes-base.stickyNote').map((n) => n.name);

		// 1. the canvas after a run
		await openWorkflow(page, send.id, onCanvas(send));
		await executeAndWait(page, 'Handle Push Feedback');
		await page.getByTestId('zoom-to-fit').click();
		await page.mouse.move(0, 0); // no hover toolbar in the picture
		await canvasSettled(page);
		await shotOf(page, 'canvas-send-feedback.png', {
			boxes: ['[data-test-id="canvas-node"] [data-canvas-node-render-type]'],
			content: ['[data-test-id="canvas-node"]', '[data-test-id="edge-label"]'],
			margin: 24,
		});

		// 2. Send Push's panel, with that run's input and output
		await canvasNode(page, 'Send Push').dblclick();
		const ndv = page.getByTestId('ndv');
		const sent = ndv.getByTestId('output-panel');
		await sent.getByTestId('node-run-status-success').waitFor();
		// JSON: each device's outcome shows (the table's first columns are the app and the token)
		await sent.getByTestId('radio-button-json').click();
		await sent.getByText('"outcome"').first().waitFor();
		await shotOf(page, 'send-push-panel.png', { boxes: ['dialog[data-test-id="ndv"]'] });
		await ndv.getByTestId('ndv-close-button').click();

		// 3. the import's summary
		await openWorkflow(page, importCsv.id, onCanvas(importCsv));
		await executeAndWait(page, 'Import Push Tokens');
		await canvasNode(page, 'Import Push Tokens').dblclick();
		const output = ndv.getByTestId('output-panel');
		await output.getByTestId('node-run-status-success').waitFor();
		await output.getByTestId('radio-button-json').click();
		await output.getByText('"imported"').first().waitFor();
		const panel = '[data-test-id="ndv"] [data-test-id="output-panel"]';
		await shotOf(page, 'import-result.png', { content: [panel], within: panel, margin: 16 });
		await ndv.getByTestId('ndv-close-button').click();

		// 4. the Push Token Endpoint's panel
		await openWorkflow(page, endpoint.id, onCanvas(endpoint));
		await canvasNode(page, 'App calls').dblclick();
		await ndv.getByText('Identity Verification').first().waitFor();
		await shotOf(page, 'endpoint-panel.png', { boxes: ['dialog[data-test-id="ndv"]'] });
		await ndv.getByTestId('ndv-close-button').click();

		// 5. the nodes panel, searched for "push" (a taller window, so that all the nodes show)
		await page.setViewportSize({ width: 1280, height: 1100 });
		await page.getByTestId('node-creator-plus-button').click();
		await page.getByTestId('node-creator-search-bar').fill('push');
		for (const name of ['Register Push Token', 'Push Reports']) await page.getByTestId('node-creator-item-name').getByText(name, { exact: true }).waitFor();
		await page.mouse.move(0, 0);
		await shotOf(page, 'nodes-panel.png', { content: ['[data-test-id="node-creator"]'], within: '[data-test-id="node-creator"]', margin: 16 });

		// 6. a send report's HTML page (no editor)
		await sendReportShot(browser, fakes);
	} finally {
		await browser.close();
		await n8n.dispose();
		await fakes.close();
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
