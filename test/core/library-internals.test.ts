/**
 * The two places this package reaches into a library's internals (firebase-admin's messaging
 * request handler and validateMessage; apns2's HTTP client) fail loudly, naming the file to
 * re-check, when a pinned version changes: here, before any push is sent with them.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ApnsClient } from 'apns2';
import { deleteApp, initializeApp } from 'firebase-admin/app';
import { getMessaging } from 'firebase-admin/messaging';
import * as apns from '../../nodes/core/providers/apns/internals';
import * as fcm from '../../nodes/core/providers/fcm/internals';

const packageJson = (path: string) => JSON.parse(readFileSync(join(__dirname, '../..', path, 'package.json'), 'utf8'));
const installed = (library: string): string => packageJson(`node_modules/${library}`).version;
const pkg = packageJson('.') as { dependencies: Record<string, string> };

describe.each([fcm, apns])('$LIBRARY internals', (internals) => {
	it('the installed and the pinned version are the one the internals were written for', () => {
		const pinned = pkg.dependencies[internals.LIBRARY];
		for (const [what, version] of [['installed', installed(internals.LIBRARY)], ['pinned in package.json', pinned]]) {
			if (version !== internals.WRITTEN_FOR) {
				throw new Error(`${internals.LIBRARY} ${what} is ${version}; nodes/core/providers/${internals === fcm ? 'fcm' : 'apns'}/internals.ts was written for ${internals.WRITTEN_FOR}: check the internals it uses against the new version, then set WRITTEN_FOR`);
			}
		}
	});
});

describe('firebase-admin', () => {
	const app = initializeApp({ projectId: 'internals-test' }, 'internals-test');
	afterAll(() => deleteApp(app));

	it("its messaging internals are where this package expects them, and firebase-admin's resending of cut-off requests is turned off", () => {
		const internal = createRequire(require.resolve('firebase-admin'))('./messaging/messaging-internal');
		expect(fcm.missingInternals(getMessaging(app), internal)).toBeNull();
		const messaging = fcm.messagingOf(app);
		expect(messaging.messagingRequestHandler.http2Client.retry?.ioErrorCodes).toEqual([]);
		expect(() => messaging.validate({ fid: 'c0000000000000000000ab', notification: { title: 'x' } })).not.toThrow();
		expect(() => messaging.validate({ fid: 'c0000000000000000000ab', token: 'both' })).toThrow(/Exactly one of fid, topic, token or condition/);
	});

	it('internals gone: the error names each one missing, the version written for and the file', () => {
		expect(fcm.missingInternals({ messagingRequestHandler: {} }, {})).toBe(
			'firebase-admin: Messaging.getUrlPath(), messagingRequestHandler.invokeHttp2RequestHandlerForSendResponse(), messagingRequestHandler.http2Client.retry, messaging-internal validateMessage() not where this package expects them (written for firebase-admin 14.5.1; see nodes/core/providers/fcm/internals.ts)',
		);
	});
});

describe('apns2', () => {
	const signingKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

	it('its HTTP client is where this package expects it', async () => {
		const client = new ApnsClient({ team: 'TEAM123456', keyId: 'KEY1234567', signingKey, defaultTopic: 'com.example.app', keepAlive: false });
		try {
			expect(apns.missingInternals(client)).toBeNull();
		} finally {
			await client.close();
		}
	});

	it('client gone: the error names it, the version written for and the file', () => {
		expect(apns.missingInternals({})).toBe('apns2: its HTTP client (ApnsClient.client.request) is not where this package expects it (written for apns2 12.2.0; see nodes/core/providers/apns/internals.ts)');
	});
});
