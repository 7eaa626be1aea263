/** A browser's PushSubscription: its endpoint in the one form it is stored in, and its keys. */
import { createECDH } from 'node:crypto';
import { z } from 'zod/v4';
import { CONTROL } from '../../text';
import type { ProviderData } from '../../types';

/** Exactly `bytes` bytes of strict base64url (re-encoding gives the same text: no stray or ignored characters). */
export function decodeBase64url(text: string, bytes: number): Buffer | null {
	if (!/^[A-Za-z0-9_-]+={0,2}$/.test(text)) return null;
	const decoded = Buffer.from(text, 'base64url');
	return decoded.length === bytes && decoded.toString('base64url') === text.replace(/=+$/, '') ? decoded : null;
}

/** An uncompressed P-256 public key that is a point of the curve (a browser's p256dh, a VAPID public key). */
export function isP256PublicKey(key: Buffer): boolean {
	try {
		const ecdh = createECDH('prime256v1');
		ecdh.setPrivateKey(PROBE_KEY);
		ecdh.computeSecret(key);
		return key[0] === 0x04;
	} catch {
		return false;
	}
}
const PROBE_KEY = Buffer.alloc(32, 1);

const base64url = (what: string, bytes: number) =>
	z.string({ error: `expected ${what} as a base64url string` }).refine((s) => decodeBase64url(s, bytes) !== null, `expected ${what} as a base64url string to decode to ${bytes} bytes`);

/**
 * A Web Push endpoint in the one form it is stored, looked up, tombstoned and posted to: the
 * WHATWG reading (host lower-cased and punycoded, :443 dropped, `https:host` given its slashes,
 * percent-escapes in the host decoded, the root's trailing dot dropped: `push.example.com.` is the
 * same host), percent-escapes of unreserved characters decoded and the rest upper-cased, the
 * fragment dropped. Null when it is no https URL, carries credentials, holds spaces or control
 * characters, or its host has an empty label. What connects is this form, so no parser can read
 * another host.
 */
export function canonicalEndpoint(raw: string): string | null {
	const text = raw.trim();
	if (/\s/.test(text) || CONTROL.test(text) || !URL.canParse(text)) return null;
	const url = new URL(text);
	if (url.protocol !== 'https:' || url.username || url.password || !url.hostname) return null;
	const tidy = (part: string) =>
		part.replace(/%[0-9a-f]{2}/gi, (escape) => {
			const c = String.fromCharCode(parseInt(escape.slice(1), 16));
			return /[A-Za-z0-9._~-]/.test(c) ? c : escape.toUpperCase();
		});
	const host = url.hostname.replace(/\.$/, '');
	if (host.split('.').includes('')) return null;
	return `https://${host}${url.port ? `:${url.port}` : ''}${tidy(url.pathname)}${tidy(url.search)}`;
}

/** Real endpoints are a few hundred characters (FCM and Apple under 250): 1024 leaves room, and fits the index (../../model.ts). Measured as stored (ASCII). */
export const ENDPOINT_MAX = 1024;

export const WebPushSubscription = z.object({
	endpoint: z
		.string({ error: 'expected the subscription endpoint as a string' })
		.transform((s, ctx) => {
			const endpoint = canonicalEndpoint(s);
			if (!endpoint) ctx.addIssue({ code: 'custom', message: 'expected an https:// endpoint URL without credentials, spaces or control characters' });
			else if (endpoint.length > ENDPOINT_MAX) ctx.addIssue({ code: 'custom', message: `expected an endpoint URL of at most ${ENDPOINT_MAX} characters as stored, got ${endpoint.length}` });
			else return endpoint;
			return z.NEVER;
		}),
	keys: z.object(
		{
			p256dh: base64url('keys.p256dh (an uncompressed P-256 public key)', 65).refine((s) => isP256PublicKey(Buffer.from(s, 'base64url')), 'expected keys.p256dh to be a point of the P-256 curve'),
			auth: base64url('keys.auth', 16),
		},
		{ error: 'expected keys { p256dh, auth }' },
	),
});
export type WebPushSubscription = z.infer<typeof WebPushSubscription>;

/** A subscription given as an object or as its JSON text. */
export function asSubscription(value: unknown): unknown {
	if (typeof value !== 'string') return value;
	try {
		return JSON.parse(value);
	} catch {
		return value;
	}
}

/** A device's subscription keys, from its data (`{ p256dh, auth }`); null when it has none. */
export function keysOf(data: ProviderData | null): { p256dh: string; auth: string } | null {
	return typeof data?.p256dh === 'string' && typeof data.auth === 'string' ? { p256dh: data.p256dh, auth: data.auth } : null;
}
