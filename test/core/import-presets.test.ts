/**
 * Import presets on each provider's export as its documentation writes it (test/fixtures/import):
 * Detect From Header picks the preset, and the import's summary says exactly what became of every
 * record, on each engine; the devices stored are spot-checked. Then detection's limits, and every
 * preset on garbage.
 */
import {
	detectPreset,
	ImportRow,
	mapColumns,
	presetById,
	PRESETS,
	readCsv,
	readJson,
	reader,
	SourceSkip,
	UnknownSourceError,
	UnreadableRow,
	type ImportCounts,
	type ImportSummary,
	type TokenStore,
} from '../../nodes/core';
import { fixtureNames, readFixture } from '../support/fixtures';
import { ENGINES, openTestStore, type TestStore } from '../support/stores';

const APP = 'com.example.app';

type Rec = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- fixtures' records, read by path

/** A fixture's records as the import reads them. */
async function recordsOf(name: string): Promise<Rec[]> {
	const fixture = readFixture(name);
	const records: Rec[] = [];
	for await (const record of fixture.format === 'csv' ? readCsv([fixture.body]) : readJson([fixture.body])) records.push(record as Rec);
	return records;
}

async function importFixture(store: TokenStore, name: string) {
	const fixture = readFixture(name);
	const { preset, records } = await detectPreset(fixture.format === 'csv' ? readCsv([fixture.body]) : readJson([fixture.body]));
	const summary = await store.importTokens(records, { read: reader(preset, { appId: APP }), source: preset.name });
	return { preset, summary };
}

const counts = (c: Partial<ImportCounts>): ImportCounts => ({ imported: 0, skippedExisting: 0, skippedDead: 0, skippedBySource: 0, ...c });

/** The base64url a browser gives for a key an export wrote in standard base64. */
const url = (base64: string) => Buffer.from(base64, 'base64').toString('base64url');

interface Case {
	preset: string;
	summary: Pick<ImportSummary, 'rows' | 'tokens' | 'imported' | 'skippedExisting' | 'skippedBySource' | 'invalid' | 'byPlatform' | 'skippedBySourceReasons' | 'invalidReasons'>;
	/** Spot checks of what was stored, given the fixture's records. */
	stored: (store: TokenStore, records: Rec[]) => Promise<void>;
}

const ONESIGNAL_SKIPS = {
	invalid: 'token marked invalid by OneSignal (invalid_identifier)',
	unsubscribed: 'unsubscribed (notification_types below 0)',
	disabled: 'subscription disabled (enabled false)',
	legacySafari: 'legacy Safari push (APNs website push, not Web Push)',
	email: 'email subscription (not push)',
	sms: 'SMS subscription (not push)',
	fireOs: 'Amazon Fire OS push (ADM, no provider here)',
	huawei: 'Huawei push (HMS, no provider here)',
};

