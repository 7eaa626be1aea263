/**
 * Issue 6, item 4: a corpus of malformed inputs for every node and every credential.
 *
 * Each case puts one bad item between two good ones and runs the node's execute() against a real
 * SQLite store (the FCM sends of Send Push go through firebase-admin to the fake FCM):
 *   - with Continue On Fail, the bad item becomes an error item that names the item (Item 2), the
 *     field and what was expected, and the good items around it are done;
 *   - without it, the node stops with that same error after the first good item;
 *   - either way nothing of the bad item is written: the store's tables and changelog are exactly
 *     those of the same run without the bad item.
 * Import reports bad rows in its summary (row number, field, reason) instead of failing; the
 * trigger and the credentials have no items, and fail with an error naming the field.
 */
import '../fakes/network-edge.cjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import webpush from 'web-push';
import { NodeOperationError, type ICredentialDataDecryptedObject, type ICredentialTestFunctions, type IDataObject, type INodeType, type ITriggerFunctions } from 'n8n-workflow';
import { closeAllStores, TokenStore } from '../../nodes/core';
import { HandlePushFeedback } from '../../nodes/HandlePushFeedback/HandlePushFeedback.node';
import { ImportPushTokens } from '../../nodes/ImportPushTokens/ImportPushTokens.node';
import { PushTokenCleanupTrigger } from '../../nodes/PushTokenCleanupTrigger/PushTokenCleanupTrigger.node';
import { PushTokenIdentity } from '../../nodes/PushTokenIdentity/PushTokenIdentity.node';
import { RegisterPushToken } from '../../nodes/RegisterPushToken/RegisterPushToken.node';
import { SendPush } from '../../nodes/SendPush/SendPush.node';
import { credentialTests } from '../../nodes/shared/providers';
import { pushTokenStoreConnectionTest } from '../../nodes/shared/store';
import { startFakes, type Fakes } from '../fakes/providers';
import { tokens } from '../support/stores';
import { execute, snapshot, type InputItem, type StoreSnapshot } from './support-input-context';

const { apnsCredentialTest, expoCredentialTest, fcmCredentialTest, webpushCredentialTest: webPushCredentialTest } = credentialTests;

const APP = 'com.example.app';
const MB = 'x'.repeat(1024 * 1024);
const SQL = "'; DROP TABLE devices; --";
const vapid = webpush.generateVAPIDKeys();
const sub = tokens.webpush(1);
const subJson = (over: object) => JSON.stringify({ ...sub, ...over });

let fakes: Fakes;
let dir: string;
let files = 0;

beforeAll(async () => {
	fakes = await startFakes();
	process.env.PUSH_TOKENS_FAKE_ROUTES = JSON.stringify(fakes.routes);
	dir = mkdtempSync(join(tmpdir(), 'push-tokens-bad-input-'));
});
afterAll(async () => {
	await closeAllStores();
	await fakes.close();
	rmSync(dir, { recursive: true, force: true });
});

function providerCredentials(): Record<string, IDataObject> {
	const sa = fakes.fcm.serviceAccount;
	return {
		fcmServiceAccountApi: { serviceAccountJson: JSON.stringify({ ...sa, token_uri: 'https://oauth2.googleapis.com/token' }) },
		apnsApi: { teamId: fakes.apns.teamId, keyId: fakes.apns.keyId, signingKey: fakes.apns.signingKey, bundleId: fakes.apns.bundleId, environment: 'production' },
		webPushVapidApi: { subject: 'mailto:ops@example.com', publicKey: vapid.publicKey, privateKey: vapid.privateKey, allowedPrivateHosts: '' },
	};
}

// ------------------------------------------------------------------ the nodes and their good items

type P = Record<string, unknown>;

interface Harness {
	node: string;
	type: () => INodeType;
	/** What the store holds before the run (the good items and some cases refer to it). */
	seed?: (store: TokenStore) => Promise<void>;
	/** The parameters of a good item at this index (the bad item's defaults are those of index 1). */
	good: (i: number) => P;
	goodItem?: (i: number) => InputItem;
	/** Import: bad rows are reported in the summary, not as errors. */
	reports?: 'items-summary' | 'file-summary';
}

const register = (token: unknown, platform = 'android', extra: P = {}): P => ({ appId: APP, platform, token, deviceId: '', userId: '', additionalFields: {}, ...extra });
const seedFcm = (users = false) => async (store: TokenStore) => {
	for (const n of [0, 1, 2]) await store.register({ appId: APP, platform: 'android', token: tokens.fcm(n), ...(users ? { userId: `user-${n}` } : {}) });
};
const sendBase = (i: number): P => ({
	target: 'token',
	appId: APP,
	platform: 'android',
	token: tokens.fcm(100 + i),
	userId: '',
	lastActiveOnly: false,
	title: 'Hello',
	body: 'World',
	customData: {},
	message: {},
	options: { updateStore: true },
});
const csv = (rows: string[]) => ['app_id,platform,token', ...rows].join('\n');

const HARNESSES: Record<string, Harness> = {
	register: { node: 'Register Push Token', type: () => new RegisterPushToken(), good: (i) => register(tokens.fcm(i)) },
	identify: {
		node: 'Push Token Identity',
		type: () => new PushTokenIdentity(),
		seed: seedFcm(),
		good: (i) => ({ operation: 'identify', appId: APP, token: tokens.fcm(i), deviceId: '', userId: `user-${i}` }),
	},
	clearIdentify: {
		node: 'Push Token Identity',
		type: () => new PushTokenIdentity(),
		seed: seedFcm(true),
		good: (i) => ({ operation: 'clearIdentify', appId: APP, token: tokens.fcm(i), deviceId: '', mode: 'anonymous' }),
	},
	setSubscription: {
		node: 'Push Token Identity',
		type: () => new PushTokenIdentity(),
		good: (i) => ({ operation: 'setSubscription', userId: `user-${i}`, unsubscribed: true }),
	},
	getProfile: { node: 'Push Token Identity', type: () => new PushTokenIdentity(), seed: seedFcm(true), good: (i) => ({ operation: 'getProfile', userId: `user-${i}` }) },
	importItems: {
		node: 'Import Push Tokens',
		type: () => new ImportPushTokens(),
		good: (i) => ({ mode: 'anonymous', source: 'items', appId: APP, platform: 'android', token: tokens.fcm(i), deviceId: '', userId: '', options: {} }),
		reports: 'items-summary',
	},
	importFile: {
		node: 'Import Push Tokens',
		type: () => new ImportPushTokens(),
		good: () => ({ mode: 'anonymous', source: 'file', binaryPropertyName: 'data', format: 'csv', defaultAppId: '', defaultPlatform: '', options: {} }),
		goodItem: (i) => ({ binary: { data: { text: csv([`${APP},android,${tokens.fcm(i)}`]) } } }),
		reports: 'file-summary',
	},
	feedback: {
		node: 'Handle Push Feedback',
		type: () => new HandlePushFeedback(),
		seed: seedFcm(),
		good: (i) => ({ appId: APP, token: tokens.fcm(i), provider: 'fcm', code: 'delivered', statusCode: 0, test: false, attempt: 0, retryAfter: 0, message: '', options: {} }),
	},
	sendToken: { node: 'Send Push', type: () => new SendPush(), good: sendBase },
	sendUser: {
		node: 'Send Push',
		type: () => new SendPush(),
		seed: async (store) => {
			for (const n of [0, 1, 2]) await store.register({ appId: APP, platform: 'android', token: tokens.fcm(200 + n), userId: `user-${n}` });
		},
		good: (i) => ({ ...sendBase(i), target: 'user', userId: `user-${i}`, appId: '' }),
	},
};

