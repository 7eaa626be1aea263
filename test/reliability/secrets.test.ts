/**
 * Issue 6, item 5: secrets live in credentials only. Every node runs with credentials holding
 * recognisable secrets — a PostgreSQL password (in a connection URL and in the fields form), an
 * FCM service-account private key, an APNs .p8 key, a VAPID private key — through success and
 * failure paths: a PostgreSQL that refuses the password (a minimal server speaking the protocol's
 * password exchange), the real local PostgreSQL (a role that does not exist; and a store that
 * works with the password in its URL), a URL that does not parse, providers that refuse the keys.
 * Nothing the run leaves — output items, errors (message, description, cause, stack, every own
 * property), credential test results, the changelog, anything written to the console, stdout or
 * stderr — may hold a secret or a recognisable piece of one (e.g. a line of a PEM body).
 */
import '../fakes/network-edge.cjs';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import webpush from 'web-push';
import type { ICredentialDataDecryptedObject, ICredentialsDecrypted, ICredentialTestFunctions, IDataObject, INodeCredentialTestResult, INodeType, ITriggerFunctions } from 'n8n-workflow';
import { closeAllStores, DEFAULT_SCHEMA } from '../../nodes/core';
import { HandlePushFeedback } from '../../nodes/HandlePushFeedback/HandlePushFeedback.node';
import { ImportPushTokens } from '../../nodes/ImportPushTokens/ImportPushTokens.node';
import { PushTokenCleanupTrigger } from '../../nodes/PushTokenCleanupTrigger/PushTokenCleanupTrigger.node';
import { PushTokenIdentity } from '../../nodes/PushTokenIdentity/PushTokenIdentity.node';
import { RegisterPushToken } from '../../nodes/RegisterPushToken/RegisterPushToken.node';
import { SendPush } from '../../nodes/SendPush/SendPush.node';
import { credentialTests } from '../../nodes/shared/providers';
import { pushTokenStoreConnectionTest } from '../../nodes/shared/store';
import { startFakes, type Fakes } from '../fakes/providers';
import { freshConfig, tokens } from '../support/stores';
import { execute } from './support-input-context';

const { apnsCredentialTest, fcmCredentialTest, webpushCredentialTest: webPushCredentialTest } = credentialTests;

const APP = 'com.example.app';
const PG_PASSWORD = `S3CRET-pg-${randomBytes(9).toString('hex')}`;
const vapid = webpush.generateVAPIDKeys();
const otherVapid = webpush.generateVAPIDKeys();
const wrongFcmKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const wrongApnsKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

let fakes: Fakes;
let refusing: Server;
let refusingPort = 0;
/** Passwords the refusing server was sent: proof the driver really had the secret in hand. */
const passwordsReceived: string[] = [];
let dir: string;
/** Every secret, and the pieces of it someone could recognise. */
const secrets: Array<{ name: string; fragments: string[] }> = [];

/** A PEM's whole text, and every 24-character run of its base64 body (with or without line breaks). */
function pemFragments(pem: string): string[] {
	const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
	const pieces = [pem, pem.trim(), body, JSON.stringify(pem).slice(1, -1)];
	for (let i = 0; i + 24 <= body.length; i += 12) pieces.push(body.slice(i, i + 24));
	for (const line of pem.split('\n')) if (line.length >= 24 && !line.startsWith('-----')) pieces.push(line);
	return pieces;
}

/**
 * A PostgreSQL server that asks for the password in clear text (so the driver really sends it)
 * and refuses it, as a server with password authentication does.
 */
function refusingPostgres(): Promise<Server> {
	const server = createServer((socket) => {
		let startup = true;
		socket.on('data', (data) => {
			if (startup) {
				startup = false;
				if (data.readInt32BE(4) === 80877103) {
					// SSLRequest: no SSL here
					startup = true;
					socket.write('N');
					return;
				}
				const auth = Buffer.alloc(9);
				auth.write('R', 0);
				auth.writeInt32BE(8, 1);
				auth.writeInt32BE(3, 5); // AuthenticationCleartextPassword
				socket.write(auth);
				return;
			}
			if (data[0] === 0x70) {
				passwordsReceived.push(data.subarray(5, data.length - 1).toString());
				const fields = Buffer.from('SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed for user "push"\0\0');
				const error = Buffer.alloc(5);
				error.write('E', 0);
				error.writeInt32BE(4 + fields.length, 1);
				socket.end(Buffer.concat([error, fields]));
			}
		});
		socket.on('error', () => undefined);
	});
	return new Promise((done) => server.listen(0, '127.0.0.1', () => done(server)));
}

