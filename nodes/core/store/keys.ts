/** The keys the store derives from a device's app id and token. */
import { createHash } from 'node:crypto';

/** One key for a token of an app (tokens are unique per app, not across apps). */
export const tokenKey = (appId: string, token: string) => `${appId}\u0000${token}`;

/**
 * A device in the send log: 53 bits of the SHA-256 of its app and token (a safe integer on both
 * engines; two devices of one send share a key with odds of about n² / 2⁵⁴, and then the second
 * is taken for reached).
 */
export function sendLogKey(appId: string, token: string): number {
	return Number(createHash('sha256').update(tokenKey(appId, token)).digest().readBigUInt64BE(0) >> 11n);
}