// ------------------------------------------------------------------ the corpus

interface Case {
	harness: keyof typeof HARNESSES;
	name: string;
	/** Overrides the bad item's parameters (on top of the good ones of index 1). */
	params?: P;
	/** Replaces the bad item's input item (its binary file). */
	item?: InputItem;
	/** The field the error names (null: the error is about the item as a whole), and a fragment of what it says. */
	field: string | null;
	expected: string | RegExp;
	/**
	 * Found only when the push goes out (an endpoint's address is checked at connect time): the
	 * items of the execution are sent together, so without Continue On Fail the good items around
	 * it were sent too when the node stops.
	 */
	foundWhenSent?: true;
}

const webToken = (token: unknown): P => ({ platform: 'web', token });
const apnsToken = (token: unknown): P => ({ platform: 'ios', token });

const TOKEN_CASES: Array<[string, P, string, string | RegExp]> = [
	// wrong types
	['token as a number', { token: 12345 }, 'token', 'expected the FCM token as a string, got a number'],
	['token null', { token: null }, 'token', 'got null'],
	['token as an object', { token: { a: 1 } }, 'token', 'got a object'],
	['token as an array', { token: ['a'] }, 'token', 'got an array'],
	['token as a boolean', { token: true }, 'token', 'got a boolean'],
	// empty and huge
	['empty token', { token: '' }, 'token', 'got an empty string'],
	['whitespace-only token', { token: '   ' }, 'token', 'got an empty string'],
	['1 MB token', { token: MB }, 'token', 'got a 1048576-character string'],
	['FCM token of 4097 characters', { token: 'a'.repeat(4097) }, 'token', 'expected an FCM registration token'],
	// FCM
	['FCM token with a space', { token: 'has space' }, 'token', 'expected an FCM registration token (visible ASCII characters, no spaces), got "has space"'],
	['FCM token with a tab', { token: 'has\ttab' }, 'token', 'no spaces'],
	['FCM token with a newline', { token: 'two\nlines' }, 'token', 'no spaces'],
	['FCM token with a no-break space', { token: 'no\u00a0break' }, 'token', 'no spaces'],
	['FCM token with an ideographic space', { token: 'トークン\u3000トークン' }, 'token', 'no spaces'],
	['SQL in an FCM token', { token: SQL }, 'token', 'no spaces'],
	// APNs
	['APNs token of 63 hex', apnsToken('a'.repeat(63)), 'token', 'expected an APNs device token of 64 hexadecimal characters'],
	['APNs token of 65 hex', apnsToken('a'.repeat(65)), 'token', '64 hexadecimal'],
	['APNs token with a non-hex letter', apnsToken('g'.repeat(64)), 'token', '64 hexadecimal'],
	['APNs token in unicode digits', apnsToken('٠'.repeat(64)), 'token', '64 hexadecimal'],
	['APNs token with spaces (Xcode log format)', apnsToken(`<${'ab'.repeat(4)} ${'cd'.repeat(4)}>`), 'token', '64 hexadecimal'],
	['APNs token as base64', apnsToken(Buffer.alloc(32, 1).toString('base64')), 'token', '64 hexadecimal'],
	['SQL as an APNs token', apnsToken(SQL), 'token', '64 hexadecimal'],
	['APNs token as a number', apnsToken(1e64), 'token', 'expected the APNS token as a string'],
	// Web Push
	['Web Push endpoint over http://', webToken(subJson({ endpoint: 'http://push.example.com/send/1' })), 'token.endpoint', 'expected an https:// endpoint URL'],
	['Web Push endpoint over ftp://', webToken(subJson({ endpoint: 'ftp://push.example.com/1' })), 'token.endpoint', 'https://'],
	['Web Push endpoint not a URL', webToken(subJson({ endpoint: 'push.example.com/1' })), 'token.endpoint', 'https://'],
	['Web Push endpoint javascript:', webToken(subJson({ endpoint: 'javascript:alert(1)' })), 'token.endpoint', 'https://'],
	['Web Push endpoint of 3000 characters', webToken(subJson({ endpoint: `https://push.example.com/${'a'.repeat(3000)}` })), 'token.endpoint', 'expected an endpoint URL of at most 1024 characters as stored, got 3025'],
	['Web Push endpoint as a number', webToken(subJson({ endpoint: 7 })), 'token.endpoint', 'expected the subscription endpoint as a string'],
	['Web Push without keys', webToken(JSON.stringify({ endpoint: sub.endpoint })), 'token.keys', 'expected keys { p256dh, auth }'],
	['Web Push without auth', webToken(subJson({ keys: { p256dh: sub.keys.p256dh } })), 'token.keys.auth', 'keys.auth'],
	['Web Push p256dh too short', webToken(subJson({ keys: { ...sub.keys, p256dh: 'AAAA' } })), 'token.keys.p256dh', 'to decode to 65 bytes'],
	['Web Push p256dh compressed (not 0x04)', webToken(subJson({ keys: { ...sub.keys, p256dh: Buffer.concat([Buffer.from([2]), Buffer.alloc(64, 1)]).toString('base64url') } })), 'token.keys.p256dh', 'a point of the P-256 curve'],
	['Web Push auth of 15 bytes', webToken(subJson({ keys: { ...sub.keys, auth: Buffer.alloc(15).toString('base64url') } })), 'token.keys.auth', 'to decode to 16 bytes'],
	['Web Push keys with non-base64url characters', webToken(subJson({ keys: { ...sub.keys, auth: '!!!!' } })), 'token.keys.auth', 'base64url'],
	// issue 10: what the store must refuse
	['FCM token with a NUL byte', { token: `fcm-token\u0000:APA91b${'x'.repeat(20)}` }, 'token', 'visible ASCII characters'],
	['FCM token with a DEL character', { token: `fcm-token\u007f:APA91b` }, 'token', 'visible ASCII characters'],
	['Web Push endpoint with credentials', webToken(subJson({ endpoint: 'https://user:pass@push.example.com/1' })), 'token.endpoint', 'without credentials'],
	['Web Push endpoint with a space inside', webToken(subJson({ endpoint: 'https://push.example.com/a b' })), 'token.endpoint', 'spaces or control characters'],
	['Web Push endpoint with a NUL byte', webToken(subJson({ endpoint: 'https://push.example.com/a\u0000b' })), 'token.endpoint', 'spaces or control characters'],
	['Web Push p256dh not a point of the curve', webToken(subJson({ keys: { ...sub.keys, p256dh: Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]).toString('base64url') } })), 'token.keys.p256dh', 'a point of the P-256 curve'],
	['Web Push p256dh with stray characters', webToken(subJson({ keys: { ...sub.keys, p256dh: `${sub.keys.p256dh.slice(0, 40)}..${sub.keys.p256dh.slice(40)}` } })), 'token.keys.p256dh', 'base64url'],
	['Web Push subscription as invalid JSON', webToken('{"endpoint": "https://push.example.com/1", '), 'token', /subscription|object/],
	['Web Push subscription as a JSON array', webToken('[]'), 'token', /subscription|object/],
	['Web Push subscription as a bare URL', webToken(sub.endpoint), 'token', /subscription|object/],
	['SQL as a Web Push subscription', webToken(SQL), 'token', /subscription|object/],
];

