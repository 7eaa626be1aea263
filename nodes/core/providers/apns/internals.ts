/**
 * The one place apns2's internals are reached. apns2 12 sends through an undici Pool, which
 * destroys its connection on GOAWAY (the answers the server still sends for the streams below
 * its last stream id are lost) and ignores apns2's own `requestTimeout`. Its requests go to our
 * HTTP/2 connections instead (../http2), each with our timeout; apns2 keeps building, signing
 * and reading them. Written against WRITTEN_FOR; test/core/library-internals.test.ts fails,
 * naming this file, when the installed version differs or the client moved.
 */
import type { ApnsClient } from 'apns2';
import type { Http2Origin } from '../http2';

export const LIBRARY = 'apns2';
export const WRITTEN_FOR = '12.2.0';

/** What is missing of the internals this package uses, or null. */
export function missingInternals(client: unknown): string | null {
	const holder = client as { client?: { request?: unknown } } | undefined;
	return typeof holder?.client?.request === 'function' ? null : `${LIBRARY}: its HTTP client (ApnsClient.client.request) is not where this package expects it (written for ${LIBRARY} ${WRITTEN_FOR}; see nodes/core/providers/apns/internals.ts)`;
}

export function onOurConnections(client: ApnsClient, origin: Http2Origin, timeoutMs: number): void {
	const missing = missingInternals(client);
	if (missing) throw new Error(missing);
	const holder = client as unknown as { client: { request: unknown; close?: () => Promise<void> } };
	void holder.client.close?.().catch(() => undefined); // undici's pool, never used
	holder.client = {
		async request(options: { path: string; method: string; headers: Record<string, string>; body?: string }) {
			const answer = await origin.request({ ':method': options.method, ':path': options.path, ...options.headers }, options.body, timeoutMs);
			const text = answer.body.toString('utf8');
			return { statusCode: answer.status, headers: answer.headers, body: { json: async () => JSON.parse(text), text: async () => text } };
		},
		close: () => origin.close(),
		destroy: () => origin.close(),
	} as typeof holder.client;
}
