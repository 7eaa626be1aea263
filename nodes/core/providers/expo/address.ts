/** Expo push tokens: `ExponentPushToken[…]`, or `ExpoPushToken[…]` as newer SDKs name them. */
import { describe } from '../../text';
import type { Address, AddressIssue } from '../provider';

/** Real tokens are about 41 characters; this leaves room, well within what both engines index. */
export const EXPO_TOKEN_MAX = 200;

/** What `Expo.isExpoPushToken` accepts in brackets, without spaces, controls or brackets inside. */
const BRACKETED = /^Expo(?:nent)?PushToken\[[\x21-\x5a\x5c\x5e-\x7e]+\]$/;
/** The SDK also takes a bare UUID as a token; it is accepted when Expo is named, never claimed by shape (nothing in it says Expo). */
const UUID = /^[a-z\d]{8}-[a-z\d]{4}-[a-z\d]{4}-[a-z\d]{4}-[a-z\d]{12}$/i;

/** The token when the text has Expo's own shape, else null (what routes a token with no provider named). */
export function expoToken(raw: string): string | null {
	const text = raw.trim();
	return text.length <= EXPO_TOKEN_MAX && BRACKETED.test(text) ? text : null;
}

export function expoAddress(token: unknown): Address | AddressIssue[] {
	if (typeof token !== 'string') return [{ path: [], message: `expected the Expo push token as a string, got ${describe(token)}` }];
	const text = expoToken(token) ?? (UUID.test(token.trim()) ? token.trim() : null);
	if (!text) return [{ path: [], message: `expected an Expo push token (ExponentPushToken[…] or ExpoPushToken[…]), got ${describe(token.trim())}` }];
	return { token: text, kind: 'push-token', data: null };
}