const REGISTER_CASES: Case[] = [
	...TOKEN_CASES.map(([name, params, field, expected]): Case => ({ harness: 'register', name, params, field, expected })),
	{ harness: 'register', name: 'unknown platform', params: { platform: 'windows' }, field: 'platform', expected: 'expected platform to be one of ios, android, web' },
	{ harness: 'register', name: 'platform in capitals', params: { platform: 'IOS' }, field: 'platform', expected: 'one of ios, android, web' },
	{ harness: 'register', name: 'empty platform', params: { platform: '' }, field: 'platform', expected: 'one of ios, android, web' },
	{ harness: 'register', name: 'platform as a number', params: { platform: 1 }, field: 'platform', expected: 'one of ios, android, web' },
	{ harness: 'register', name: 'APNs provider for android', params: { additionalFields: { provider: 'apns' } }, field: 'provider', expected: 'expected provider fcm or expo for platform android, got apns' },
	{ harness: 'register', name: 'Web Push provider for iOS', params: { platform: 'ios', token: 'a'.repeat(64), additionalFields: { provider: 'webpush' } }, field: 'provider', expected: 'apns, expo or fcm for platform ios' },
	{ harness: 'register', name: 'unknown provider', params: { additionalFields: { provider: 'gcm' } }, field: 'provider', expected: 'expected provider to be one of apns, expo, fcm, webpush' },
	{ harness: 'register', name: 'unknown APNs environment', params: { additionalFields: { environment: 'staging' } }, field: 'environment', expected: 'one of production, sandbox' },
	{ harness: 'register', name: 'foreground as text', params: { additionalFields: { foreground: 'yes' } }, field: 'foreground', expected: 'expected foreground to be true or false' },
	{ harness: 'register', name: 'pushEnabled as a number', params: { additionalFields: { pushEnabled: 1 } }, field: 'pushEnabled', expected: 'true or false' },
	{ harness: 'register', name: 'provisional as null', params: { additionalFields: { provisional: null } }, field: 'provisional', expected: 'true or false' },
	{ harness: 'register', name: 'unknown time zone', params: { additionalFields: { timeZone: 'Mars/Olympus' } }, field: 'timeZone', expected: 'expected timeZone as an IANA time zone name such as Europe/Paris, got "Mars/Olympus"' },
	{ harness: 'register', name: 'a UTC offset as time zone', params: { additionalFields: { timeZone: '+09:00' } }, field: 'timeZone', expected: 'an IANA time zone name' },
	{ harness: 'register', name: 'language not a BCP 47 tag', params: { additionalFields: { language: 'en_US' } }, field: 'language', expected: 'expected language as a BCP 47 language tag such as fr or pt-BR, got "en_US"' },
	{ harness: 'register', name: 'language of 1 MB', params: { additionalFields: { language: MB } }, field: 'language', expected: 'a BCP 47 language tag' },
	{ harness: 'register', name: 'empty app id', params: { appId: '' }, field: 'appId', expected: 'expected an app id, got an empty string' },
	{ harness: 'register', name: 'whitespace app id', params: { appId: ' \t ' }, field: 'appId', expected: 'got an empty string' },
	{ harness: 'register', name: 'app id of 1 MB', params: { appId: MB }, field: 'appId', expected: 'at most 255 characters' },
	{ harness: 'register', name: 'app id as a number', params: { appId: 42 }, field: 'appId', expected: 'expected an app id as a string' },
	{ harness: 'register', name: 'app id as an object', params: { appId: { id: 'x' } }, field: 'appId', expected: 'as a string' },
	{ harness: 'register', name: 'device id of 256 characters', params: { deviceId: 'd'.repeat(256) }, field: 'deviceId', expected: 'at most 255 characters' },
	{ harness: 'register', name: 'device id as a number', params: { deviceId: 7 }, field: 'deviceId', expected: 'expected a device id as a string' },
	{ harness: 'register', name: 'user id of 1 MB', params: { userId: MB }, field: 'userId', expected: 'at most 255 characters' },
	{ harness: 'register', name: 'user id as an array', params: { userId: ['kim'] }, field: 'userId', expected: 'expected a user id as a string' },
	{ harness: 'register', name: 'whitespace user id', params: { userId: '   ' }, field: 'userId', expected: 'got an empty string' },
	// issue 10: NUL and other control characters (PostgreSQL refuses NUL in text), lone surrogates (they would merge users)
	{ harness: 'register', name: 'app id with a NUL byte', params: { appId: `${APP}\u0000` }, field: 'appId', expected: 'expected an app id without control characters (such as NUL)' },
	{ harness: 'register', name: 'user id with a NUL byte', params: { userId: 'kim\u0000' }, field: 'userId', expected: 'expected a user id without control characters (such as NUL)' },
	{ harness: 'register', name: 'user id with an escape character', params: { userId: 'kim\u001b[31m' }, field: 'userId', expected: 'without control characters' },
	{ harness: 'register', name: 'device id with a NUL byte', params: { deviceId: 'dev\u0000ice' }, field: 'deviceId', expected: 'expected a device id without control characters' },
	{ harness: 'register', name: 'device id with a C1 control character', params: { deviceId: 'dev\u0085ice' }, field: 'deviceId', expected: 'without control characters' },
	{ harness: 'register', name: 'user id with a lone high surrogate', params: { userId: 'u\ud800' }, field: 'userId', expected: 'expected a user id of well-formed Unicode, got a lone surrogate' },
	{ harness: 'register', name: 'user id with another lone high surrogate', params: { userId: 'u\udbff' }, field: 'userId', expected: 'lone surrogate' },
	{ harness: 'register', name: 'user id with a lone low surrogate', params: { userId: '\udc00u' }, field: 'userId', expected: 'lone surrogate' },
];

const IDENTITY_CASES: Case[] = [
	{ harness: 'identify', name: 'identify: empty user id', params: { userId: '   ' }, field: 'userId', expected: 'expected a user id' },
	{ harness: 'identify', name: 'identify: user id of 1 MB', params: { userId: MB }, field: 'userId', expected: 'at most 255 characters' },
	{ harness: 'identify', name: 'identify: user id as a number', params: { userId: 5 }, field: 'userId', expected: 'as a string' },
	{ harness: 'identify', name: 'identify: empty app id', params: { appId: '' }, field: 'appId', expected: 'expected an app id' },
	{ harness: 'identify', name: 'identify: no token and no device id', params: { token: '', deviceId: '' }, field: 'token', expected: 'expected a token or a deviceId to find the device' },
	{ harness: 'identify', name: 'identify: token as a number', params: { token: 99 }, field: 'token', expected: 'expected a token string or a subscription with an endpoint, got a number' },
	{ harness: 'identify', name: 'identify: subscription without endpoint', params: { token: '{"keys":{}}' }, field: 'token', expected: 'subscription with an endpoint' },
	{ harness: 'identify', name: 'identify: unknown token', params: { token: tokens.fcm(999) }, field: null, expected: 'register the token first' },
	{ harness: 'identify', name: 'identify: SQL as the token', params: { token: SQL }, field: null, expected: 'register the token first' },
	{ harness: 'identify', name: 'identify: unknown device id', params: { token: '', deviceId: 'unknown-device' }, field: null, expected: 'register the token first' },
	{ harness: 'identify', name: 'identify: token of another app', params: { appId: 'com.other.app' }, field: null, expected: 'register the token first' },
	{ harness: 'clearIdentify', name: 'clear identify: unknown mode', params: { mode: 'delete' }, field: 'mode', expected: 'expected mode to be one of anonymous, remove' },
	{ harness: 'clearIdentify', name: 'clear identify: unknown token', params: { token: tokens.fcm(998) }, field: null, expected: 'clear identify' },
	{ harness: 'clearIdentify', name: 'clear identify: app id of 1 MB', params: { appId: MB }, field: 'appId', expected: 'at most 255 characters' },
	{ harness: 'setSubscription', name: 'set subscription: unsubscribed as text', params: { unsubscribed: 'yes' }, field: 'unsubscribed', expected: 'expected unsubscribed to be true or false' },
	{ harness: 'identify', name: 'identify: user id with a NUL byte', params: { userId: 'user\u0000' }, field: 'userId', expected: 'without control characters (such as NUL)' },
	{ harness: 'identify', name: 'identify: token with a NUL byte', params: { token: `${tokens.fcm(1)}\u0000` }, field: 'token', expected: 'expected a token without control characters (such as NUL)' },
	{ harness: 'identify', name: 'identify: device id with a NUL byte', params: { token: '', deviceId: 'd\u0000' }, field: 'deviceId', expected: 'without control characters' },
	{ harness: 'setSubscription', name: 'set subscription: user id with a NUL byte', params: { userId: 'user\u0000' }, field: 'userId', expected: 'without control characters (such as NUL)' },
	{ harness: 'setSubscription', name: 'set subscription: user id with a lone surrogate', params: { userId: 'user\ud800' }, field: 'userId', expected: 'lone surrogate' },
	{ harness: 'getProfile', name: 'get profile: user id with a NUL byte', params: { userId: 'user\u0000' }, field: 'userId', expected: 'without control characters' },
	{ harness: 'setSubscription', name: 'set subscription: empty user id', params: { userId: '' }, field: 'userId', expected: 'expected a user id' },
	{ harness: 'setSubscription', name: 'set subscription: user id of 1 MB', params: { userId: MB }, field: 'userId', expected: 'at most 255 characters' },
	{ harness: 'getProfile', name: 'get profile: empty user id', params: { userId: '' }, field: 'userId', expected: 'expected a user id, got an empty string' },
	{ harness: 'getProfile', name: 'get profile: user id as an object', params: { userId: { id: 1 } }, field: 'userId', expected: 'as a string' },
];

