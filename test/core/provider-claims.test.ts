/**
 * A provider module may claim tokens by their shape (`owns`, as Expo claims ExponentPushToken[…]):
 * a record that names no provider goes to the allowed provider that owns its token, before the
 * platform's default. Here test-only rules on FCM and APNs show the rule apart from Expo's shape.
 */
import { RegisterInput } from '../../nodes/core';
import { providerModule } from '../../nodes/core/providers';
import { tokens } from '../support/stores';

const APP = 'com.example.app';
const claims = (id: 'apns' | 'fcm', prefix: string) => {
	providerModule(id).owns = (raw) => typeof raw === 'string' && raw.startsWith(prefix);
};
afterEach(() => {
	delete providerModule('fcm').owns;
	delete providerModule('apns').owns;
});

describe('providers claim tokens by shape', () => {
	it('a token an allowed provider owns goes to it, not to the platform default; a record naming its provider is not overruled', () => {
		claims('fcm', 'owned-by-fcm:');
		expect(RegisterInput.parse({ appId: APP, platform: 'ios', token: 'owned-by-fcm:abc' })).toMatchObject({ provider: 'fcm', tokenKind: 'registration-token' });
		expect(RegisterInput.parse({ appId: APP, platform: 'ios', token: tokens.apns(1) })).toMatchObject({ provider: 'apns' });
		expect(() => RegisterInput.parse({ appId: APP, platform: 'ios', provider: 'apns', token: 'owned-by-fcm:abc' })).toThrow('expected an APNs device token');
	});

	it('a provider the platform does not allow claims nothing: the default takes the token', () => {
		claims('apns', 'owned-by-apns:');
		expect(RegisterInput.parse({ appId: APP, platform: 'android', token: 'owned-by-apns:abc' })).toMatchObject({ provider: 'fcm' });
	});
});