const CASES: Record<string, Case> = {
	'onesignal.csv': {
		preset: 'onesignal',
		summary: {
			rows: 19,
			tokens: 19,
			imported: 9,
			skippedExisting: 0,
			skippedBySource: 9,
			invalid: 1,
			byPlatform: {
				'ios/apns': counts({ imported: 2, skippedBySource: 2 }),
				'android/fcm': counts({ imported: 2, skippedBySource: 1 }),
				'web/webpush': counts({ imported: 5 }),
				'web/safari': counts({ skippedBySource: 1 }),
				'android/adm': counts({ skippedBySource: 1 }),
				'android/hms': counts({ skippedBySource: 1 }),
				other: counts({ skippedBySource: 3 }),
			},
			skippedBySourceReasons: {
				[ONESIGNAL_SKIPS.invalid]: 1,
				[ONESIGNAL_SKIPS.unsubscribed]: 2,
				[ONESIGNAL_SKIPS.legacySafari]: 1,
				[ONESIGNAL_SKIPS.email]: 1,
				[ONESIGNAL_SKIPS.sms]: 1,
				[ONESIGNAL_SKIPS.fireOs]: 1,
				[ONESIGNAL_SKIPS.huawei]: 1,
				'unsupported OneSignal channel "macOSPush"': 1,
			},
			invalidReasons: {
				'token.keys.p256dh: expected keys.p256dh (an uncompressed P-256 public key) as a base64url string': 1,
				'token.keys.auth: expected keys.auth as a base64url string': 1,
			},
		},
		async stored(store, rows) {
			// external_user_id: one user with an iOS and an Android subscription.
			const user = await store.getProfile({ userId: 'u-1001' });
			expect(user!.push_tokens.map((d) => [d.platform, d.provider, d.token])).toEqual([
				['ios', 'apns', rows[0].identifier],
				['android', 'fcm', rows[4].identifier],
			]);
			// timezone_id (an IANA name) rather than the timezone offset; the language.
			expect(user!.push_tokens.map((d) => [d.time_zone, d.language])).toEqual([
				['America/New_York', 'en'],
				['America/New_York', 'en'],
			]);
			// No external_user_id: a temporary imported profile.
			const anonymous = await store.getDevice(APP, rows[1].identifier);
			expect((await store.getProfile({ profileId: anonymous!.profileId }))!.kind).toBe('imported');
			expect(anonymous).toMatchObject({ timeZone: 'Europe/Paris', language: 'fr' });
			// Chrome (5), Edge (as Chrome), Safari (17, and 7 with an endpoint): the endpoint and the keys, base64 made base64url.
			for (const i of [7, 8, 9, 10, 18]) {
				const device = await store.getDevice(APP, rows[i].identifier);
				expect(device).toMatchObject({ platform: 'web', provider: 'webpush', webPushKeys: { p256dh: url(rows[i].web_p256), auth: url(rows[i].web_auth) } });
			}
			expect(rows[7].web_p256).toMatch(/[+/=]/); // the fixture does test the conversion
			// Skipped rows leave nothing behind.
			for (const i of [2, 3, 6, 11]) expect(await store.getDevice(APP, rows[i].identifier)).toBeNull();
			expect(await store.getProfile({ userId: 'u-1005' })).toBeNull();
		},
	},
	'onesignal-v7.csv': {
		preset: 'onesignal',
		summary: {
			rows: 13,
			tokens: 13,
			imported: 5,
			skippedExisting: 1,
			skippedBySource: 6,
			invalid: 1,
			byPlatform: {
				'ios/apns': counts({ imported: 2, skippedExisting: 1 }),
				'android/fcm': counts({ imported: 1, skippedBySource: 2 }),
				'web/webpush': counts({ imported: 2 }),
				'web/safari': counts({ skippedBySource: 1 }),
				'android/adm': counts({ skippedBySource: 1 }),
				other: counts({ skippedBySource: 2 }),
			},
			skippedBySourceReasons: {
				[ONESIGNAL_SKIPS.invalid]: 1,
				[ONESIGNAL_SKIPS.unsubscribed]: 1,
				[ONESIGNAL_SKIPS.legacySafari]: 1,
				[ONESIGNAL_SKIPS.email]: 1,
				[ONESIGNAL_SKIPS.fireOs]: 1,
				'unsupported OneSignal channel "WindowsPhonePush"': 1,
			},
			invalidReasons: { 'token: expected an FCM registration token (visible ASCII characters, no spaces)': 1 },
		},
		async stored(store, rows) {
			// The token two players share went in once, with the first player's user.
			expect(rows[2].identifier).toBe(rows[0].identifier);
			expect((await store.getProfile({ userId: 'legacy-501' }))!.push_tokens.map((d) => d.token)).toEqual([rows[0].identifier]);
			// No timezone_id: the offset (-28800 s) as its Etc zone, whose sign is inverted.
			expect(await store.getDevice(APP, rows[0].identifier)).toMatchObject({ timeZone: 'Etc/GMT+8', language: 'en' });
			expect(await store.getDevice(APP, rows[6].identifier)).toMatchObject({ platform: 'web', webPushKeys: { p256dh: url(rows[6].web_p256), auth: url(rows[6].web_auth) } });
			// The email row's user has the Chrome subscription only.
			expect((await store.getProfile({ userId: 'legacy-503' }))!.push_tokens.map((d) => d.platform)).toEqual(['web']);
		},
	},
	'onesignal-users.jsonl': {
		preset: 'onesignal',
		summary: {
			rows: 6,
			tokens: 15,
			imported: 7,
			skippedExisting: 0,
			skippedBySource: 7,
			invalid: 1,
			byPlatform: {
				'ios/apns': counts({ imported: 3 }),
				'android/fcm': counts({ imported: 1, skippedBySource: 1 }),
				'web/webpush': counts({ imported: 3 }),
				'web/safari': counts({ skippedBySource: 1 }),
				'android/adm': counts({ skippedBySource: 1 }),
				'android/hms': counts({ skippedBySource: 1 }),
				other: counts({ skippedBySource: 3 }),
			},
			skippedBySourceReasons: {
				[ONESIGNAL_SKIPS.email]: 1,
				[ONESIGNAL_SKIPS.sms]: 1,
				[ONESIGNAL_SKIPS.disabled]: 1,
				[ONESIGNAL_SKIPS.legacySafari]: 1,
				[ONESIGNAL_SKIPS.huawei]: 1,
				[ONESIGNAL_SKIPS.fireOs]: 1,
				'unsupported OneSignal channel "macOSPush"': 1,
			},
			invalidReasons: { 'token: expected an APNs device token of 64 hexadecimal characters': 1 },
		},
		async stored(store, users) {
			const [development, adHoc, anonymous, web] = users.map((u) => u.subscriptions);
			// test_type: 1 Development → sandbox, 2 Ad Hoc → production, none (App Store) → the credential's default.
			expect(await store.getDevice(APP, development[0].token)).toMatchObject({ platform: 'ios', environment: 'sandbox' });
			expect(await store.getDevice(APP, adHoc[0].token)).toMatchObject({ platform: 'ios', environment: 'production' });
			expect(await store.getDevice(APP, anonymous[1].token)).toMatchObject({ platform: 'ios', environment: null });
			expect(await store.getDevice(APP, development[1].token)).toMatchObject({ platform: 'android', provider: 'fcm', environment: null });
			// identity.external_id: the user's push subscriptions; the user's properties say where and in what language.
			expect((await store.getProfile({ userId: 'u-2002' }))!.push_tokens.map((d) => d.platform)).toEqual(['ios', 'web']);
			expect((await store.getProfile({ userId: 'u-2002' }))!.push_tokens.map((d) => [d.time_zone, d.language])).toEqual(Array(2).fill([users[1].properties.timezone_id, users[1].properties.language]));
			expect(await store.getDevice(APP, adHoc[1].token)).toMatchObject({ webPushKeys: { p256dh: url(adHoc[1].web_p256), auth: url(adHoc[1].web_auth) } });
			expect((await store.getProfile({ userId: 'u-2003' }))!.push_tokens).toHaveLength(2); // Firefox, Safari; not legacy Safari
			expect(await store.getDevice(APP, web[1].token)).toMatchObject({ platform: 'web', provider: 'webpush' });
			expect(await store.getDevice(APP, anonymous[0].token)).toBeNull(); // disabled
		},
	},
	'airship.jsonl': {
		preset: 'airship',
		summary: {
			rows: 6,
			tokens: 15,
			imported: 7,
			skippedExisting: 0,
			skippedBySource: 7,
			invalid: 1,
			byPlatform: {
				'ios/apns': counts({ imported: 3, skippedBySource: 1 }),
				'android/fcm': counts({ imported: 2, skippedBySource: 1 }),
				'web/webpush': counts({ imported: 2 }),
				'android/adm': counts({ skippedBySource: 1 }),
				other: counts({ skippedBySource: 4 }),
			},
			skippedBySourceReasons: {
				'email channel (not push)': 1,
				'app uninstalled (installed false)': 1,
				'opted out of push (opt_in false)': 1,
				'Amazon Fire OS channel (ADM, no provider here)': 1,
				'SMS channel (not push)': 1,
				'open channel (not push)': 1,
				'unsupported Airship device type "wns"': 1,
			},
			invalidReasons: {
				'token.keys.p256dh: expected keys.p256dh (an uncompressed P-256 public key) as a base64url string': 1,
				'token.keys.auth: expected keys.auth as a base64url string': 1,
			},
		},
		async stored(store, lines) {
			const [page1, page2, single, bareWeb, bareIos] = [lines[0].channels, lines[1].channels, lines[2].channel, lines[3], lines[4]];
			// named_user_id: the user's channels, from a page of the listing; Airship's upper-case APNs tokens kept as APNs keeps them.
			expect((await store.getProfile({ userId: 'cust-9001' }))!.push_tokens.map((d) => [d.platform, d.provider, d.token])).toEqual([
				['ios', 'apns', page1[0].push_address.toLowerCase()],
				['android', 'fcm', page1[1].push_address],
			]);
			// A web channel: push_address is the endpoint, web.subscription the keys.
			expect(await store.getDevice(APP, page1[2].push_address)).toMatchObject({ platform: 'web', provider: 'webpush', webPushKeys: page1[2].web.subscription });
			expect((await store.getProfile({ userId: 'cust-9002' }))!.push_tokens.map((d) => d.platform)).toEqual(['web']); // not the email channel
			// { ok, channel } and bare channels; no named user: a temporary imported profile.
			for (const channel of [page2[4], single, bareWeb]) {
				const device = await store.getDevice(APP, channel.push_address);
				expect((await store.getProfile({ profileId: device!.profileId }))!.kind).toBe('imported');
			}
			expect((await store.getProfile({ userId: 'cust-9005' }))!.push_tokens.map((d) => d.token)).toEqual([bareIos.push_address.toLowerCase()]);
			// Uninstalled, opted out: nothing stored.
			expect(await store.getDevice(APP, page1[4].push_address)).toBeNull();
			expect(await store.getDevice(APP, page2[0].push_address)).toBeNull();
		},
	},
	'braze.jsonl': {
		preset: 'braze',
		summary: {
			rows: 7,
			tokens: 10,
			imported: 5,
			skippedExisting: 0,
			skippedBySource: 4,
			invalid: 1,
			byPlatform: {
				'ios/apns': counts({ imported: 2, skippedBySource: 1 }),
				'android/fcm': counts({ imported: 3, skippedBySource: 1 }),
				'web/webpush': counts({ skippedBySource: 1 }),
				other: counts({ skippedBySource: 1 }),
			},
			skippedBySourceReasons: {
				'web push token (the export has no subscription keys)': 1,
				'user unsubscribed from push (push_subscribe unsubscribed)': 2,
				'unsupported Braze platform "Kindle"': 1,
			},
			invalidReasons: { 'token: expected an APNs device token of 64 hexadecimal characters': 1 },
		},
		async stored(store, users) {
			const tokens = users.map((u) => u.push_tokens);
			// external_id: the user's iOS and Android tokens; no device id (Braze's are not the app's).
			expect((await store.getProfile({ userId: 'b-3001' }))!.push_tokens.map((d) => [d.platform, d.provider, d.token, d.device_id])).toEqual([
				['ios', 'apns', tokens[0][0].token, null],
				['android', 'fcm', tokens[0][1].token, null],
			]);
			// The user's time_zone and language, on each of their tokens.
			expect((await store.getProfile({ userId: 'b-3001' }))!.push_tokens.map((d) => [d.time_zone, d.language])).toEqual(Array(2).fill([users[0].time_zone, users[0].language]));
			// notifications_enabled false: imported all the same.
			expect(tokens[1][0].notifications_enabled).toBe(false);
			expect((await store.getProfile({ userId: 'b-3002' }))!.push_tokens.map((d) => d.token)).toEqual([tokens[1][0].token]);
			// braze_id only: a temporary imported profile.
			const anonymous = await store.getDevice(APP, tokens[2][0].token);
			expect((await store.getProfile({ profileId: anonymous!.profileId }))!.kind).toBe('imported');
			// Platform in any case; an unsubscribed user's tokens are left.
			expect((await store.getProfile({ userId: 'b-3004' }))!.push_tokens.map((d) => d.platform)).toEqual(['android']);
			expect(await store.getProfile({ userId: 'b-3003' })).toBeNull();
			expect(await store.getProfile({ userId: 'b-3005' })).toBeNull(); // no push_tokens at all
		},
	},
	'customerio.jsonl': {
		preset: 'customerio',
		summary: {
			rows: 7,
			tokens: 10,
			imported: 6,
			skippedExisting: 0,
			skippedBySource: 3,
			invalid: 1,
			byPlatform: {
				'ios/apns': counts({ imported: 1, skippedBySource: 1 }),
				'ios/fcm': counts({ imported: 1 }),
				'android/fcm': counts({ imported: 3, skippedBySource: 1 }),
				// (an Expo token goes to Expo by its shape, whatever the export said)
				'ios/expo': counts({ imported: 1 }),
				other: counts({ skippedBySource: 1 }),
			},
			skippedBySourceReasons: {
				'device suppressed (its last two pushes bounced)': 1,
				'customer unsubscribed': 1,
				'unsupported Customer.io platform "web"': 1,
			},
			invalidReasons: { 'token: expected an FCM registration token (visible ASCII characters, no spaces)': 1 },
		},
		async stored(store, lines) {
			const customers = lines.map((l) => l.customer ?? l);
			// identifiers.id: the person's devices, sent and unused alike.
			expect((await store.getProfile({ userId: '42' }))!.push_tokens.map((d) => [d.platform, d.provider, d.token])).toEqual([
				['ios', 'apns', customers[0].devices[0].id],
				['android', 'fcm', customers[0].devices[1].id],
			]);
			// An iOS token that is no APNs token goes through FCM; the suppressed device is left.
			expect((await store.getProfile({ userId: '43' }))!.push_tokens.map((d) => [d.platform, d.provider, d.token])).toEqual([['ios', 'fcm', customers[1].devices[0].id]]);
			// A customer alone, with no identifiers.id: customer.id; a bounced device still imported.
			expect(customers[2].identifiers.id).toBeUndefined();
			expect((await store.getProfile({ userId: '44' }))!.push_tokens.map((d) => d.token)).toEqual([customers[2].devices[0].id]);
			// No id at all (an email-only person): a temporary imported profile.
			const anonymous = await store.getDevice(APP, customers[4].devices[0].id);
			expect((await store.getProfile({ profileId: anonymous!.profileId }))!.kind).toBe('imported');
			expect(await store.getProfile({ userId: '45' })).toBeNull(); // unsubscribed
			// An Expo token (stored for Expo, by its shape) and a web one without keys (left).
			expect((await store.getProfile({ userId: '47' }))!.push_tokens.map((d) => [d.provider, d.token])).toEqual([['expo', 'ExponentPushToken[LdUGqlX_u1TW8gw0cYp17A]']]);
		},
	},
};

