/**
 * The app endpoint's trust: an app key says "this is our app"; only the app's backend can say
 * "this is user U", with an HMAC of U or a JWT whose `sub` is U (verified by jose, never by hand).
 * Keys are read once per configuration; every comparison of a secret is in constant time.
 */
import { createHash, createHmac, createPublicKey, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { errors as joseErrors, jwtVerify } from 'jose';
import { z } from 'zod/v4';

export const VERIFICATIONS = ['hmac', 'jwt', 'none'] as const;
export type Verification = (typeof VERIFICATIONS)[number];
export const JWT_ALGORITHMS = ['RS256', 'ES256', 'HS256'] as const;

/** The credential's secrets and the panel's choice of verification. */
export const EndpointAuthConfig = z
	.object({
		/** Empty: no app key is asked for (the panel's None). */
		appKey: z.string().default(''),
		verification: z.enum(VERIFICATIONS, { error: `expected verification to be one of ${VERIFICATIONS.join(', ')}` }),
		hmacSecret: z.string().default(''),
		jwtAlgorithm: z.enum(JWT_ALGORITHMS, { error: `expected jwtAlgorithm to be one of ${JWT_ALGORITHMS.join(', ')}` }).default('RS256'),
		/** HS256: the shared secret; RS256 / ES256: the backend's public key (PEM). */
		jwtKey: z.string().default(''),
		jwtIssuer: z.string().default(''),
		jwtAudience: z.string().default(''),
		leewaySeconds: z.number().int().min(0).max(600).default(60),
	})
	.superRefine((c, ctx) => {
		if (c.verification === 'hmac' && c.hmacSecret.length < 16) ctx.addIssue({ code: 'custom', path: ['hmacSecret'], message: 'expected an HMAC secret of at least 16 characters' });
		if (c.verification === 'jwt' && !c.jwtKey.trim()) ctx.addIssue({ code: 'custom', path: ['jwtKey'], message: `expected the JWT ${c.jwtAlgorithm === 'HS256' ? 'secret' : 'public key (PEM)'}` });
	});
export type EndpointAuthConfig = z.input<typeof EndpointAuthConfig>;

/** Why a call is refused: 401 (no or wrong app key) or 403 (no or wrong proof of the user). */
export class Refused extends Error {
	override readonly name = 'Refused';
	constructor(
		readonly status: 401 | 403,
		message: string,
	) {
		super(message);
	}
}

const digest = (text: string) => createHash('sha256').update(text).digest();
/** Equal in constant time (the digests have one length, whatever was sent). */
const same = (given: string, expected: string) => timingSafeEqual(digest(given), digest(expected));

export class EndpointAuth {
	private readonly config: z.output<typeof EndpointAuthConfig>;
	private readonly jwtKey: KeyObject | null;

	constructor(config: EndpointAuthConfig) {
		this.config = EndpointAuthConfig.parse(config);
		const { verification, jwtAlgorithm, jwtKey } = this.config;
		this.jwtKey = verification !== 'jwt' ? null : jwtAlgorithm === 'HS256' ? createSecretKey(Buffer.from(jwtKey, 'utf8')) : publicKey(jwtKey);
	}

	get verification(): Verification {
		return this.config.verification;
	}

	/** The app key of a call (its header's value), or a 401. */
	checkAppKey(given: string | undefined): void {
		if (!this.config.appKey) return;
		if (!given) throw new Refused(401, 'no app key: send it in the X-App-Key header');
		if (!same(given, this.config.appKey)) throw new Refused(401, 'wrong app key');
	}

	/** Checks the proof that the caller is `userId`; with verification none, the caller is whoever it says. */
	async proveUser(userId: string, proof: unknown): Promise<void> {
		const { verification } = this.config;
		if (verification === 'none') return;
		if (typeof proof !== 'string' || proof === '') throw new Refused(403, `no proof of the user: send userProof, the ${verification === 'hmac' ? 'HMAC-SHA256 of the user id (hex)' : 'JWT'} your backend made for this user`);
		if (verification === 'hmac') {
			if (!same(proof.toLowerCase(), createHmac('sha256', this.config.hmacSecret).update(userId, 'utf8').digest('hex'))) throw new Refused(403, 'the user proof does not match the user id');
			return;
		}
		const { jwtAlgorithm, jwtIssuer, jwtAudience, leewaySeconds } = this.config;
		let sub: unknown;
		try {
			const { payload } = await jwtVerify(proof, this.jwtKey!, {
				algorithms: [jwtAlgorithm],
				requiredClaims: ['exp', 'sub'],
				clockTolerance: leewaySeconds,
				...(jwtIssuer ? { issuer: jwtIssuer } : {}),
				...(jwtAudience ? { audience: jwtAudience } : {}),
			});
			sub = payload.sub;
		} catch (error) {
			throw new Refused(403, `the user proof is not a valid JWT: ${jwtReason(error)}`);
		}
		if (sub !== userId) throw new Refused(403, 'the user proof is for another user id');
	}
}

function publicKey(pem: string): KeyObject {
	try {
		return createPublicKey(pem.replace(/\\n/g, '\n'));
	} catch {
		throw new Error('the JWT public key is not a PEM public key');
	}
}

/** jose's reason, in words that say nothing of the key. */
function jwtReason(error: unknown): string {
	if (error instanceof joseErrors.JWTExpired) return 'it has expired';
	if (error instanceof joseErrors.JWTClaimValidationFailed) return `claim ${error.claim} ${error.reason === 'missing' ? 'is missing' : 'is not accepted'}`;
	if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'its algorithm is not the one configured';
	if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'its signature does not verify';
	return 'it cannot be read';
}
