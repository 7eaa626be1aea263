import { createPrivateKey } from 'node:crypto';
import { z } from 'zod/v4';
import { ValidationError } from '../../errors';

export const FcmConfig = z.object({
	projectId: z.string().min(1, 'expected the project_id of the service account'),
	tokenUri: z.string().startsWith('https://', 'expected the token_uri as an https:// URL').default('https://oauth2.googleapis.com/token'),
	clientEmail: z.string().min(1, 'expected the client_email of the service account'),
	privateKey: z
		.string()
		.includes('PRIVATE KEY', { message: 'expected the private_key (PEM) of the service account' })
		.refine(isRsaPrivateKey, 'expected the private_key of the service account: an RSA private key in PEM, and this one cannot be read'),
});

function isRsaPrivateKey(pem: string): boolean {
	try {
		return createPrivateKey(pem).asymmetricKeyType === 'rsa';
	} catch {
		return false;
	}
}

/** The FCM config in a service account's JSON key file. */
export function serviceAccountConfig(json: string): z.input<typeof FcmConfig> {
	let account: Record<string, string>;
	try {
		account = JSON.parse(json);
	} catch {
		throw new ValidationError('FCM credential', [{ field: 'Service Account JSON', message: 'expected the JSON key file of the service account' }]);
	}
	return { projectId: account.project_id, clientEmail: account.client_email, privateKey: account.private_key, ...(account.token_uri ? { tokenUri: account.token_uri } : {}) };
}

/** The n8n credential's fields; a missing or non-text one becomes empty, so its error says which key of the file it is. */
export function credentialConfig(data: Record<string, unknown>): z.input<typeof FcmConfig> {
	const config = serviceAccountConfig(String(data.serviceAccountJson ?? ''));
	const text = (value: unknown) => (typeof value === 'string' ? value : '');
	return { ...config, projectId: text(config.projectId), clientEmail: text(config.clientEmail), privateKey: text(config.privateKey) };
}