const IMPORT_CASES: Case[] = [
	...TOKEN_CASES.filter(([name]) => !/1 MB|null|object|array|boolean/.test(name) || name === '1 MB token').map(
		([name, params, field, expected]): Case => ({ harness: 'importItems', name: `import row: ${name}`, params, field, expected }),
	),
	{ harness: 'importItems', name: 'import row: unknown platform', params: { platform: 'symbian' }, field: 'platform', expected: 'one of ios, android, web' },
	{ harness: 'importItems', name: 'import row: empty app id', params: { appId: '' }, field: 'appId', expected: 'expected an app id' },
	{ harness: 'importItems', name: 'import row: device id of 1 MB', params: { deviceId: MB }, field: 'deviceId', expected: 'at most 255 characters' },
	{ harness: 'importItems', name: 'import row: app id with a NUL byte', params: { appId: `${APP}\u0000` }, field: 'appId', expected: 'without control characters (such as NUL)' },
	{ harness: 'importItems', name: 'import row: device id with a NUL byte', params: { deviceId: 'd\u0000' }, field: 'deviceId', expected: 'without control characters' },
	// files: the bad item's file holds only bad rows (row numbers are within that file)
	...(
		[
			['CSV row with too few fields', csv([`${APP},android`]), '', 'line 2: expected 3 fields as in the header, got 2'],
			['CSV row with too many fields', csv([`${APP},android,${tokens.fcm(7)},extra`]), '', 'expected 3 fields as in the header, got 4'],
			['CSV with an unclosed quote', csv([`${APP},android,"${tokens.fcm(7)}`]), '', 'a quoted field is not closed before the end of the file'],
			['CSV row with an APNs token of 10 hex', csv([`${APP},ios,abcdef0123`]), 'token', '64 hexadecimal'],
			['CSV row with an unknown platform', csv([`${APP},blackberry,${tokens.fcm(7)}`]), 'platform', 'one of ios, android, web'],
			['CSV row without an app id (and no default)', csv([`,android,${tokens.fcm(7)}`]), 'appId', /app id/],
			['CSV row with SQL as the token', csv([`${APP},android,"${SQL}"`]), 'token', 'no spaces'],
			['CSV row with a user id in push_token_import', `app_id,platform,token,user_id\n${APP},android,${tokens.fcm(7)},kim`, 'userId', 'expected no user id in a push_token_import'],
			['CSV row with an http:// subscription', `app_id,platform,token\n${APP},web,"${subJson({ endpoint: 'http://push.example.com/1' }).replace(/"/g, '""')}"`, 'token.endpoint', 'https://'],
			['CSV row with a NUL byte in the token', csv([`${APP},android,fcm\u0000token:APA91b`]), 'token', 'visible ASCII characters'],
			['CSV row of 100,000 characters', csv([`${APP},android,${'t'.repeat(100_000)}`]), '', 'line 2: the row is longer than 65,536 characters'],
			['CSV of binary garbage', `app_id,platform,token\n\u0000\u0001\u0002,\u00ff,\u0007`, 'platform', 'one of ios, android, web'],
		] as Array<[string, string, string, string | RegExp]>
	).map(([name, text, field, expected]): Case => ({ harness: 'importFile', name: `import file: ${name}`, item: { binary: { data: { text } } }, field, expected })),
	...(
		[
			['JSON that is not JSON', '{"app_id": "x", '],
			['JSON array with a broken element', '[{"appId": "a", }]'],
			['JSON Lines with a broken line', '{"token": \n'],
			['JSON array not closed', '[{"appId": "com.example.app"'],
		] as Array<[string, string]>
	).map(([name, text]): Case => ({ harness: 'importFile', name: `import file: ${name}`, params: { format: 'json' }, item: { binary: { data: { text, mimeType: 'application/json' } } }, field: '', expected: 'invalid JSON' })),
	{ harness: 'importFile', name: 'import file: JSON element that is a number', params: { format: 'json' }, item: { binary: { data: { text: '[42]' } } }, field: '', expected: /expected|object/i },
	{ harness: 'importFile', name: 'import file: JSON row with a numeric token', params: { format: 'json' }, item: { binary: { data: { text: `[{"app_id":"${APP}","platform":"android","token":12}]` } } }, field: 'token', expected: 'got a number' },
	{ harness: 'importFile', name: 'import file: item without a file', item: { json: { note: 'no binary' } }, field: "'data'", expected: "expects the node's input data to contain a binary file" },
	{ harness: 'importFile', name: 'import file: wrong binary field', params: { binaryPropertyName: 'tokens' }, field: "'tokens'", expected: 'has no binary field' },
	{ harness: 'importFile', name: 'import file: unknown format', params: { format: 'xml' }, field: 'format', expected: 'unknown file format "xml"' },
];

