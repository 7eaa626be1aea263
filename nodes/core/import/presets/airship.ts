/**
 * Airship: channels as its Channels API lists them, one JSON object per line: a page of the
 * listing ({ ok, channels, next_page }), one channel looked up ({ ok, channel }), or a channel alone.
 * https://docs.airship.com/developer/rest-api/ua/operations/channels, https://docs.airship.com/developer/rest-api/ua/schemas/channels
 */
import { describe } from '../../text';
import { UnreadableRow } from '../sources';
import { candidate, each, flag, given, hasColumns, isObject, lowerText, SourceSkip, webSubscription, type ImportPreset, type PresetDefaults, type PresetOutput } from './preset';

/** Airship's device types to their platform, or why the import leaves them. */
const DEVICE_TYPES = new Map<string, 'ios' | 'android' | 'web' | SourceSkip>([
	['ios', 'ios'],
	['android', 'android'],
	['web', 'web'],
	['amazon', new SourceSkip('Amazon Fire OS channel (ADM, no provider here)', 'android', 'adm')],
	['email', new SourceSkip('email channel (not push)')],
	['sms', new SourceSkip('SMS channel (not push)')],
	['open', new SourceSkip('open channel (not push)')],
]);

function readChannel(channel: Record<string, unknown>, defaults: PresetDefaults): PresetOutput {
	const type = lowerText(channel.device_type);
	if (type === undefined) return new UnreadableRow(`device_type: expected an Airship device type, got ${describe(channel.device_type)}`);
	const platform = DEVICE_TYPES.get(type) ?? new SourceSkip(`unsupported Airship device type ${describe(channel.device_type)}`);
	if (platform instanceof SourceSkip) return platform;
	if (flag(channel.installed) === false) return new SourceSkip('app uninstalled (installed false)', platform);
	if (flag(channel.opt_in) === false) return new SourceSkip('opted out of push (opt_in false)', platform);
	// A web channel's push_address is its endpoint; its keys are under web.subscription.
	const keys = isObject(channel.web) && isObject(channel.web.subscription) ? channel.web.subscription : {};
	return candidate(defaults, {
		platform,
		token: platform === 'web' ? webSubscription(channel.push_address, keys.p256dh, keys.auth) : channel.push_address,
		userId: given(channel.named_user_id),
	});
}

/** The channels one line holds. */
function* channelsOf(record: Record<string, unknown>): Generator<Record<string, unknown> | UnreadableRow> {
	if (Object.hasOwn(record, 'channels')) yield* each(record, 'channels');
	else if (Object.hasOwn(record, 'channel')) yield isObject(record.channel) ? record.channel : new UnreadableRow(`channel: expected a channel object, got ${describe(record.channel)}`);
	else yield record;
}

export const airship: ImportPreset = {
	id: 'airship',
	name: 'Airship Channels',
	description: 'Channels as the Channels API lists them (channel_id, device_type, push_address, named_user_id), pages { ok, channels } or single channels, as JSON',
	detect: (keys) => hasColumns(keys, 'channel_id', 'device_type') || hasColumns(keys, 'ok', 'channels') || hasColumns(keys, 'ok', 'channel'),
	*read(record, defaults) {
		for (const channel of channelsOf(record)) yield channel instanceof UnreadableRow ? channel : readChannel(channel, defaults);
	},
};
