/** The APNs payload ({ aps, ...custom pairs at the top level }) and the headers that go with it. */
import { z } from 'zod/v4';
import { customPairs, INTERRUPTION_LEVELS, optionalText, type MessageBase } from '../../payload/base';

export const ApnsOptions = z.object({
	priority: z.union([z.literal(5), z.literal(10)]).optional(),
	threadId: optionalText('a thread id', 200),
	category: optionalText('a category', 200),
	mutableContent: z.boolean().optional(),
	interruptionLevel: z.enum(INTERRUPTION_LEVELS).optional(),
	collapseId: z.string().max(64, 'expected an APNs collapse id of at most 64 bytes').optional(),
	/** Seconds since the epoch after which APNs stops trying. */
	expiration: z.number().int().min(0).optional(),
});
export type ApnsMessageInput = MessageBase & { apns: z.output<typeof ApnsOptions> };

export const APNS_PAYLOAD_LIMIT = 4096;

export function apnsPayload(message: ApnsMessageInput) {
	const aps: Record<string, unknown> = {};
	if (message.silent) aps['content-available'] = 1;
	else {
		aps.alert = { title: message.title, subtitle: message.subtitle, body: message.body };
		if (message.sound) aps.sound = message.sound;
		if (message.badge !== undefined) aps.badge = message.badge;
		if (message.apns.threadId) aps['thread-id'] = message.apns.threadId;
		if (message.apns.category) aps.category = message.apns.category;
		if (message.apns.mutableContent || message.imageUrl) aps['mutable-content'] = 1;
		if (message.apns.interruptionLevel) aps['interruption-level'] = message.apns.interruptionLevel;
	}
	const custom = customPairs(message);
	if (message.imageUrl) custom.image_url ??= message.imageUrl;
	return {
		payload: { ...custom, aps },
		pushType: message.silent ? ('background' as const) : ('alert' as const),
		priority: message.apns.priority ?? (message.silent ? 5 : 10),
		collapseId: message.apns.collapseId,
		expiration: message.apns.expiration,
	};
}