describe('import fixtures', () => {
	it('each has its case, and a header citing the documentation it follows', () => {
		expect(fixtureNames()).toEqual(Object.keys(CASES).sort());
		for (const name of fixtureNames()) expect(readFixture(name).header.join('\n')).toMatch(/https:\/\/\S+/);
	});
});

describe.each(ENGINES)('[%s] import presets on providers\' exports', (engine) => {
	let t: TestStore;
	beforeEach(async () => {
		t = await openTestStore(engine);
	});
	afterEach(() => t.close());

	it.each(Object.keys(CASES))('%s', async (name) => {
		const { preset, summary } = await importFixture(t.store, name);
		expect(preset.id).toBe(CASES[name].preset);
		const { rows, tokens, imported, skippedExisting, skippedBySource, invalid, byPlatform, skippedBySourceReasons, invalidReasons } = summary;
		expect({ rows, tokens, imported, skippedExisting, skippedBySource, invalid, byPlatform, skippedBySourceReasons, invalidReasons }).toEqual(CASES[name].summary);
		expect(summary).toMatchObject({ source: preset.name, skippedDead: 0, dryRun: false });
		await CASES[name].stored(t.store, await recordsOf(name));
		// Again: every token is known now, and the source's skips and the invalid rows are as before.
		const again = (await importFixture(t.store, name)).summary;
		expect(again).toMatchObject({ imported: 0, skippedExisting: imported + skippedExisting, skippedBySource, invalid });
	});
});

