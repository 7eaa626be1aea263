/**
 * OneSignal: its CSV export of subscriptions (a row per subscription, the channel a device_type
 * code) and the users of its User Model API as JSON (one user per line: identity, subscriptions,
 * each with a type). Both name a subscription's channel, which decides its platform or why the
 * import leaves it; the rest of a subscription is read the same way from either. The device's
 * language, and its time zone: timezone_id (an IANA name: the User Model's properties, an extra
 * field of the CSV), else the CSV's timezone (an offset in seconds; a whole hour as an Etc zone).
 * https://documentation.onesignal.com/reference/csv-export, https://documentation.onesignal.com/reference/view-user
 */
import { describe } from '../../text';
import { UnreadableRow } from '../sources';
import { candidate, each, flag, given, hasColumns, integer, isObject, locale, lookup, SourceSkip, webSubscription, type ImportPreset, type PresetDefaults, type PresetOutput } from './preset';

type Platform = 'ios' | 'android' | 'web';

/** Subscription types (the User Model's names) to their platform, or why the import leaves them. */
const CHANNELS = new Map<string, Platform | SourceSkip>([
	['iOSPush', 'ios'],
	['AndroidPush', 'android'],
	['ChromePush', 'web'],
	['FirefoxPush', 'web'],
	['SafariPush', 'web'], // Safari 16+ subscribes through Web Push
	['SafariLegacyPush', new SourceSkip('legacy Safari push (APNs website push, not Web Push)', 'web', 'safari')],
	['FireOSPush', new SourceSkip('Amazon Fire OS push (ADM, no provider here)', 'android', 'adm')],
	['HuaweiPush', new SourceSkip('Huawei push (HMS, no provider here)', 'android', 'hms')],
	['Email', new SourceSkip('email subscription (not push)')],
	['SMS', new SourceSkip('SMS subscription (not push)')],
]);

/**
 * The CSV's device_type codes (the Player model's) by the type they are now (3, Windows Phone, and
 * 10, Alexa, have none: named here). 7 is legacy Safari unless its identifier is a Web Push
 * endpoint; 17 is Safari through Web Push.
 */
const TYPE_OF_CODE = new Map<number, string>([
	[0, 'iOSPush'], [1, 'AndroidPush'], [2, 'FireOSPush'], [3, 'WindowsPhonePush'], [4, 'ChromeExtensionPush'], [5, 'ChromePush'], [6, 'WindowsPush'],
	[7, 'SafariLegacyPush'], [8, 'FirefoxPush'], [9, 'macOSPush'], [10, 'AlexaPush'], [11, 'Email'], [13, 'HuaweiPush'], [14, 'SMS'], [17, 'SafariPush'],
]);

/** test_type (iOS): the provisioning profile the app was built with. Ad Hoc builds get production tokens; App Store builds omit it. */
const ENVIRONMENT_OF_TEST_TYPE = new Map([[1, 'sandbox'], [2, 'production']]);

/** One subscription, from either export. */
interface Subscription {
	type: string;
	token: unknown;
	p256dh: unknown;
	auth: unknown;
	invalid?: unknown;
	notificationTypes: unknown;
	enabled?: unknown;
	testType: unknown;
	timeZone: unknown;
	language: unknown;
}

/**
 * The CSV's timezone, seconds east of UTC, as the Etc zone of that whole hour (whose sign is
 * inverted: UTC+9 is Etc/GMT-9); an offset of no whole hour has none. An offset has no daylight
 * saving: a New York device exported in winter stays at UTC-5 in summer until the app registers.
 */
function offsetZone(seconds: unknown): string | undefined {
	const offset = integer(seconds);
	if (offset === undefined || offset % 3600 !== 0) return undefined;
	const hours = offset / 3600;
	if (hours === 0) return 'UTC';
	return hours >= -12 && hours <= 14 ? `Etc/GMT${hours > 0 ? '-' : '+'}${Math.abs(hours)}` : undefined;
}

function readSubscription(s: Subscription, userId: unknown, defaults: PresetDefaults): PresetOutput {
	const platform = CHANNELS.get(s.type) ?? new SourceSkip(`unsupported OneSignal channel ${describe(s.type)}`);
	if (platform instanceof SourceSkip) return platform;
	if (flag(s.invalid)) return new SourceSkip('token marked invalid by OneSignal (invalid_identifier)', platform);
	if (flag(s.enabled) === false) return new SourceSkip('subscription disabled (enabled false)', platform);
	// Below zero: unsubscribed, never subscribed, or disabled (-2, -99, -31…); the CSV's only word on it.
	if ((integer(s.notificationTypes) ?? 0) < 0) return new SourceSkip('unsubscribed (notification_types below 0)', platform);
	return candidate(defaults, {
		platform,
		token: platform === 'web' ? webSubscription(s.token, s.p256dh, s.auth) : s.token,
		userId: given(userId),
		environment: platform === 'ios' ? ENVIRONMENT_OF_TEST_TYPE.get(integer(s.testType) ?? 0) : undefined,
		...locale(s.timeZone, s.language),
	});
}

/** A CSV row: one subscription. */
function readCsvRow(row: Record<string, unknown>, defaults: PresetDefaults): PresetOutput {
	const code = integer(lookup(row, 'device_type'));
	if (code === undefined) return new UnreadableRow(`device_type: expected a OneSignal device type code, got ${describe(lookup(row, 'device_type'))}`);
	const identifier = lookup(row, 'identifier');
	const type = code === 7 && typeof identifier === 'string' && /^https:\/\//i.test(identifier.trim()) ? 'SafariPush' : (TYPE_OF_CODE.get(code) ?? `device_type ${code}`);
	const subscription = {
		type,
		token: identifier,
		p256dh: lookup(row, 'web_p256'),
		auth: lookup(row, 'web_auth'),
		invalid: lookup(row, 'invalid_identifier'),
		notificationTypes: lookup(row, 'notification_types'),
		testType: lookup(row, 'test_type'),
		timeZone: given(lookup(row, 'timezone_id')) ?? offsetZone(lookup(row, 'timezone')),
		language: lookup(row, 'language'),
	};
	return readSubscription(subscription, given(lookup(row, 'external_user_id')) ?? lookup(row, 'external_id'), defaults);
}

/** A user of the User Model: a token per push subscription. */
function* readUser(user: Record<string, unknown>, defaults: PresetDefaults): Generator<PresetOutput> {
	const userId = isObject(user.identity) ? user.identity.external_id : undefined;
	const { timezone_id: timeZone, language } = isObject(user.properties) ? user.properties : {};
	for (const s of each(user, 'subscriptions')) {
		if (s instanceof UnreadableRow) yield s;
		else if (typeof s.type !== 'string') yield new UnreadableRow(`subscriptions: expected each subscription's type, got ${describe(s.type)}`);
		else yield readSubscription({ type: s.type, token: s.token, p256dh: s.web_p256, auth: s.web_auth, notificationTypes: s.notification_types, enabled: s.enabled, testType: s.test_type, timeZone, language }, userId, defaults);
	}
}

export const oneSignal: ImportPreset = {
	id: 'onesignal',
	name: 'OneSignal Export',
	description: 'The CSV export of subscriptions (identifier, device_type, external_user_id, web_auth, web_p256), or users as JSON (identity, subscriptions)',
	detect: (keys) => hasColumns(keys, 'identifier', 'device_type') || hasColumns(keys, 'identity', 'subscriptions'),
	read: (record, defaults) => (Object.hasOwn(record, 'subscriptions') || Object.hasOwn(record, 'identity') ? readUser(record, defaults) : [readCsvRow(record, defaults)]),
};
