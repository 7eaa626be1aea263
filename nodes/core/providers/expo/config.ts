import { z } from 'zod/v4';

export const ExpoConfig = z.object({
	/**
	 * Needed only when the Expo project has push security on ("Enhanced Security for Push
	 * Notifications"); without it anyone holding a token may send to it.
	 */
	accessToken: z
		.string({ error: 'expected the access token as text' })
		.regex(/^[\x21-\x7e]{1,1000}$/, 'expected an Expo access token: up to 1000 characters, no spaces or line breaks')
		.optional(),
	/** The whole exchange of one request (the SDK's HTTP client waits minutes by default). */
	requestTimeoutMs: z.number().int().min(1).default(10_000),
	/** The SDK sends a request Expo answered 429 again twice, first after this long, then twice as long. */
	retryMinTimeoutMs: z.number().int().min(0).default(1000),
});
export type ExpoConfigOutput = z.output<typeof ExpoConfig>;

export function credentialConfig(data: Record<string, unknown>): z.input<typeof ExpoConfig> {
	const accessToken = typeof data.accessToken === 'string' ? data.accessToken.trim() : '';
	return accessToken ? { accessToken } : {};
}