describe('Detect From Header', () => {
	it.each(Object.keys(CASES))('%s: its preset alone knows its records (any of them may come first)', async (name) => {
		for (const record of await recordsOf(name)) expect(PRESETS.filter((p) => p.detect(Object.keys(record))).map((p) => p.id)).toEqual([CASES[name].preset]);
	});

	it("this package's layout is read as ours, by no provider's preset", async () => {
		const csv = 'app_id,platform,token,device_id,user_id\ncom.example.app,android,fcm-token-1:APA91bxxxxxxxxxxxxxxxxxxxx,dev-1,kim\n';
		const { preset } = await detectPreset(readCsv([csv]));
		expect(preset.id).toBe('package');
		for (const keys of [['appId', 'platform', 'token', 'deviceId', 'userId', 'provider', 'environment'], ['token', 'external_id'], ['push_token', 'external_id', 'platform']]) {
			expect(PRESETS.filter((p) => p.detect(keys)).map((p) => p.id)).toEqual(['package']);
		}
	});

	it('an unknown header is an UnknownSourceError naming the columns', async () => {
		await expect(detectPreset(readCsv(['name,email,phone\nKim,kim@example.com,+15555550100\n']))).rejects.toThrow(UnknownSourceError);
		await expect(detectPreset(readJson(['{"identifier":"x"}\n']))).rejects.toThrow(/no import preset knows these columns: identifier;/);
	});
});

