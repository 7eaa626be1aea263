/** The JSON a service worker receives in its push event, and the Web Push headers of a message. */
import { z } from 'zod/v4';
import { customPairs, type MessageBase } from '../../payload/base';

export const WebPushOptions = z.object({
	ttlSeconds: z.number().int().min(0).optional(),
	urgency: z.enum(['very-low', 'low', 'normal', 'high']).optional(),
	topic: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'expected a Web Push topic of 1 to 32 URL-safe characters').optional(),
});
export type WebPushMessageInput = MessageBase & { webpush: z.output<typeof WebPushOptions> };

/** 4096 bytes after encryption, less the aes128gcm overhead (86 + 16 + 1). */
export const WEB_PUSH_PAYLOAD_LIMIT = 3993;

export function webPushBody(message: MessageBase): string {
	return JSON.stringify({
		title: message.title,
		body: message.body,
		image: message.imageUrl,
		badge: message.badge,
		data: customPairs(message),
		silent: message.silent || undefined,
	});
}
