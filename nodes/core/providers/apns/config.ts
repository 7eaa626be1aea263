import { createPrivateKey } from 'node:crypto';
import { z } from 'zod/v4';

export const ApnsConfig = z.object({
	teamId: z.string().regex(/^[A-Z0-9]{10}$/, 'expected a 10-character Apple team ID'),
	keyId: z.string().regex(/^[A-Z0-9]{10}$/, 'expected a 10-character key ID'),
	signingKey: z.string().includes('PRIVATE KEY', { message: 'expected the .p8 key (PEM text)' }),
	bundleId: z.string().min(1, 'expected the bundle ID (the APNs topic)'),
	/** The environment of tokens that do not say theirs. */
	defaultEnvironment: z.enum(['production', 'sandbox']).default('production'),
	requestTimeoutMs: z.number().int().min(1).default(10_000),
});

/** Throws, naming the field, unless the key is an EC P-256 private key (what APNs signs with). */
export function checkKey(pem: string): void {
	let key;
	try {
		key = createPrivateKey(pem);
	} catch {
		// OpenSSL's own words ("DECODER routines::unsupported") say neither the field nor what is expected.
		throw new Error('Signing Key: expected the EC P-256 private key of a .p8 file (PEM text); this one cannot be read');
	}
	if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error('Signing Key: expected the EC P-256 key of a .p8 file');
}

export function credentialConfig(data: Record<string, unknown>): z.input<typeof ApnsConfig> {
	return {
		teamId: String(data.teamId ?? '').trim(),
		keyId: String(data.keyId ?? '').trim(),
		signingKey: String(data.signingKey ?? ''),
		bundleId: String(data.bundleId ?? '').trim(),
		defaultEnvironment: data.environment === 'sandbox' ? 'sandbox' : 'production',
	};
}
