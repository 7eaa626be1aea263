/**
 * The Push Token Store credential, turned into the core's store config; the store opened from it
 * (once per process, shared by every node and execution); and the credential test.
 */
import type {
	ICredentialDataDecryptedObject,
	ICredentialTestFunctions,
	ICredentialsDecrypted,
	IExecuteFunctions,
	INodeCredentialTestResult,
	ITriggerFunctions,
	IWebhookFunctions,
} from 'n8n-workflow';
import { credentialConfig, openStore, TokenStore, type StoreConfig } from '../core';

export const STORE_CREDENTIAL = 'pushTokenStoreApi';

export function storeConfigFromCredential(data: ICredentialDataDecryptedObject): StoreConfig {
	return credentialConfig(data);
}

export async function getStore(context: IExecuteFunctions | ITriggerFunctions | IWebhookFunctions): Promise<TokenStore> {
	const data = await context.getCredentials(STORE_CREDENTIAL);
	return openStore(storeConfigFromCredential(data));
}

/** Opens the store (running its migrations) and closes it again. */
export async function pushTokenStoreConnectionTest(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	try {
		const store = await TokenStore.open(storeConfigFromCredential(credential.data ?? {}));
		const engine = store.engineName;
		await store.close();
		return { status: 'OK', message: `Connected; the ${engine} store is ready` };
	} catch (error) {
		return { status: 'Error', message: redact((error as Error).message, credential.data) };
	}
}

/** Removes every credential secret from a message (drivers may echo a URL or a password). */
export function redact(message: string, data: ICredentialDataDecryptedObject | undefined): string {
	const secrets = [data?.password, data?.url].filter((s): s is string => typeof s === 'string' && s.length >= 4);
	if (typeof data?.url === 'string' && URL.canParse(data.url)) {
		const raw = new URL(data.url).password;
		for (const password of [raw, decodeOrNull(raw)]) if (password && password.length >= 4) secrets.push(password);
	}
	return secrets.reduce((out, secret) => out.split(secret).join('***'), message);
}

function decodeOrNull(text: string): string | null {
	try {
		return decodeURIComponent(text);
	} catch {
		return null;
	}
}