beforeAll(async () => {
	fakes = await startFakes();
	process.env.PUSH_TOKENS_FAKE_ROUTES = JSON.stringify(fakes.routes);
	fakes.webpush.vapidPublicKey = vapid.publicKey;
	refusing = await refusingPostgres();
	refusingPort = (refusing.address() as { port: number }).port;
	dir = mkdtempSync(join(tmpdir(), 'push-tokens-secrets-'));
	secrets.push(
		{ name: 'PostgreSQL password', fragments: [PG_PASSWORD, encodeURIComponent(PG_PASSWORD), PG_PASSWORD.slice('S3CRET-pg-'.length)] },
		{ name: 'FCM service account key', fragments: pemFragments(fakes.fcm.serviceAccount.private_key) },
		{ name: 'FCM wrong key', fragments: pemFragments(wrongFcmKey) },
		{ name: 'APNs .p8 key', fragments: pemFragments(fakes.apns.signingKey) },
		{ name: 'APNs wrong key', fragments: pemFragments(wrongApnsKey) },
		{ name: 'VAPID private key', fragments: [vapid.privateKey, vapid.privateKey.slice(0, 20), vapid.privateKey.slice(-20)] },
		{ name: 'other VAPID private key', fragments: [otherVapid.privateKey, otherVapid.privateKey.slice(0, 20), otherVapid.privateKey.slice(-20)] },
	);
});
afterAll(async () => {
	await closeAllStores();
	await fakes.close();
	await new Promise((done) => refusing.close(done));
	rmSync(dir, { recursive: true, force: true });
});

// ------------------------------------------------------------------ what a run leaves

/** Everything an error carries: message, description, stack, cause chain, own properties. */
function errorText(error: unknown): string {
	const parts: string[] = [];
	let e: unknown = error;
	for (let depth = 0; e && depth < 6; depth++) {
		const err = e as Error & { description?: unknown; context?: unknown; cause?: unknown };
		parts.push(String(err.message), String(err.stack), String(err.description ?? ''), inspect(err, { depth: 8, showHidden: true }));
		try {
			parts.push(JSON.stringify(err), JSON.stringify(err.context ?? null));
		} catch {
			// circular: inspect has it
		}
		e = err.cause;
	}
	return parts.join('\n');
}

let checked = 0;
const paths: string[] = [];

/** Runs `run` with console, stdout and stderr captured; then no secret may appear in what it left. */
async function leaves(path: string, run: () => Promise<unknown>, extra: () => Promise<string[]> = async () => []): Promise<string> {
	const logged: string[] = [];
	const original = { out: process.stdout.write, err: process.stderr.write, console: { ...console } };
	const capture = (chunk: unknown) => {
		logged.push(typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString() : inspect(chunk));
		return true;
	};
	process.stdout.write = capture as typeof process.stdout.write;
	process.stderr.write = capture as typeof process.stderr.write;
	for (const level of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) console[level] = (...args: unknown[]) => void logged.push(args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 8 }))).join(' '));
	let result: unknown;
	let error: unknown;
	try {
		result = await run();
	} catch (e) {
		error = e;
	} finally {
		process.stdout.write = original.out;
		process.stderr.write = original.err;
		Object.assign(console, original.console);
	}
	await closeAllStores();
	const text = [inspect(result, { depth: 12 }), JSON.stringify(result ?? null), error ? errorText(error) : '', ...logged, ...(await extra())];
	// errors inside output items are checked too (JSON above); the ones a node threw are in errorText
	for (const item of (Array.isArray(result) ? result.flat(2) : []) as Array<{ json?: { error?: unknown } }>) if (item?.json?.error) text.push(String(item.json.error));
	const all = text.join('\n');
	for (const secret of secrets) {
		for (const fragment of secret.fragments) {
			checked++;
			if (all.includes(fragment)) throw new Error(`${path}: the ${secret.name} leaked (${JSON.stringify(fragment.slice(0, 12))}… found in ${describeWhere(text, fragment)})`);
		}
	}
	paths.push(path);
	return all;
}