const FEEDBACK_CASES: Case[] = [
	{ harness: 'feedback', name: 'feedback: empty token', params: { token: '' }, field: 'token', expected: 'expected a token, got an empty string' },
	{ harness: 'feedback', name: 'feedback: token of 1 MB', params: { token: MB }, field: 'token', expected: 'expected a token of at most 1024 bytes as stored' },
	{ harness: 'feedback', name: 'feedback: token as an object', params: { token: { endpoint: 'x' } }, field: 'token', expected: 'expected a token as a string' },
	{ harness: 'feedback', name: 'feedback: token with a NUL byte', params: { token: `${tokens.fcm(1)}\u0000` }, field: 'token', expected: 'without control characters (such as NUL)' },
	{ harness: 'feedback', name: 'feedback: empty app id', params: { appId: '' }, field: 'appId', expected: 'expected an app id' },
	{ harness: 'feedback', name: 'feedback: app id as a number', params: { appId: 3 }, field: 'appId', expected: 'as a string' },
	{ harness: 'feedback', name: 'feedback: test flag as text', params: { test: 'yes' }, field: 'test', expected: /expected boolean|true or false/ },
	{ harness: 'feedback', name: 'feedback: FCM THIRD_PARTY_AUTH_ERROR', params: { code: 'THIRD_PARTY_AUTH_ERROR' }, field: null, expected: 'because of the configuration (THIRD_PARTY_AUTH_ERROR); no token was changed' },
	{ harness: 'feedback', name: 'feedback: APNs DeviceTokenNotForTopic', params: { provider: 'apns', code: 'DeviceTokenNotForTopic' }, field: null, expected: '(DeviceTokenNotForTopic)' },
	{ harness: 'feedback', name: 'feedback: Web Push HTTP 401', params: { provider: 'webpush', code: '', statusCode: 401 }, field: null, expected: '(HTTP 401)' },
	{ harness: 'feedback', name: 'feedback: FCM INVALID_ARGUMENT about the message', params: { code: 'INVALID_ARGUMENT', message: 'Invalid JSON payload received.' }, field: null, expected: 'the message was refused' },
	{ harness: 'feedback', name: 'feedback: SQL as the reason code of a config error', params: { code: 'PERMISSION_DENIED', message: SQL }, field: null, expected: '(PERMISSION_DENIED)' },
];

const SEND_CASES: Case[] = [
	...TOKEN_CASES.map(([name, params, field, expected]): Case => ({ harness: 'sendToken', name: `send to a token: ${name}`, params, field, expected })),
	{ harness: 'sendToken', name: 'send: Web Push endpoint on a loopback address', foundWhenSent: true, params: webToken(subJson({ endpoint: 'https://127.0.0.1:8443/push/1' })), field: null, expected: 'endpoint host 127.0.0.1 is a special-purpose address (loopback)' },
	{ harness: 'sendToken', name: 'send: Web Push endpoint on the IPv6 loopback', foundWhenSent: true, params: webToken(subJson({ endpoint: 'https://[::1]/push/1' })), field: null, expected: 'endpoint host [::1] is a special-purpose address (loopback)' },
	{ harness: 'sendToken', name: 'send: Web Push endpoint on a private network', foundWhenSent: true, params: webToken(subJson({ endpoint: 'https://10.1.2.3/push/1' })), field: null, expected: 'endpoint host 10.1.2.3 is a special-purpose address (private-use)' },
	{ harness: 'sendToken', name: 'send: Web Push endpoint on the cloud metadata address', foundWhenSent: true, params: webToken(subJson({ endpoint: 'https://169.254.169.254/latest' })), field: null, expected: 'endpoint host 169.254.169.254 is a special-purpose address (link-local)' },
	{ harness: 'sendToken', name: 'send: Web Push endpoint on an IPv4-mapped loopback', foundWhenSent: true, params: webToken(subJson({ endpoint: 'https://[::ffff:127.0.0.1]/push/1' })), field: null, expected: 'is a special-purpose address (IPv4-mapped 127.0.0.1: loopback)' },
	{ harness: 'sendToken', name: 'send: Web Push endpoint on localhost', foundWhenSent: true, params: webToken(subJson({ endpoint: 'https://localhost/push/1' })), field: null, expected: /endpoint host localhost resolves to (127\.0\.0\.1|::1), a special-purpose address \(loopback\)/ },
	{ harness: 'sendToken', name: 'send: Custom Data nested 10,000 deep', params: { message: { dataJson: `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}` } }, field: 'data', expected: 'expected data nested at most 32 levels deep' },
	{ harness: 'sendToken', name: 'send: Send ID with a NUL byte', params: { options: { updateStore: true, sendId: 'campaign\u0000' } }, field: 'sendId', expected: 'expected a send id without control characters (such as NUL)' },
	{ harness: 'sendToken', name: 'send: unknown platform', params: { platform: 'tizen' }, field: 'platform', expected: 'one of ios, android, web' },
	{ harness: 'sendToken', name: 'send: empty app id', params: { appId: '' }, field: 'appId', expected: 'expected an app id' },
	{ harness: 'sendToken', name: 'send: title of 1 MB', params: { title: MB }, field: 'title', expected: 'expected a title of at most 1000 characters' },
	{ harness: 'sendToken', name: 'send: body of 1 MB', params: { body: MB }, field: 'body', expected: 'expected a body of at most 4000 characters' },
	{ harness: 'sendToken', name: 'send: title as a number', params: { title: 12 }, field: 'title', expected: 'expected a title as text' },
	{ harness: 'sendToken', name: 'send: FCM payload over 4096 bytes', params: { customData: { pairs: [{ key: 'blob', value: 'y'.repeat(4100) }] } }, field: null, expected: /the fcm payload is \d+ bytes, over its 4096-byte limit/ },
	{ harness: 'sendToken', name: 'send: FCM payload over the limit in multi-byte characters', params: { body: '€'.repeat(1500) }, field: null, expected: /fcm payload is \d+ bytes, over its 4096-byte limit/ },
	{ harness: 'sendToken', name: 'send: Web Push payload over 3993 bytes', params: { ...webToken(subJson({})), body: 'z'.repeat(3990) }, field: null, expected: /webpush payload is \d+ bytes, over its 3993-byte limit/ },
	{ harness: 'sendToken', name: 'send: APNs payload over 4096 bytes', params: { ...apnsToken('a'.repeat(64)), message: { dataJson: JSON.stringify({ blob: 'q'.repeat(4100) }) } }, field: null, expected: /apns payload is \d+ bytes, over its 4096-byte limit/ },
	{ harness: 'sendToken', name: 'send: custom data that is not JSON', params: { message: { dataJson: '{"order": ' } }, field: 'Custom Data (JSON)', expected: 'is not valid JSON' },
	{ harness: 'sendToken', name: 'send: custom data that is a JSON array', params: { message: { dataJson: '[1, 2]' } }, field: 'Custom Data (JSON)', expected: 'expected a JSON object' },
	{ harness: 'sendToken', name: 'send: custom data that is a JSON string', params: { message: { dataJson: '"order"' } }, field: 'Custom Data (JSON)', expected: 'expected a JSON object' },
	{ harness: 'sendToken', name: 'send: custom data that is JSON null', params: { message: { dataJson: 'null' } }, field: 'Custom Data (JSON)', expected: 'expected a JSON object' },
	{ harness: 'sendToken', name: 'send: negative badge', params: { message: { badge: -1 } }, field: 'badge', expected: 'expected badge to be 0 or more' },
	{ harness: 'sendToken', name: 'send: badge as text', params: { message: { badge: 'many' } }, field: 'badge', expected: /number/ },
	{ harness: 'sendToken', name: 'send: image URL that is not a URL', params: { message: { imageUrl: 'not a url' } }, field: 'imageUrl', expected: 'expected imageUrl to be a URL' },
	{ harness: 'sendToken', name: 'send: APNs collapse id of 65 characters', params: { options: { collapseId: 'c'.repeat(65) } }, field: 'apns.collapseId', expected: 'at most 64 bytes' },
	{ harness: 'sendToken', name: 'send: Web Push topic with spaces', params: { options: { topic: 'order shipped!' } }, field: 'webpush.topic', expected: '1 to 32 URL-safe characters' },
	{ harness: 'sendToken', name: 'send: FCM TTL over 28 days', params: { options: { ttlSeconds: 3_000_000 } }, field: 'fcm.ttlSeconds', expected: 'at most 28 days' },
	{ harness: 'sendToken', name: 'send: unknown interruption level', params: { options: { interruptionLevel: 'urgent' } }, field: 'apns.interruptionLevel', expected: /expected one of|Invalid option/ },
	{ harness: 'sendUser', name: 'send to a user: unknown user', params: { userId: 'nobody' }, field: null, expected: 'no profile with user id "nobody"' },
	{ harness: 'sendUser', name: 'send to a user: SQL as the user id', params: { userId: SQL }, field: null, expected: `no profile with user id "${SQL}"` },
	{ harness: 'sendUser', name: 'send to a user: empty user id', params: { userId: '' }, field: null, expected: 'expected a user id' },
	{ harness: 'sendUser', name: 'send to a user: user id as an object', params: { userId: { id: 1 } }, field: null, expected: /user id/ },
];