describe('preset details', () => {
	const read = (id: string, record: Rec) => [...reader(presetById(id)!, { appId: APP })(record)];
	const apns = 'a'.repeat(64);

	it('OneSignal CSV: columns named as exports vary them, and test_type where the export has it', () => {
		expect(presetById('onesignal')!.detect(['Identifier', 'Device Type', 'External User ID'])).toBe(true);
		expect(read('onesignal', { Identifier: apns, 'Device Type': ' 0 ', 'External User ID': 'kim', test_type: '1' })).toEqual([
			{ appId: APP, platform: 'ios', token: apns, userId: 'kim', environment: 'sandbox' },
		]);
		expect(read('onesignal', { identifier: apns, device_type: '0', external_user_id: '', external_id: 'lee', test_type: '2' })[0]).toMatchObject({ userId: 'lee', environment: 'production' });
		expect(read('onesignal', { identifier: apns, device_type: 'ios' })).toEqual([new UnreadableRow('device_type: expected a OneSignal device type code, got "ios"')]);
	});

	it('OneSignal: the time zone from timezone_id, else from a whole-hour offset as an Etc zone; the language canonical', () => {
		const zone = (row: Rec) => (read('onesignal', { identifier: apns, device_type: '0', ...row })[0] as Rec).timeZone;
		expect(zone({ timezone: '32400' })).toBe('Etc/GMT-9'); // UTC+9
		expect(zone({ timezone: '-18000' })).toBe('Etc/GMT+5');
		expect(zone({ timezone: '0' })).toBe('UTC');
		expect(zone({ timezone: '19800' })).toBeUndefined(); // UTC+5:30: no Etc zone
		expect(zone({ timezone: '3600', timezone_id: 'europe/paris' })).toBe('Europe/Paris');
		expect(read('onesignal', { identifier: apns, device_type: '0', language: 'pt-br' })[0]).toMatchObject({ language: 'pt-BR' });
	});

	it('a time zone or language an export has that Intl does not know is left out, not the token', () => {
		const user = { external_id: 'kim', time_zone: 'GMT+05:30', language: 'not a tag', push_tokens: [{ platform: 'iOS', token: apns }] };
		expect(read('braze', user)).toEqual([{ appId: APP, platform: 'ios', token: apns, userId: 'kim' }]);
		expect(read('onesignal', { identifier: apns, device_type: '0', timezone_id: 'Mars/Olympus' })[0]).not.toHaveProperty('timeZone', expect.anything());
	});

	it("this package's layout and Map Columns read time_zone and language as the schema checks them", () => {
		const row = { token: apns, platform: 'ios', time_zone: 'Mars/Olympus', language: 'fr-ca' };
		expect(read('package', row)).toEqual([{ appId: APP, platform: 'ios', token: apns, timeZone: 'Mars/Olympus', language: 'fr-ca' }]);
		expect(ImportRow.safeParse(read('package', row)[0]).error?.issues).toEqual([expect.objectContaining({ path: ['timeZone'], message: 'expected timeZone as an IANA time zone name such as Europe/Paris, got "Mars/Olympus"' })]);
		expect(ImportRow.parse(read('package', { ...row, timeZone: 'asia/tokyo' })[0])).toMatchObject({ timeZone: 'Asia/Tokyo', language: 'fr-CA' });
		const mapped = [...reader(mapColumns({ token: 'push', timeZone: 'tz', language: 'lang' }), { appId: APP, platform: 'ios' })({ push: apns, tz: 'Europe/Paris', lang: 'fr' })];
		expect(mapped).toEqual([{ appId: APP, platform: 'ios', token: apns, timeZone: 'Europe/Paris', language: 'fr' }]);
	});

	it('Customer.io: a status or a flag where the export nests it', () => {
		expect(read('customerio', { customer: { id: '1', devices: [{ id: apns, platform: 'iOS', attributes: { _last_status: 'suppressed' } }] } })).toEqual([
			new SourceSkip('device suppressed (its last two pushes bounced)', 'ios', undefined),
		]);
		expect(read('customerio', { customer: { id: '1', attributes: { unsubscribed: 'true' }, devices: [{ id: apns, platform: 'ios' }] } })).toEqual([new SourceSkip('customer unsubscribed', 'ios', undefined)]);
	});

	it('lists that are none, and items that are no objects, are unreadable rows naming the field', () => {
		expect(read('braze', { external_id: 'kim', push_tokens: 'abc' })).toEqual([new UnreadableRow('push_tokens: expected a list, got "abc"')]);
		expect(read('airship', { ok: true, channels: [5] })).toEqual([new UnreadableRow('channels: expected each item to be an object, got a number')]);
		expect(read('onesignal', { identity: {}, subscriptions: [{ token: apns }] })).toEqual([new UnreadableRow("subscriptions: expected each subscription's type, got nothing")]);
	});
});

