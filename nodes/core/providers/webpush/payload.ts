/** The JSON a service worker receives in its push event, and the Web Push headers of a message. */
import { z } from 'zod/v4';
import { customPairs, type MessageBase } from '../../payload/base';

export const WebPushOptions = z.object({
	ttlSeconds: z.number().int().min(0).optional(),
	urgency: z.enum(['very-low', 'low', 'normal', 'high']).optional(),
	topic: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'expected a Web Push topic of 1 to 32 URL-safe characters').optional(),
	/** Declarative Web Push (Safari 18.4+): the browser shows the notification itself, no service worker needed. */
	declarative: z.boolean().default(false),
});
export type WebPushMessageInput = MessageBase & { webpush: z.output<typeof WebPushOptions> };

/** The member that marks a declarative push message (the Push API's declarative form). */
const DECLARATIVE = 8030;

/** What a declarative push must have: the browser shows it and opens its page with no code of the app's. */
export function declarativeIssues(message: WebPushMessageInput): Array<{ path: string[]; message: string }> {
	if (!message.webpush?.declarative) return [];
	const issues: Array<{ path: string[]; message: string }> = [];
	const https = message.deepLink !== undefined && URL.canParse(message.deepLink) && new URL(message.deepLink).protocol === 'https:';
	if (!https) issues.push({ path: ['deepLink'], message: 'expected deepLink as an https:// URL: a declarative Web Push opens it when the notification is clicked' });
	if (!message.title || message.localized.some((t) => !t.title)) issues.push({ path: ['title'], message: 'expected a title (in every language given): a declarative Web Push always shows a notification' });
	if (message.silent) issues.push({ path: ['silent'], message: 'expected silent off: a declarative Web Push always shows a notification' });
	return issues;
}

/** 4096 bytes after encryption, less the aes128gcm overhead (86 + 16 + 1). */
export const WEB_PUSH_PAYLOAD_LIMIT = 3993;

/**
 * What a service worker receives in its push event; with `declarative`, the declarative form
 * (web_push 8030), which Safari shows without a service worker and others hand to theirs.
 */
export function webPushBody(message: WebPushMessageInput): string {
	if (message.webpush?.declarative) {
		return JSON.stringify({
			web_push: DECLARATIVE,
			notification: { title: message.title, body: message.body, navigate: message.deepLink, image: message.imageUrl, data: customPairs(message) },
			app_badge: message.badge,
		});
	}
	return JSON.stringify({
		title: message.title,
		body: message.body,
		image: message.imageUrl,
		badge: message.badge,
		data: customPairs(message),
		silent: message.silent || undefined,
	});
}
