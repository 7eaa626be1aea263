/** The Expo push message (docs.expo.dev/push-notifications/sending-notifications, "Message request format"), without its `to`. */
import { z } from 'zod/v4';
import { customPairs, INTERRUPTION_LEVELS, optionalText, type MessageBase } from '../../payload/base';

export const ExpoOptions = z.object({
	/** Expo's `ttl`: how long APNs and FCM keep trying, in seconds. */
	ttlSeconds: z.number().int().min(0).max(2_419_200, 'expected an Expo TTL of at most 28 days').optional(),
	priority: z.enum(['default', 'normal', 'high']).optional(),
	/** Android: the notification channel. */
	channelId: optionalText('a channel id', 200),
	/** The notification category (its action buttons). */
	categoryId: optionalText('a category id', 200),
	/** iOS: a notification service extension may change the push. */
	mutableContent: z.boolean().optional(),
	interruptionLevel: z.enum(INTERRUPTION_LEVELS).optional(),
});
export type ExpoMessageInput = MessageBase & { expo: z.output<typeof ExpoOptions> };

/** Expo's limit on the whole message. */
export const EXPO_PAYLOAD_LIMIT = 4096;

export function expoMessage(message: ExpoMessageInput) {
	const data = customPairs(message);
	const options = message.expo;
	return {
		// A silent push: data only, and iOS wakes the app for it.
		...(message.silent ? { _contentAvailable: true } : { title: message.title, subtitle: message.subtitle, body: message.body, sound: message.sound, badge: message.badge }),
		...(Object.keys(data).length ? { data } : {}),
		ttl: options.ttlSeconds,
		priority: options.priority,
		channelId: options.channelId,
		categoryId: options.categoryId,
		interruptionLevel: options.interruptionLevel,
		...(message.imageUrl && !message.silent ? { richContent: { image: message.imageUrl } } : {}),
		// An image on iOS is downloaded by the app's notification service extension.
		mutableContent: options.mutableContent || (message.imageUrl && !message.silent) ? true : undefined,
	};
}

/** The message as sent (undefined fields dropped by JSON), measured against EXPO_PAYLOAD_LIMIT. */
export const expoPayloadBytes = (message: ExpoMessageInput) => Buffer.byteLength(JSON.stringify(expoMessage(message)));