/** Values no export should hold, each put in every place of a real record. */
const GARBAGE: unknown[] = [null, '', ' ', 'garbage', 'constructor', '__proto__', -1, 0, 1.5, 1e308, true, false, [], [null, 1, 'x'], {}, { endpoint: 5 }];

/** Copies of a record with the value at one path (every path, nested ones too) replaced by `value`. */
function* mutations(record: unknown, value: unknown): Generator<unknown> {
	yield value;
	if (Array.isArray(record)) {
		for (let i = 0; i < record.length; i++) for (const m of mutations(record[i], value)) yield record.map((item, j) => (j === i ? m : item));
	} else if (typeof record === 'object' && record !== null) {
		for (const key of Object.keys(record)) for (const m of mutations((record as Rec)[key], value)) yield { ...record, [key]: m };
	}
}

describe('presets on garbage', () => {
	it.each(PRESETS.map((p) => p.id))('%s: any value in any place of a real record: its reading, and the schema on what it reads, never throw', async (id) => {
		const preset = PRESETS.find((p) => p.id === id)!;
		const samples = (await Promise.all(Object.keys(CASES).map(recordsOf))).flat();
		const read = reader(preset, { appId: APP });
		let outputs = 0;
		for (const sample of samples) {
			for (const value of GARBAGE) {
				for (const record of mutations(sample, value)) {
					for (const out of read(record)) {
						outputs++;
						if (out instanceof SourceSkip || out instanceof UnreadableRow) continue;
						expect(() => ImportRow.safeParse(out)).not.toThrow();
					}
				}
			}
		}
		expect(outputs).toBeGreaterThan(1000);
	});
});
