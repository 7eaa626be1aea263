/** The FCM v1 message: `data` values must be strings (anything else is JSON-serialised on purpose). */
import { z } from 'zod/v4';
import { customPairs, optionalText, type MessageBase } from '../../payload/base';

export const FcmOptions = z.object({
	priority: z.enum(['high', 'normal']).optional(),
	ttlSeconds: z.number().int().min(0).max(2_419_200, 'expected an FCM TTL of at most 28 days').optional(),
	collapseKey: optionalText('a collapse key', 200),
	channelId: optionalText('a channel id', 200),
	/** Only `data`, no `notification`: the app renders it (legacy receivers). */
	dataOnly: z.boolean().optional(),
});
export type FcmMessageInput = MessageBase & { fcm: z.output<typeof FcmOptions> };

export const FCM_PAYLOAD_LIMIT = 4096;

/** FCM data values are strings: strings stay, everything else is JSON. */
export function fcmData(pairs: Record<string, unknown>): Record<string, string> {
	return Object.fromEntries(Object.entries(pairs).flatMap(([key, value]) => (value === undefined ? [] : [[key, typeof value === 'string' ? value : JSON.stringify(value)]])));
}

/** The FCM v1 message, without its target (a `token` or an `fid`). */
export function fcmMessage(message: FcmMessageInput) {
	const data = fcmData(customPairs(message));
	const visible = !message.silent && !message.fcm.dataOnly;
	return {
		...(visible ? { notification: { title: message.title, body: message.body, imageUrl: message.imageUrl } } : {}),
		...(Object.keys(data).length ? { data } : {}),
		android: {
			priority: message.fcm.priority ?? (message.silent ? 'normal' : 'high'),
			...(message.fcm.ttlSeconds !== undefined ? { ttl: message.fcm.ttlSeconds * 1000 } : {}),
			...(message.fcm.collapseKey ? { collapseKey: message.fcm.collapseKey } : {}),
			...(visible && (message.fcm.channelId || message.sound) ? { notification: { channelId: message.fcm.channelId, sound: message.sound } } : {}),
		},
	};
}
