/**
 * Send Push's version 2 panel: the same fields as version 1, regrouped. What both send must be
 * the same; what the panel shows must depend on Send To; a missing provider credential is named.
 */
import { NodeHelpers, type IExecuteFunctions, type INodeType } from 'n8n-workflow';
import { closeAllStores, Sender, TokenStore, type StoreConfig } from '../../nodes/core';
import { SendPush } from '../../nodes/SendPush/SendPush.node';
import { freshConfig, tokens } from '../support/stores';
import { execute } from './context';

const APP = 'com.example.app';
let store: StoreConfig;
let dispose: () => Promise<void>;
let direct: TokenStore;

beforeEach(async () => {
	({ config: store, dispose } = await freshConfig('sqlite'));
	direct = await TokenStore.open(store);
	// (a token the store knows is sent as its record: the same in both runs)
	await direct.register({ appId: APP, platform: 'ios', token: tokens.apns(1) });
});
afterEach(async () => {
	jest.restoreAllMocks();
	await direct.close();
	await closeAllStores();
	await dispose();
});

/** Send Push run as a node of this typeVersion (the hand-made context's node is typeVersion 1). */
function sendPush(typeVersion: number): INodeType {
	const type = new SendPush();
	return {
		description: type.description,
		execute(this: IExecuteFunctions) {
			return type.execute.call({ ...this, getNode: () => ({ ...this.getNode(), typeVersion }) });
		},
	};
}

// Every field away from its default, on version 1's panel…
const content = { title: 'Shipped', body: 'Order 7 is on its way' };
const customData = { pairs: [{ key: 'orderId', value: '7' }] };
const message = { subtitle: 'Order 7', imageUrl: 'https://example.com/7.png', deepLink: 'app://orders/7', badge: 2, sound: 'ping.caf', flatten: true, dataJson: '{"order":{"id":7}}' };
const options = {
	transactional: true, test: true, sendId: 'order-7', updateStore: true, maxAttempts: 2, resendLostAnswers: true, ttlSeconds: 600,
	includeAnonymous: true, includeImported: false, failureLimit: 5,
	apnsPriority: '5', threadId: 'orders', category: 'ORDER', mutableContent: true, interruptionLevel: 'time-sensitive', collapseId: 'order-7',
	fcmPriority: 'normal', channelId: 'orders', dataOnly: true,
	urgency: 'high', topic: 'orders',
};
const full1 = { ...content, customData, message, options };
// …and the same on version 2's: each group where it now belongs.
const { apnsPriority, threadId, category, mutableContent, interruptionLevel, collapseId, fcmPriority, channelId, dataOnly, urgency, topic, includeAnonymous, includeImported, failureLimit, ...delivery } = options;
const full2 = {
	...content,
	message: { ...message, customData },
	apns: { apnsPriority, threadId, category, mutableContent, interruptionLevel, collapseId },
	fcm: { fcmPriority, channelId, dataOnly },
	webPush: { urgency, topic },
	options: delivery,
	includeAnonymous,
	includeImported,
	failureLimit,
};
// Nothing set: each version's defaults (the context gives a reader's fallback for a field left out).
const empty1 = { ...content, customData: {}, message: {}, options: {} };
const empty2 = { ...content, message: {}, apns: {}, fcm: {}, webPush: {}, options: {} };

const targets = {
	token: { target: 'token', appId: APP, platform: 'ios', token: tokens.apns(1) },
	// (an app with no device: its campaign is handed to the sender, and sent to nobody)
	audience: { target: 'audience', appId: 'com.example.empty', audiencePlatform: '', lastActiveOnly: false },
};