function describeWhere(texts: string[], fragment: string): string {
	const hit = texts.find((t) => t.includes(fragment)) ?? '';
	const at = hit.indexOf(fragment);
	return JSON.stringify(hit.slice(Math.max(0, at - 120), at));
}

function events(path: string): string[] {
	const db = new Database(path, { readonly: true });
	try {
		return [JSON.stringify(db.prepare('SELECT * FROM token_events').all()), JSON.stringify(db.prepare('SELECT * FROM dead_tokens').all())];
	} finally {
		db.close();
	}
}

async function pgEvents(url: string): Promise<string[]> {
	const client = new Client({ connectionString: url, options: `-c search_path=${DEFAULT_SCHEMA}` });
	await client.connect();
	try {
		return [JSON.stringify((await client.query('SELECT * FROM token_events')).rows), JSON.stringify((await client.query('SELECT * FROM dead_tokens')).rows)];
	} finally {
		await client.end();
	}
}

// ------------------------------------------------------------------ the nodes, as a user wires them

const feedback = (token: string, code: string) => ({ appId: APP, token, provider: 'fcm', code, statusCode: 0, test: false, attempt: 0, retryAfter: 0, message: '', options: {} });
const send = (over: IDataObject): IDataObject => ({ target: 'user', userId: 'kim', appId: '', lastActiveOnly: false, title: 'Hello', body: 'World', customData: {}, message: {}, options: { updateStore: true, maxAttempts: 1 }, ...over });

const STORE_NODES: Array<[string, () => INodeType, IDataObject, IDataObject[]?]> = [
	['Register Push Token', () => new RegisterPushToken(), { appId: APP, platform: 'android', token: tokens.fcm(1), deviceId: 'dev-1', userId: '', additionalFields: {} }],
	['Push Token Identity (identify)', () => new PushTokenIdentity(), { operation: 'identify', appId: APP, token: tokens.fcm(1), deviceId: '', userId: 'kim' }],
	['Push Token Identity (get profile)', () => new PushTokenIdentity(), { operation: 'getProfile', userId: 'kim' }],
	['Import Push Tokens', () => new ImportPushTokens(), { mode: 'anonymous', source: 'items', appId: APP, platform: 'android', token: tokens.fcm(2), deviceId: '', userId: '', options: {} }],
	['Handle Push Feedback', () => new HandlePushFeedback(), feedback(tokens.fcm(1), 'delivered')],
	['Send Push', () => new SendPush(), send({})],
];

async function cleanup(store: IDataObject) {
	const emitted: unknown[] = [];
	const params: IDataObject = { cronExpression: '0 3 1 * *', pruneStale: true, staleAfterDays: 1, reportLimit: 10, emitDeletedProfiles: true };
	const context = {
		getNode: () => ({ name: 'Cleanup' }),
		getNodeParameter: (name: string, fallback?: unknown) => params[name] ?? fallback,
		getCredentials: async () => store,
		emit: (data: unknown) => emitted.push(data),
		emitError: (error: Error) => emitted.push(error),
		helpers: { registerCron: () => undefined },
	} as unknown as ITriggerFunctions;
	const response = await new PushTokenCleanupTrigger().trigger!.call(context);
	await response!.manualTriggerFunction!();
	return emitted;
}

const testFns = {} as ICredentialTestFunctions;
type CredentialTest = (this: ICredentialTestFunctions, credential: ICredentialsDecrypted) => Promise<INodeCredentialTestResult>;
const callTest = (test: CredentialTest, type: string, data: IDataObject) => test.call(testFns, { id: 'c', name: type, type, data: data as ICredentialDataDecryptedObject });