const CASES: Case[] = [...REGISTER_CASES, ...IDENTITY_CASES, ...IMPORT_CASES, ...FEEDBACK_CASES, ...SEND_CASES];

// ------------------------------------------------------------------ running a case

async function freshStore(harness: Harness): Promise<{ path: string; credentials: Record<string, IDataObject> }> {
	const path = join(dir, `store-${files++}.sqlite`);
	const store = await TokenStore.open({ engine: 'sqlite', path });
	await harness.seed?.(store);
	await store.close();
	return { path, credentials: { pushTokenStoreApi: { engine: 'sqlite', path }, ...providerCredentials() } };
}

/** Runs the harness over these item indexes (1 is the bad one when `bad` is given). */
async function run(harness: Harness, indexes: number[], bad: Case | null, continueOnFail: boolean) {
	const { path, credentials } = await freshStore(harness);
	const params = (k: number) => (indexes[k] === 1 && bad ? { ...harness.good(1), ...bad.params } : harness.good(indexes[k]));
	const items = indexes.map((i) => (i === 1 && bad?.item ? bad.item : (harness.goodItem?.(i) ?? { json: { n: i } })));
	let outputs: Awaited<ReturnType<typeof execute>> | undefined;
	let error: unknown;
	try {
		outputs = await execute(harness.type(), { items, params, credentials, continueOnFail });
	} catch (e) {
		error = e;
	}
	await closeAllStores();
	return { outputs, error, store: snapshot(path) };
}

const controls = new Map<string, { both: StoreSnapshot; first: StoreSnapshot }>();
async function control(name: string, harness: Harness) {
	let found = controls.get(name);
	if (!found) {
		const both = await run(harness, [0, 2], null, false);
		const first = await run(harness, [0], null, false);
		expect(both.error ?? first.error).toBeUndefined();
		found = { both: both.store, first: first.store };
		controls.set(name, found);
	}
	return found;
}

function checkMessage(c: Case, message: string, index = 1) {
	// Names the item (n8n's own binary errors say "[item 1]", 0-based), the field and what was expected; never echoes a huge input.
	if (/binary/.test(message)) expect(message).toContain(`[item ${index}]`);
	else expect(message).toMatch(new RegExp(`^Item ${index + 1}: `));
	if (c.field) expect(message).toContain(c.field);
	if (typeof c.expected === 'string') expect(message).toContain(c.expected);
	else expect(message).toMatch(c.expected);
	expect(message.length).toBeLessThan(1500);
}

let tried = 0;

describe('bad input: every node, one bad item between two good ones', () => {
	it.each(CASES.map((c) => [`${HARNESSES[c.harness].node} · ${c.name}`, c] as const))('%s', async (_, c) => {
		const harness = HARNESSES[c.harness];
		const expected = await control(c.harness, harness);
		tried++;

		const kept = await run(harness, [0, 1, 2], c, true);
		expect(kept.error).toBeUndefined();
		const out = kept.outputs!.flat();
		// nothing of the bad item was written: the store is the one of the run without it
		expect(kept.store).toEqual(expected.both);

		if (harness.reports === 'items-summary') {
			// one import for all items: the bad row is counted and described, the others imported
			expect(out).toHaveLength(1);
			expect(out[0].json).toMatchObject({ rows: 3, imported: 2, invalid: 1 });
			const [row] = out[0].json.invalidRows as Array<{ row: number; issues: Array<{ field: string; message: string }> }>;
			expect(row.row).toBe(2);
			checkMessage(c, `Item 2: ${row.issues.map((i) => `field "${i.field}": ${i.message}`).join('; ')}`);
			return;
		}
		const bad = out.filter((o) => JSON.stringify(o.pairedItem) === JSON.stringify({ item: 1 }));
		const good = out.filter((o) => JSON.stringify(o.pairedItem) !== JSON.stringify({ item: 1 }));
		expect(bad).toHaveLength(1);
		expect(good.length).toBeGreaterThanOrEqual(2);
		expect(good.every((o) => o.json.error === undefined)).toBe(true);
		if (harness.reports === 'file-summary' && bad[0].json.error === undefined) {
			const rows = bad[0].json.invalidRows as Array<{ row: number; issues: Array<{ field: string; message: string }> }>;
			expect(bad[0].json).toMatchObject({ imported: 0, invalid: bad[0].json.rows });
			expect(rows[0].row).toBe(1);
			checkMessage(c, `Item 2: ${rows[0].issues.map((i) => `field "${i.field}": ${i.message}`).join('; ')}`);
			return;
		}
		checkMessage(c, String(bad[0].json.error));

		// without Continue On Fail the node stops at the bad item, with the same error, after the first good one
		const stopped = await run(harness, [0, 1, 2], c, false);
		expect(stopped.error).toBeInstanceOf(NodeOperationError);
		expect((stopped.error as Error).message).toBe(bad[0].json.error);
		expect(stopped.store).toEqual(c.foundWhenSent ? expected.both : expected.first);
	});
});

describe('bad input stored literally, never executed', () => {
	const literal: Array<[string, P]> = [
		['user id', { userId: SQL }],
		['device id', { deviceId: `dev${SQL}` }],
		['app id', { appId: `com.example${SQL}`.slice(0, 255) }],
		['FCM token without spaces', { token: "';DROP/**/TABLE/**/devices;--" }],
		// (invisible and bidirectional-control characters are refused in ids: keys.test.ts)
		['unicode user id (emoji, right-to-left script, combining marks)', { userId: 'кім 👩 مرحبا abc\u0301' }],
		['user id with quotes and backticks', { userId: 'a b"c\'d`e' }],
	];
	it.each(literal)('%s', async (_, over) => {
		const { path, credentials } = await freshStore(HARNESSES.register);
		const params = { ...register(tokens.fcm(5)), ...over } as { appId: string; token: string; deviceId: string; userId: string };
		const [out] = await execute(new RegisterPushToken(), { params, credentials });
		tried++;
		await closeAllStores();
		expect(out[0].json.action).toBe('registered');
		const store = await TokenStore.open({ engine: 'sqlite', path });
		try {
			const device = await store.getDevice(params.appId, params.token);
			expect(device).toMatchObject({ appId: params.appId, token: params.token, deviceId: params.deviceId || null });
			if (params.userId) expect((await store.getProfile({ userId: params.userId }))?.push_tokens).toEqual([expect.objectContaining({ token: params.token })]);
		} finally {
			await store.close();
		}
		const after = snapshot(path);
		expect(after.counts).toMatchObject({ devices: 1, profiles: 1, token_events: 1 });
	});
});

