import { createPrivateKey } from 'node:crypto';
import { z } from 'zod/v4';
import type { ProviderData } from '../../types';

export const APNS_ENVIRONMENTS = ['production', 'sandbox'] as const;
export type ApnsEnvironment = (typeof APNS_ENVIRONMENTS)[number];

export const isApnsEnvironment = (value: unknown): value is ApnsEnvironment => (APNS_ENVIRONMENTS as readonly unknown[]).includes(value);

/** A device's environment, from its data (`{ environment }`); null when it said none. */
export const environmentOf = (data: ProviderData | null): ApnsEnvironment | null => (isApnsEnvironment(data?.environment) ? data.environment : null);

const keyId = z.string().regex(/^[A-Z0-9]{10}$/, 'expected a 10-character key ID');
const signingKey = z.string().includes('PRIVATE KEY', { message: 'expected the .p8 key (PEM text)' });

export const ApnsConfig = z
	.object({
		teamId: z.string().regex(/^[A-Z0-9]{10}$/, 'expected a 10-character Apple team ID'),
		keyId,
		signingKey,
		/** Apple issues keys for both environments or limited to one (chosen when the key is made). */
		keyEnvironment: z.enum(['all', ...APNS_ENVIRONMENTS]).default('all'),
		/** A key for the environment the first is not limited to (its fields named as the credential's). */
		secondKeyId: keyId.optional(),
		secondSigningKey: signingKey.optional(),
		bundleId: z.string().min(1, 'expected the bundle ID (the APNs topic)'),
		/** The environment of tokens that do not say theirs. */
		defaultEnvironment: z.enum(APNS_ENVIRONMENTS).default('production'),
		requestTimeoutMs: z.number().int().min(1).default(10_000),
	})
	.superRefine((c, ctx) => {
		if ((c.secondKeyId === undefined) !== (c.secondSigningKey === undefined)) {
			ctx.addIssue({ code: 'custom', path: [c.secondKeyId === undefined ? 'secondKeyId' : 'secondSigningKey'], message: 'expected both the second key ID and its signing key, or neither' });
		}
		if (c.secondKeyId !== undefined && c.keyEnvironment === 'all') {
			ctx.addIssue({ code: 'custom', path: ['keyEnvironment'], message: 'expected the first key limited to production or sandbox when a second key is set (the second key serves the other environment)' });
		}
	});
export type ApnsConfigOutput = z.output<typeof ApnsConfig>;

/** The key that signs for an environment, or null when the credential has none for it. */
export function keyFor(config: ApnsConfigOutput, environment: ApnsEnvironment): { keyId: string; signingKey: string } | null {
	if (config.keyEnvironment === 'all' || config.keyEnvironment === environment) return { keyId: config.keyId, signingKey: config.signingKey };
	return config.secondKeyId && config.secondSigningKey ? { keyId: config.secondKeyId, signingKey: config.secondSigningKey } : null;
}

/** Throws, naming the field, unless each key is an EC P-256 private key (what APNs signs with). */
export function checkKeys(config: ApnsConfigOutput): void {
	checkKey(config.signingKey, 'Signing Key');
	if (config.secondSigningKey) checkKey(config.secondSigningKey, 'Second Signing Key');
}

function checkKey(pem: string, field: string): void {
	let key;
	try {
		key = createPrivateKey(pem);
	} catch {
		// OpenSSL's own words ("DECODER routines::unsupported") say neither the field nor what is expected.
		throw new Error(`${field}: expected the EC P-256 private key of a .p8 file (PEM text); this one cannot be read`);
	}
	if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error(`${field}: expected the EC P-256 key of a .p8 file`);
}

export function credentialConfig(data: Record<string, unknown>): z.input<typeof ApnsConfig> {
	const text = (field: string) => String(data[field] ?? '').trim();
	const limited = data.keyEnvironment === 'production' || data.keyEnvironment === 'sandbox';
	return {
		teamId: text('teamId'),
		keyId: text('keyId'),
		signingKey: String(data.signingKey ?? ''),
		keyEnvironment: limited ? (data.keyEnvironment as ApnsEnvironment) : 'all',
		// (read only when the first key is limited: the credential shows the second key's fields only then)
		...(limited && text('secondKeyId') ? { secondKeyId: text('secondKeyId') } : {}),
		...(limited && text('secondSigningKey') ? { secondSigningKey: String(data.secondSigningKey) } : {}),
		bundleId: text('bundleId'),
		defaultEnvironment: data.environment === 'sandbox' ? 'sandbox' : 'production',
	};
}