describe('secrets never leave the credentials', () => {
	const refusedStores: Array<[string, () => IDataObject]> = [
		['a URL to a PostgreSQL that refuses the password', () => ({ engine: 'postgres', connection: 'url', url: `postgres://push:${PG_PASSWORD}@127.0.0.1:${refusingPort}/push` })],
		['the fields form to a PostgreSQL that refuses the password', () => ({ engine: 'postgres', connection: 'fields', host: '127.0.0.1', port: refusingPort, database: 'push', user: 'push', password: PG_PASSWORD, ssl: 'disable' })],
		['a URL to the real PostgreSQL with a role that does not exist', () => ({ engine: 'postgres', connection: 'url', url: `postgres://no_such_role_${process.pid}:${encodeURIComponent(PG_PASSWORD)}@${new URL(process.env.PUSH_TOKENS_PG_URL!).host}/test` })],
		['a URL that does not parse (its port)', () => ({ engine: 'postgres', connection: 'url', url: `postgres://push:${PG_PASSWORD}@127.0.0.1:port/push` })],
		['a URL with the password and SSL required on a server without it', () => ({ engine: 'postgres', connection: 'url', url: `postgres://push:${PG_PASSWORD}@127.0.0.1:${refusingPort}/push`, ssl: 'require' })],
	];

	it.each(refusedStores)('the store credential test, every node and the trigger fail without the password: %s', async (name, store) => {
		const all = await leaves(`store test: ${name}`, () => callTest(pushTokenStoreConnectionTest, 'pushTokenStoreApi', store()));
		expect(all).toMatch(/Error/);
		for (const [node, type, params] of STORE_NODES) {
			for (const continueOnFail of [false, true]) {
				const text = await leaves(`${node} on ${name}${continueOnFail ? ' (continue on fail)' : ''}`, () => execute(type(), { params, credentials: { pushTokenStoreApi: store() }, continueOnFail }));
				expect(text.length).toBeGreaterThan(0);
			}
		}
		await leaves(`Cleanup trigger on ${name}`, () => cleanup(store()));
		if (/refuses the password/.test(name)) expect(passwordsReceived.filter((p) => p === PG_PASSWORD).length).toBeGreaterThanOrEqual(STORE_NODES.length * 2);
	});

	it('every node and the trigger succeed with the password in the store URL (real PostgreSQL), and the changelog holds none of it', async () => {
		const { config, dispose } = await freshConfig('postgres');
		const url = new URL((config as { connectionString: string }).connectionString);
		url.password = encodeURIComponent(PG_PASSWORD); // the local server trusts 127.0.0.1; the password still travels in the config
		const store = { engine: 'postgres', connection: 'url', url: url.toString() };
		try {
			await leaves('store test, working PostgreSQL', async () => {
				const result = await callTest(pushTokenStoreConnectionTest, 'pushTokenStoreApi', store);
				expect(result.status).toBe('OK');
				return result;
			});
			const credentials = { pushTokenStoreApi: store, ...providers() };
			for (const [node, type, params] of STORE_NODES) {
				await leaves(`${node} on a working PostgreSQL`, () => execute(type(), { params, credentials }), () => pgEvents(url.toString()));
			}
			const text = await leaves('Cleanup trigger on a working PostgreSQL', () => cleanup(store), () => pgEvents(url.toString()));
			expect(text).toContain('"type":"summary"');
			const changelog = (await pgEvents(url.toString())).join('\n');
			expect(changelog).toContain('"type":"registered"');
			expect(changelog).toContain('"type":"moved"');
		} finally {
			await closeAllStores();
			await dispose();
		}
	});

	function providers(over: { fcmKey?: string; apnsKey?: string; vapidPrivate?: string } = {}): Record<string, IDataObject> {
		const sa = fakes.fcm.serviceAccount;
		return {
			fcmServiceAccountApi: { serviceAccountJson: JSON.stringify({ ...sa, private_key: over.fcmKey ?? sa.private_key, token_uri: 'https://oauth2.googleapis.com/token' }) },
			apnsApi: { teamId: fakes.apns.teamId, keyId: fakes.apns.keyId, signingKey: over.apnsKey ?? fakes.apns.signingKey, bundleId: fakes.apns.bundleId, environment: 'production' },
			webPushVapidApi: { subject: 'mailto:ops@example.com', publicKey: over.vapidPrivate ? otherVapid.publicKey : vapid.publicKey, privateKey: over.vapidPrivate ?? vapid.privateKey, allowedPrivateHosts: fakes.webpush.host },
		};
	}

	async function sqliteWithDevices(): Promise<{ path: string; sub: ReturnType<Fakes['webpush']['subscribe']> }> {
		const path = join(dir, `store-${randomBytes(4).toString('hex')}.sqlite`);
		const sub = fakes.webpush.subscribe();
		const credentials = { pushTokenStoreApi: { engine: 'sqlite', path } };
		const devices = [
			{ platform: 'android', token: tokens.fcm(1) },
			{ platform: 'ios', token: tokens.apns(2) },
			{ platform: 'web', token: JSON.stringify(sub) },
		];
		await execute(new RegisterPushToken(), { items: devices.map(() => ({})), params: (i) => ({ appId: APP, platform: devices[i].platform, token: devices[i].token, deviceId: '', userId: 'kim', additionalFields: {} }), credentials });
		await closeAllStores();
		return { path, sub };
	}

	it('Send Push and Handle Push Feedback through the providers: delivered, and every kind of refusal', async () => {
		const scenarios: Array<[string, () => void, Parameters<typeof providers>[0], RegExp]> = [
			['delivered by FCM, APNs and Web Push', () => undefined, {}, /"outcome":"delivered".*"outcome":"delivered".*"outcome":"delivered"/s],
			['FCM refuses a service account signed with another key', () => undefined, { fcmKey: wrongFcmKey }, /app\/invalid-credential/],
			['APNs refuses a provider token signed with another key', () => undefined, { apnsKey: wrongApnsKey }, /InvalidProviderToken/],
			['the push service refuses a VAPID signature of another key', () => undefined, { vapidPrivate: otherVapid.privateKey }, /HTTP 403/],
			[
				'dead tokens, rate limits and resets from every provider',
				() => {
					fakes.fcm.on(tokens.fcm(1), { kind: 'error', status: 404, code: 'UNREGISTERED' });
					fakes.apns.on(tokens.apns(2), { kind: 'reset' });
				},
				{},
				/invalid-token/,
			],
		];
		for (const [name, script, over, expected] of scenarios) {
			fakes.reset();
			script();
			const { path } = await sqliteWithDevices();
			const credentials = { pushTokenStoreApi: { engine: 'sqlite', path }, ...providers(over) };
			for (const continueOnFail of [false, true]) {
				const text = await leaves(`Send Push: ${name}${continueOnFail ? ' (continue on fail)' : ''}`, () => execute(new SendPush(), { params: send({ options: { updateStore: false, maxAttempts: 1 } }), credentials, continueOnFail }), async () => events(path));
				expect(text).toMatch(expected);
			}
			// the send's results, routed to Handle Push Feedback (and the store updated by the send itself)
			const [results] = await execute(new SendPush(), { params: send({}), credentials, continueOnFail: true });
			await closeAllStores();
			const items = results.map((r) => r.json);
			await leaves(
				`Handle Push Feedback after: ${name}`,
				() =>
					execute(new HandlePushFeedback(), {
						items: items.map((json) => ({ json })),
						params: (i) => ({ ...feedback(String(items[i].token ?? ''), String(items[i].outcome ?? items[i].error ?? '')), provider: items[i].provider ?? '', message: String(items[i].reason ?? '') }),
						credentials,
						continueOnFail: true,
					}),
				async () => events(path),
			);
			await leaves(`Cleanup trigger after: ${name}`, () => cleanup(credentials.pushTokenStoreApi), async () => events(path));
		}
	});

	it('Send Push to one token and to an audience, with each provider credential refused', async () => {
		const { path, sub } = await sqliteWithDevices();
		const store = { engine: 'sqlite', path };
		const targets: Array<[string, IDataObject]> = [
			['one FCM token', { target: 'token', appId: APP, platform: 'android', token: tokens.fcm(9) }],
			['one APNs token', { target: 'token', appId: APP, platform: 'ios', token: tokens.apns(9) }],
			['one Web Push subscription', { target: 'token', appId: APP, platform: 'web', token: JSON.stringify(sub) }],
			['an audience', { target: 'audience', appId: APP, audiencePlatform: '', options: { includeAnonymous: true, maxAttempts: 1, failureLimit: 10 } }],
		];
		for (const [name, over] of targets) {
			for (const keys of [{ fcmKey: wrongFcmKey }, { apnsKey: wrongApnsKey }, { vapidPrivate: otherVapid.privateKey }, {}]) {
				const credentials = { pushTokenStoreApi: store, ...providers(keys) };
				await leaves(`Send Push to ${name} with ${Object.keys(keys).join() || 'good keys'}`, () => execute(new SendPush(), { params: send({ options: { maxAttempts: 1 }, ...over }), credentials, continueOnFail: true }), async () => events(path));
			}
		}
	});

	it('the provider credential tests, on good keys, refused keys and broken key files', async () => {
		const sa = fakes.fcm.serviceAccount;
		const broken = (pem: string) => pem.replace(/\n[A-Za-z0-9+/]{10}/, '\n!!!!!!!!!!');
		const cases: Array<[string, () => Promise<unknown>]> = [
			['FCM, good key', () => callTest(fcmCredentialTest, 'fcmServiceAccountApi', providers().fcmServiceAccountApi)],
			['FCM, refused key', () => callTest(fcmCredentialTest, 'fcmServiceAccountApi', providers({ fcmKey: wrongFcmKey }).fcmServiceAccountApi)],
			['FCM, broken key', () => callTest(fcmCredentialTest, 'fcmServiceAccountApi', { serviceAccountJson: JSON.stringify({ ...sa, private_key: broken(sa.private_key), token_uri: 'https://oauth2.googleapis.com/token' }) })],
			['FCM, key file cut short', () => callTest(fcmCredentialTest, 'fcmServiceAccountApi', { serviceAccountJson: JSON.stringify(sa).slice(0, 400) })],
			['APNs, good key', () => callTest(apnsCredentialTest, 'apnsApi', providers().apnsApi)],
			['APNs, broken key', () => callTest(apnsCredentialTest, 'apnsApi', { ...providers().apnsApi, signingKey: broken(fakes.apns.signingKey) })],
			['APNs, key in the team id field', () => callTest(apnsCredentialTest, 'apnsApi', { ...providers().apnsApi, teamId: fakes.apns.signingKey })],
			['Web Push, good keys', () => callTest(webPushCredentialTest, 'webPushVapidApi', providers().webPushVapidApi)],
			['Web Push, private key of another pair', () => callTest(webPushCredentialTest, 'webPushVapidApi', { ...providers().webPushVapidApi, privateKey: otherVapid.privateKey })],
			['Web Push, private key in the subject field', () => callTest(webPushCredentialTest, 'webPushVapidApi', { ...providers().webPushVapidApi, subject: vapid.privateKey })],
		];
		const statuses: string[] = [];
		for (const [name, run] of cases) {
			const text = await leaves(`credential test: ${name}`, run);
			statuses.push(/"status":"OK"/.test(text) ? 'OK' : 'Error');
		}
		expect(statuses).toEqual(['OK', 'Error', 'Error', 'Error', 'OK', 'Error', 'Error', 'OK', 'Error', 'Error']);
		// and a node with a secret in the wrong field fails naming the field, not echoing it
		const { path } = await sqliteWithDevices();
		await leaves('Send Push with the .p8 key pasted as the team id', () =>
			execute(new SendPush(), { params: send({}), credentials: { pushTokenStoreApi: { engine: 'sqlite', path }, ...providers(), apnsApi: { ...providers().apnsApi, teamId: fakes.apns.signingKey } }, continueOnFail: true }),
		);
	});
});

afterAll(() => {
	process.stdout.write(`secrets: ${secrets.length} secrets (${secrets.reduce((n, s) => n + s.fragments.length, 0)} recognisable fragments), ${paths.length} paths, ${checked} checks\n`);
});
