/**
 * OAuth 2.0 for a service account (the JWT-bearer grant), as firebase-admin's cert() does it,
 * over plain https: google-auth-library's fetch is loaded by a dynamic import that some hosts
 * (jest's VM, bundlers) cannot run. The token is cached until 5 minutes before it expires.
 */
import { sign } from 'node:crypto';
import { Agent, request as httpsRequest } from 'node:https';
import type { ConnectionOptions } from 'node:tls';
import type { z } from 'zod/v4';
import { connectTls, proxyFor } from '../../net/proxy';
import type { FcmConfig } from './config';

/** An agent through HTTPS_PROXY for the token endpoint, when one is set for its host; else Node's own. */
function agentFor(uri: string, env: NodeJS.ProcessEnv): Agent | undefined {
	const { hostname: host, port: given } = new URL(uri);
	const port = Number(given || 443);
	const proxy = proxyFor(host, port, env);
	if (!proxy) return undefined;
	return new (class extends Agent {
		override createConnection(options: ConnectionOptions) {
			return connectTls({ ...options, host, port, servername: host }, proxy);
		}
	})();
}

/** How long a token request may take, whichever step it is in (the proxy, TLS, the answer). */
const TOKEN_TIMEOUT_MS = 10_000;

export class ServiceAccountToken {
	private cached?: { access_token: string; expires_in: number; until: number };
	private readonly agent: Agent | undefined;

	constructor(
		private readonly config: z.output<typeof FcmConfig>,
		env: NodeJS.ProcessEnv = process.env,
		private readonly timeoutMs = TOKEN_TIMEOUT_MS,
	) {
		this.agent = agentFor(config.tokenUri, env);
	}

	async getAccessToken(): Promise<{ access_token: string; expires_in: number }> {
		if (this.cached && this.cached.until > Date.now()) return this.cached;
		const iat = Math.floor(Date.now() / 1000);
		const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
		const unsigned = `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ iss: this.config.clientEmail, scope: 'https://www.googleapis.com/auth/firebase.messaging', aud: this.config.tokenUri, iat, exp: iat + 3600 })}`;
		const assertion = `${unsigned}.${sign('sha256', Buffer.from(unsigned), this.config.privateKey).toString('base64url')}`;
		const form = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString();
		const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
			// One deadline for the whole request, whichever step it is in: the socket's idle timeout it
			// replaces took twice its time on a proxy that never answered, and never fired on an answer
			// that came a byte at a time.
			const deadline = setTimeout(() => settle(new Error(`token request timed out (no answer within ${this.timeoutMs} ms)`)), this.timeoutMs);
			const settle = (error: Error | null, answer?: { status: number; body: string }) => {
				clearTimeout(deadline);
				if (error) {
					reject(error);
					req.destroy();
				} else resolve(answer!);
			};
			const req = httpsRequest(this.config.tokenUri, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, agent: this.agent }, (res) => {
				let text = '';
				res.on('data', (c) => (text += c));
				res.on('end', () => settle(null, { status: res.statusCode ?? 0, body: text }));
				res.on('error', settle);
			});
			req.on('error', settle);
			req.end(form);
		});
		const answer = JSON.parse(body || '{}') as { access_token?: string; expires_in?: number; error?: string; error_description?: string };
		if (status !== 200 || !answer.access_token) {
			throw Object.assign(new Error(`the service account was refused by ${new URL(this.config.tokenUri).host}: ${answer.error ?? status} ${answer.error_description ?? ''}`.trim()), { code: 'app/invalid-credential' });
		}
		const expiresIn = answer.expires_in ?? 3600;
		this.cached = { access_token: answer.access_token, expires_in: expiresIn, until: Date.now() + (expiresIn - 300) * 1000 };
		return this.cached;
	}
}
