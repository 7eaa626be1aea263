import { createECDH } from 'node:crypto';
import { z } from 'zod/v4';
import { decodeBase64url, isP256PublicKey } from './subscription';

export const WebPushConfig = z
	.object({
		subject: z.string().regex(/^(mailto:|https:\/\/)/, 'expected the VAPID subject as a mailto: or https:// URL'),
		publicKey: z.string().refine((s) => {
			const key = decodeBase64url(s, 65);
			return key !== null && isP256PublicKey(key);
		}, 'expected the VAPID public key: base64url of an uncompressed P-256 point (65 bytes)'),
		privateKey: z.string().refine((s) => decodeBase64url(s, 32) !== null, 'expected the VAPID private key: base64url of 32 bytes'),
		/** Hosts (name or IP, optionally :port) that may be private or loopback: test servers, internal push services. */
		allowedPrivateHosts: z.array(z.string()).default([]),
		timeoutMs: z.number().int().min(1).default(10_000),
	})
	.superRefine((c, ctx) => {
		const privateKey = decodeBase64url(c.privateKey, 32);
		const publicKey = decodeBase64url(c.publicKey, 65);
		if (!privateKey || !publicKey) return;
		let derived: Buffer;
		try {
			const ecdh = createECDH('prime256v1');
			ecdh.setPrivateKey(privateKey);
			derived = ecdh.getPublicKey();
		} catch {
			return ctx.addIssue({ code: 'custom', path: ['privateKey'], message: 'expected the VAPID private key: not a valid P-256 private key' });
		}
		if (!derived.equals(publicKey)) ctx.addIssue({ code: 'custom', path: ['publicKey'], message: 'does not match the private key' });
	});

export function credentialConfig(data: Record<string, unknown>): z.input<typeof WebPushConfig> {
	return {
		subject: String(data.subject ?? '').trim(),
		publicKey: String(data.publicKey ?? '').trim(),
		privateKey: String(data.privateKey ?? '').trim(),
		allowedPrivateHosts: String(data.allowedPrivateHosts ?? '')
			.split(',')
			.map((h) => h.trim())
			.filter(Boolean),
	};
}

/** Hosts that name no one reachable: Apple's push service refuses a VAPID subject on them. */
const LOCAL_ONLY = /(^|\.)(localhost|local|invalid)\.?$/i;

/**
 * The credential test's check of the subject: Apple answers a subject on localhost, .local or
 * .invalid with 403 BadJwtToken for every push. Only the test refuses it (other push services
 * accept it, so sends that work today keep working).
 */
export async function checkSubject(config: z.input<typeof WebPushConfig>): Promise<string> {
	const subject = config.subject;
	const host = subject.startsWith('mailto:') ? subject.slice('mailto:'.length).split('@').pop()?.split(/[?>]/)[0] : URL.canParse(subject) ? new URL(subject).hostname : undefined;
	if (host && LOCAL_ONLY.test(host)) throw new Error(`subject: expected a host Apple accepts, not ${host.toLowerCase()} (Apple refuses a subject on localhost, .local or .invalid with 403 BadJwtToken)`);
	return 'The keys are well formed and Apple accepts the subject; the push services check the keys on the first push';
}