/** What the node hands the sender: a per-item send's devices, messages and options, or an audience's query, message and options. */
async function handed(typeVersion: number, params: Record<string, unknown>): Promise<unknown[]> {
	const perItem = jest.spyOn(Sender.prototype, 'send');
	const audience = jest.spyOn(Sender.prototype, 'sendAudience');
	// (no provider credential in the context: the push fails after being handed over, as an error item)
	await execute(sendPush(typeVersion), { params, store, continueOnFail: true });
	const calls = params.target === 'audience' ? audience.mock.calls : perItem.mock.calls;
	expect(calls).toHaveLength(1);
	jest.restoreAllMocks();
	// A send id made for the run names its execution: the one thing two runs never share.
	return JSON.parse(JSON.stringify(calls[0]).replace(/"n8n:\d+:/g, '"n8n:<execution>:'));
}

describe('Send Push version 2 panel', () => {
	it.each([
		['every field set', 'token', full1, full2],
		['every field set', 'audience', full1, full2],
		['nothing set', 'token', empty1, empty2],
		['nothing set', 'audience', empty1, empty2],
	] as const)('%s, to %s: version 2 hands the sender what version 1 does', async (_, target, v1, v2) => {
		const sent = await handed(1, { ...targets[target], ...v1 });
		expect(await handed(2, { ...targets[target], ...v2 })).toEqual(sent);
	});

	it('Delivery and Localized Content reach the sender as the core checks them; an empty field is no control', async () => {
		const delivery = { localTime: '09:00', localTimeWindowMinutes: 60, defaultTimeZone: 'europe/paris', quietHoursStart: '21:00', quietHoursEnd: '08:00', frequencyCapPushes: 2, frequencyCapHours: 24, pushesPerMinute: 0 };
		const localized = { texts: [{ language: 'fr-ca', title: 'Expédié', subtitle: '', body: 'En route' }] };
		const [, message, options] = (await handed(2, { ...targets.audience, ...empty2, delivery, localized })) as [unknown, { localized: unknown }, { controls: unknown }];
		expect(message.localized).toEqual([{ language: 'fr-CA', title: 'Expédié', body: 'En route' }]);
		expect(options.controls).toEqual({ localTime: 540, localTimeWindowMinutes: 60, defaultTimeZone: 'Europe/Paris', quietHours: { start: 1260, end: 480 }, frequencyCap: { pushes: 2, hours: 24 } });
		const error = await execute(sendPush(2), { params: { ...targets.audience, ...empty2, delivery: { quietHoursStart: '21:00' } }, store }).catch((e: unknown) => e);
		expect((error as Error).message).toMatch(/quietHours\.end.*expected quietHours\.end as a time of day from 00:00 to 23:59, HH:MM/);
	});

	it('Web Push Declarative reaches the message; without an https deep link the item fails naming the field', async () => {
		const params = { ...targets.audience, ...empty2, message: { deepLink: 'https://shop.example/sale' }, webPush: { declarative: true } };
		const [, message] = (await handed(2, params)) as [unknown, { webpush: unknown }];
		expect(message.webpush).toEqual({ declarative: true });
		const error = await execute(sendPush(2), { params: { ...params, message: { deepLink: 'app://sale' } }, store }).catch((e: unknown) => e);
		expect((error as Error).message).toMatch(/deepLink.*expected deepLink as an https:\/\/ URL: a declarative Web Push opens it/);
	});

	it("shows the audience's own fields, and Update Token Store, only where they apply", () => {
		const { properties } = new SendPush().description;
		// n8n's own resolution of what the panel shows (defaults included) for these values
		const shown = (typeVersion: number, target: string) => Object.keys(NodeHelpers.getNodeParameters(properties, { target }, true, false, { typeVersion }, null) ?? {});
		const audienceOnly = ['includeAnonymous', 'includeImported', 'failureLimit'];
		expect(shown(2, 'user').filter((name) => audienceOnly.includes(name))).toEqual([]);
		expect(shown(2, 'audience')).toEqual(expect.arrayContaining(audienceOnly));
		expect(shown(2, 'user')).toEqual(expect.arrayContaining(['message', 'apns', 'fcm', 'webPush', 'options']));
		expect(shown(1, 'user')).toEqual(expect.arrayContaining(['customData', 'message', 'options']));
		expect(shown(1, 'user')).not.toContain('apns');
		for (const name of audienceOnly) expect(properties.find((p) => p.name === name)?.displayOptions?.show?.target).toEqual(['audience']);
		// (an option of a collection: n8n shows it by its displayOptions when the collection is opened)
		const deliveryOptions = properties.find((p) => p.name === 'options' && !p.displayOptions?.show?.['@version']?.includes(1))?.options ?? [];
		expect(deliveryOptions.find((o) => o.name === 'updateStore')).toMatchObject({ displayOptions: { hide: { '/target': ['audience'] } } });
	});

	it('a missing provider credential: the error names the credential to add, and nothing else', async () => {
		const error = await execute(sendPush(2), { params: { ...targets.token, ...empty2 }, store }).catch((e: unknown) => e);
		expect(error).toMatchObject({ message: `Item 1: no APNs credential is set: add one to the node to send to APNs devices`, description: undefined });

		// an audience's devices, none of whose providers has a credential
		await direct.register({ appId: APP, platform: 'android', token: tokens.fcm(1), userId: 'kim' });
		const campaign = await execute(sendPush(2), { params: { ...targets.audience, appId: APP, ...empty2 }, store }).catch((e: unknown) => e);
		expect((campaign as Error).message).toBe(`Item 1: no FCM credential is set: add one to the node to send to FCM devices`);
	});
});