describe('bad input to the clean-up trigger', () => {
	const cases: Array<[string, P, string, string | RegExp]> = [
		['cron expression in words', { cronExpression: 'monthly' }, 'Cron Expression', 'expected 5 fields (or 6 with seconds first)'],
		['empty cron expression', { cronExpression: '' }, 'Cron Expression', 'expected 5 fields'],
		['cron expression of three fields', { cronExpression: '* * *' }, 'Cron Expression', 'expected 5 fields'],
		['cron expression of 1 MB', { cronExpression: MB }, 'Cron Expression', 'expected 5 fields'],
		['SQL as the cron expression', { cronExpression: SQL }, 'Cron Expression', 'expected 5 fields'],
		['negative report limit', { reportLimit: -1 }, 'reportLimit', /0|small/],
		['stale after a fraction of a day', { pruneStale: true, staleAfterDays: 1.5 }, 'staleAfterDays', /integer|int/],
		['stale after as text', { pruneStale: true, staleAfterDays: 'ninety' }, 'staleAfterDays', /number/],
	];
	it.each(cases)('%s', async (_, over, field, expected) => {
		const { path } = await freshStore(HARNESSES.register);
		const store = await TokenStore.open({ engine: 'sqlite', path });
		await store.importTokens([{ appId: APP, platform: 'android', token: tokens.fcm(1) }]);
		await store.close();
		const before = snapshot(path);
		const params: P = { cronExpression: '0 3 1 * *', pruneStale: false, staleAfterDays: 270, reportLimit: 10, emitDeletedProfiles: false, ...over };
		const emitted: unknown[] = [];
		const context = {
			getNode: () => ({ name: 'Cleanup' }),
			getNodeParameter: (name: string, fallback?: unknown) => params[name] ?? fallback,
			getCredentials: async () => ({ engine: 'sqlite', path }),
			emit: (data: unknown) => emitted.push(data),
			emitError: (error: Error) => emitted.push(error),
			helpers: { registerCron: () => undefined },
		} as unknown as ITriggerFunctions;
		const error = await (async () => {
			const response = await new PushTokenCleanupTrigger().trigger!.call(context);
			await response!.manualTriggerFunction!();
		})().catch((e: unknown) => e);
		tried++;
		await closeAllStores();
		expect(error).toBeInstanceOf(Error);
		const message = (error as Error).message;
		expect(message).toContain(field);
		if (typeof expected === 'string') expect(message).toContain(expected);
		else expect(message).toMatch(expected);
		expect(message.length).toBeLessThan(1500);
		expect(emitted).toHaveLength(0);
		expect(snapshot(path)).toEqual(before);
	});
});

// ------------------------------------------------------------------ credentials

const rsaPem = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const testFns = {} as ICredentialTestFunctions;
const credential = (type: string, data: ICredentialDataDecryptedObject) => ({ id: 'c1', name: 'bad', type, data });

