/**
 * The nodes inside a real n8n 2.x, installed from the packed tarball: each scenario runs
 * workflows with the n8n CLI and asserts on the run's output AND on the store's contents.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tokens } from '../support/stores';
import { line, N8nHarness, node, waitFor } from './harness';

const APP = 'com.example.app';
const apns = tokens.apns(1);

/** register → identify → identify another user on the same device → clear identify. */
async function loginLogoutScenario(n8n: N8nHarness) {
	const out = await n8n.execute(
		line(
			'login and logout',
			node.manual(),
			node.register('Register', { appId: APP, platform: 'ios', token: apns, deviceId: 'phone-1' }),
			node.identity('Charlie logs in', { operation: 'identify', appId: APP, token: apns, userId: 'charlie' }),
			node.identity('Kim logs in', { operation: 'identify', appId: APP, deviceId: 'phone-1', userId: 'kim' }),
			node.identity('Kim logs out', { operation: 'clearIdentify', appId: APP, token: apns, mode: 'anonymous' }),
			node.identity('Profile of Kim', { operation: 'getProfile', userId: 'kim' }),
		),
	);
	expect(out.of('Register')[0]).toMatchObject({ action: 'registered', device: { token: apns, provider: 'apns', deviceId: 'phone-1' } });
	expect(out.of('Charlie logs in')[0]).toMatchObject({ action: 'moved', userId: 'charlie', fromUserId: null });
	expect(out.of('Kim logs in')[0]).toMatchObject({ action: 'moved', userId: 'kim', fromUserId: 'charlie' });
	expect(out.of('Kim logs out')[0]).toMatchObject({ action: 'anonymized', fromUserId: 'kim' });
	expect(out.of('Profile of Kim')[0]).toMatchObject({ found: true, userId: 'kim', push_tokens: [] });

	const log = await n8n.store.changelog({ appId: APP, token: apns });
	expect(log.map((e) => [e.type, e.fromUserId, e.toUserId])).toEqual([
		['registered', null, null],
		['moved', null, 'charlie'],
		['moved', 'charlie', 'kim'],
		['cleared', 'kim', null],
	]);
	expect((await n8n.store.getProfile({ userId: 'charlie' }))!.push_tokens).toEqual([]);
}

describe('[sqlite] the nodes in a real n8n', () => {
	let n8n: N8nHarness;
	beforeAll(async () => {
		n8n = await N8nHarness.create('sqlite');
	}, 15 * 60_000);
	afterAll(() => n8n?.dispose());

	it('register → identify → identify another user on the same device → clear identify', () => loginLogoutScenario(n8n), 120_000);

	it('a bad item fails with its index and field; with continueOnFail the rest goes on', async () => {
		const out = await n8n.execute(
			line(
				'bad input',
				node.manual(),
				node.items('Items', [{ token: tokens.fcm(50) }, { token: 'has a space' }, { token: tokens.fcm(51) }]),
				{ ...node.register('Register', { appId: APP, platform: 'android', token: '={{ $json.token }}' }), continueOnFail: true },
			),
		);
		const results = out.of('Register');
		expect(results.map((r) => r.action ?? 'error')).toEqual(['registered', 'error', 'registered']);
		expect(results[1].error).toBe('Item 2: register: field "token": expected an FCM registration token (a non-empty string without spaces), got "has a space"');
		expect(await n8n.store.getDevice(APP, 'has a space')).toBeNull();
	}, 120_000);
});

export { loginLogoutScenario };
