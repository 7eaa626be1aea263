/**
 * The one place firebase-admin's internals are reached: Messaging's own path for one message of
 * sendEach (its auth, its request, its error codes) on an HTTP/2 session we give it, and its
 * validateMessage. Written against WRITTEN_FOR; test/core/library-internals.test.ts fails, naming
 * this file, when the installed version differs or the internals moved.
 */
import { createRequire } from 'node:module';
import type { App } from 'firebase-admin/app';
import { getMessaging } from 'firebase-admin/messaging';

export const LIBRARY = 'firebase-admin';
export const WRITTEN_FOR = '14.5.1';

export interface Messaging {
	getUrlPath(): Promise<string>;
	messagingRequestHandler: {
		http2Client: { retry: { ioErrorCodes?: string[] } | null };
		invokeHttp2RequestHandlerForSendResponse(host: string, path: string, request: object, handler: { readonly session: unknown }): Promise<{ success: boolean; messageId?: string; error?: unknown }>;
	};
	/** firebase-admin's own check of a message (exactly one target, the field types). */
	validate(message: object): void;
}

/** What is missing of the internals this package uses, or null. */
export function missingInternals(messaging: unknown, internal: unknown): string | null {
	const m = messaging as Partial<Messaging> | undefined;
	const handler = m?.messagingRequestHandler;
	const missing = [
		typeof m?.getUrlPath !== 'function' && 'Messaging.getUrlPath()',
		typeof handler?.invokeHttp2RequestHandlerForSendResponse !== 'function' && 'messagingRequestHandler.invokeHttp2RequestHandlerForSendResponse()',
		!handler?.http2Client?.retry && 'messagingRequestHandler.http2Client.retry',
		typeof (internal as { validateMessage?: unknown } | undefined)?.validateMessage !== 'function' && 'messaging-internal validateMessage()',
	].filter(Boolean);
	return missing.length ? `${LIBRARY}: ${missing.join(', ')} not where this package expects them (written for ${LIBRARY} ${WRITTEN_FOR}; see nodes/core/providers/fcm/internals.ts)` : null;
}

/**
 * The app's Messaging with its resending of requests cut off by a reset or a timeout turned off
 * (it would push twice when the first one was processed); a 503 it still retries (never processed).
 */
export function messagingOf(app: App): Messaging {
	const messaging = getMessaging(app) as unknown as Messaging;
	const internal = createRequire(require.resolve('firebase-admin'))('./messaging/messaging-internal') as { validateMessage: (message: object) => void };
	const missing = missingInternals(messaging, internal);
	if (missing) throw new Error(missing);
	const handler = messaging.messagingRequestHandler;
	handler.http2Client.retry = { ...handler.http2Client.retry, ioErrorCodes: [] };
	return Object.assign(messaging, { validate: internal.validateMessage });
}