describe('bad credentials: the credential test and the node both name the field', () => {
	const fcm = () => fakes.fcm.serviceAccount;
	const apns = () => ({ teamId: fakes.apns.teamId, keyId: fakes.apns.keyId, signingKey: fakes.apns.signingKey, bundleId: fakes.apns.bundleId, environment: 'production' });
	const vapidData = { subject: 'mailto:ops@example.com', publicKey: vapid.publicKey, privateKey: vapid.privateKey };
	const cases: Array<[string, 'fcmServiceAccountApi' | 'apnsApi' | 'webPushVapidApi' | 'expoApi', () => ICredentialDataDecryptedObject, string | RegExp]> = [
		['Expo: access token with a line break', 'expoApi', () => ({ accessToken: 'abc\ndef' }), /accessToken: expected an Expo access token: up to 1000 characters, no spaces or line breaks/],
		['Expo: access token of 1 MB', 'expoApi', () => ({ accessToken: MB }), /accessToken: expected an Expo access token/],
		['FCM: not JSON', 'fcmServiceAccountApi', () => ({ serviceAccountJson: '{"project_id": ' }), 'Service Account JSON: expected the JSON key file of the service account'],
		['FCM: empty', 'fcmServiceAccountApi', () => ({ serviceAccountJson: '' }), 'Service Account JSON'],
		['FCM: 1 MB of text', 'fcmServiceAccountApi', () => ({ serviceAccountJson: MB }), 'Service Account JSON'],
		['FCM: a JSON array', 'fcmServiceAccountApi', () => ({ serviceAccountJson: '[]' }), /projectId: expected the project_id of the service account/],
		['FCM: no private key', 'fcmServiceAccountApi', () => ({ serviceAccountJson: JSON.stringify({ ...fcm(), private_key: undefined }) }), /private_key/],
		['FCM: private key not PEM', 'fcmServiceAccountApi', () => ({ serviceAccountJson: JSON.stringify({ ...fcm(), private_key: 'abc' }) }), /private_key/],
		['FCM: no client email', 'fcmServiceAccountApi', () => ({ serviceAccountJson: JSON.stringify({ ...fcm(), client_email: '' }) }), /client_email/],
		['FCM: http:// token URI', 'fcmServiceAccountApi', () => ({ serviceAccountJson: JSON.stringify({ ...fcm(), token_uri: 'http://oauth2.googleapis.com/token' }) }), /token_uri/],
		['FCM: project id as a number', 'fcmServiceAccountApi', () => ({ serviceAccountJson: JSON.stringify({ ...fcm(), project_id: 7 }) }), /project_id/],
		['APNs: team id of 3 characters', 'apnsApi', () => ({ ...apns(), teamId: 'ABC' }), /team ID/],
		['APNs: key id in lower case', 'apnsApi', () => ({ ...apns(), keyId: 'key1234567' }), /key ID/],
		['APNs: signing key not PEM', 'apnsApi', () => ({ ...apns(), signingKey: 'MIGTAgEAMBMGByqGSM49' }), /\.p8 key/],
		['APNs: signing key that is RSA', 'apnsApi', () => ({ ...apns(), signingKey: rsaPem }), /EC P-256/],
		['APNs: signing key with a broken body', 'apnsApi', () => ({ ...apns(), signingKey: '-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----' }), /Signing Key: expected the EC P-256 private key/],
		['APNs: second key id without its signing key', 'apnsApi', () => ({ ...apns(), keyEnvironment: 'production', secondKeyId: 'KEY7654321' }), /secondSigningKey: expected both the second key ID and its signing key/],
		['APNs: second key id in lower case', 'apnsApi', () => ({ ...apns(), keyEnvironment: 'sandbox', secondKeyId: 'key7654321', secondSigningKey: fakes.apns.signingKey }), /secondKeyId: expected a 10-character key ID/],
		['APNs: second signing key that is RSA', 'apnsApi', () => ({ ...apns(), keyEnvironment: 'sandbox', secondKeyId: 'KEY7654321', secondSigningKey: rsaPem }), /Second Signing Key: expected the EC P-256/],
		['APNs: empty bundle id', 'apnsApi', () => ({ ...apns(), bundleId: '' }), /bundle ID/],
		['APNs: SQL as the bundle id and 1 MB team id', 'apnsApi', () => ({ ...apns(), bundleId: SQL, teamId: MB }), /team ID/],
		['Web Push: subject without mailto:', 'webPushVapidApi', () => ({ ...vapidData, subject: 'ops@example.com' }), /subject as a mailto: or https:\/\/ URL/],
		['Web Push: private key not base64url', 'webPushVapidApi', () => ({ ...vapidData, privateKey: '!!!' }), /privateKey: expected the VAPID private key/],
		['Web Push: private key of another pair', 'webPushVapidApi', () => ({ ...vapidData, privateKey: webpush.generateVAPIDKeys().privateKey }), /publicKey: does not match the private key/],
		['Web Push: private key with two stray characters', 'webPushVapidApi', () => ({ ...vapidData, privateKey: `${vapid.privateKey.slice(0, 20)}..${vapid.privateKey.slice(20)}` }), /privateKey: expected the VAPID private key: base64url of 32 bytes/],
		['Web Push: private key with two extra characters', 'webPushVapidApi', () => ({ ...vapidData, privateKey: `${vapid.privateKey}AA` }), /privateKey: expected the VAPID private key: base64url of 32 bytes/],
		['Web Push: public key not a point of the curve', 'webPushVapidApi', () => ({ ...vapidData, publicKey: Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]).toString('base64url') }), /publicKey: expected the VAPID public key/],
		['FCM: private key with a broken body', 'fcmServiceAccountApi', () => ({ serviceAccountJson: JSON.stringify({ ...fcm(), private_key: '-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----' }) }), /private_key of the service account: an RSA private key in PEM/],
		['Web Push: empty public key', 'webPushVapidApi', () => ({ ...vapidData, publicKey: '' }), /public key/],
		['Web Push: empty private key', 'webPushVapidApi', () => ({ ...vapidData, privateKey: '' }), /private key/i],
	];
	const TEST = { fcmServiceAccountApi: fcmCredentialTest, apnsApi: apnsCredentialTest, webPushVapidApi: webPushCredentialTest, expoApi: expoCredentialTest };

	it.each(cases)('%s', async (_, type, data, expected) => {
		tried++;
		const result = await TEST[type].call(testFns, credential(type, data()));
		expect(result.status).toBe('Error');
		if (typeof expected === 'string') expect(result.message).toContain(expected);
		else expect(result.message).toMatch(expected);
		expect(result.message.length).toBeLessThan(1500);

		// the node fails before sending anything, with an error naming the credential; nothing is written
		const { path, credentials } = await freshStore(HARNESSES.sendToken);
		const sent = fakes.fcm.received.length + fakes.apns.received.length + fakes.webpush.received.length;
		const token = { apnsApi: apnsToken(tokens.apns(1)), webPushVapidApi: webToken(subJson({})), expoApi: { platform: 'ios', token: 'ExponentPushToken[bad-input-1]' } } as Record<string, P>;
		const params = (i: number) => ({ ...sendBase(i), ...(type === 'apnsApi' ? apnsToken(tokens.apns(i)) : (token[type] ?? {})) });
		const error = await execute(new SendPush(), { items: [{}, {}], params, credentials: { ...credentials, [type]: data() }, continueOnFail: true }).catch((e: unknown) => e);
		await closeAllStores();
		expect(error).toBeInstanceOf(NodeOperationError);
		const message = (error as Error).message;
		expect(message).toMatch(/^(FCM|APNs|Web Push|Expo) credential: /);
		if (typeof expected === 'string') expect(message).toContain(expected);
		else expect(message).toMatch(expected);
		expect(message.length).toBeLessThan(1500);
		expect(fakes.fcm.received.length + fakes.apns.received.length + fakes.webpush.received.length).toBe(sent);
		expect(snapshot(path).counts).toMatchObject({ devices: 0, token_events: 0 });
	});

	it.each([
		['mailto:ops@localhost', 'localhost'],
		['https://push.office.local/contact', 'push.office.local'],
		['mailto:ops@Example.INVALID', 'example.invalid'],
	])('Web Push: the credential test refuses a subject Apple answers 403 BadJwtToken (%s); other push services still get pushes', async (subject, host) => {
		tried++;
		const result = await webPushCredentialTest.call(testFns, credential('webPushVapidApi', { ...vapidData, subject }));
		expect(result).toEqual({ status: 'Error', message: `subject: expected a host Apple accepts, not ${host} (Apple refuses a subject on localhost, .local or .invalid with 403 BadJwtToken)` });
		const { credentials } = await freshStore(HARNESSES.sendToken);
		const before = fakes.webpush.received.length;
		const subscription = JSON.stringify(fakes.webpush.subscribe());
		await execute(new SendPush(), { items: [{}], params: () => ({ ...sendBase(0), ...webToken(subscription) }), credentials: { ...credentials, webPushVapidApi: { ...vapidData, subject, allowedPrivateHosts: fakes.webpush.host } } });
		await closeAllStores();
		expect(fakes.webpush.received.length).toBe(before + 1);
	});
	it('Web Push: the credential test accepts a subject on a real host', async () => {
		const result = await webPushCredentialTest.call(testFns, credential('webPushVapidApi', { ...vapidData, subject: 'mailto:ops@example.com' }));
		expect(result).toEqual({ status: 'OK', message: 'The keys are well formed and Apple accepts the subject; the push services check the keys on the first push' });
	});

	const storeCases: Array<[string, () => ICredentialDataDecryptedObject, RegExp]> = [
		['store: SQLite path that is a directory', () => ({ engine: 'sqlite', path: dir }), /directory|unable to open|SQLITE_CANTOPEN/i],
		['store: SQLite path under a file', () => ({ engine: 'sqlite', path: join(__filename, 'store.sqlite') }), /ENOTDIR|EEXIST|not a directory|unable to open/i],
		['store: SQLite path of 1 MB', () => ({ engine: 'sqlite', path: join(dir, MB.slice(0, 5000)) }), /name too long|unable to open|ENAMETOOLONG|cannot open/i],
		['store: PostgreSQL URL that is not a URL', () => ({ engine: 'postgres', connection: 'url', url: 'not a url at all' }), /./],
		['store: PostgreSQL URL with a bad % escape', () => ({ engine: 'postgres', connection: 'url', url: 'postgres://kim:pa%zzword@127.0.0.1:1/db' }), /expected a connection URL such as postgres:\/\/.*a % in it must start an escape/],
		['store: PostgreSQL URL with a lone %', () => ({ engine: 'postgres', connection: 'url', url: 'postgres://kim:100%@127.0.0.1:1/db' }), /a % in it must start an escape/],
		['store: PostgreSQL on a port nobody listens on', () => ({ engine: 'postgres', connection: 'fields', host: '127.0.0.1', port: 1, database: 'x', user: 'x', password: 'pw-xyz' }), /ECONNREFUSED|connect/],
		['store: PostgreSQL URL with SQL as the database', () => ({ engine: 'postgres', connection: 'url', url: `postgres://x:y@127.0.0.1:1/${encodeURIComponent(SQL)}` }), /ECONNREFUSED|connect/],
		['store: Max Devices per User below 0', () => ({ engine: 'sqlite', path: join(dir, 'capped.sqlite'), maxDevicesPerUser: -1 }), /field "maxDevicesPerUser": expected maxDevicesPerUser of 0 \(no cap\) or more/],
		['store: Max Devices per User as text', () => ({ engine: 'sqlite', path: join(dir, 'capped.sqlite'), maxDevicesPerUser: 'five' }), /field "maxDevicesPerUser": expected maxDevicesPerUser as a number/],
	];
	it.each(storeCases)('%s', async (_, data, expected) => {
		tried++;
		const result = await pushTokenStoreConnectionTest.call(testFns, credential('pushTokenStoreApi', data()));
		expect(result.status).toBe('Error');
		expect(result.message).toMatch(expected);
		expect(result.message.length).toBeLessThan(1500);
		// a node with this store fails as a whole (there is no store to write to), with the same kind of message
		const error = await execute(new RegisterPushToken(), { params: register(tokens.fcm(1)), credentials: { pushTokenStoreApi: data() }, continueOnFail: true }).catch((e: unknown) => e);
		await closeAllStores();
		// (driver errors may come from Node's own realm, where jest's Error is another class)
		expect(typeof (error as Error).message).toBe('string');
		expect((error as Error).message).toMatch(expected);
	});
});

afterAll(() => {
	// The team quotes this number in the README.
	const nodes = new Set(CASES.map((c) => HARNESSES[c.harness].node)).size + 1; // + the clean-up trigger
	process.stdout.write(`bad-input corpus: ${tried} malformed inputs across ${nodes} nodes and 4 credentials\n`);
});
