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
import { expandHome, openStore, TokenStore, type StoreConfig } from '../core';

export const STORE_CREDENTIAL = 'pushTokenStoreApi';

export function storeConfigFromCredential(data: ICredentialDataDecryptedObject): StoreConfig {
	// (absent in credentials saved before the option: no cap)
	const maxDevicesPerUser = Number(data.maxDevicesPerUser ?? 0);
	if (data.engine !== 'postgres') {
		return { engine: 'sqlite', path: expandHome(String(data.path || '~/.n8n/push-tokens.sqlite')), maxDevicesPerUser };
	}
	const ssl = data.ssl === 'require' ? true : data.ssl === 'allow-unverified' ? { rejectUnauthorized: false } : undefined;
	const poolSize = Number(data.poolSize) || 10;
	const schema = data.schema === undefined ? undefined : String(data.schema);
	if (data.connection === 'url') return { engine: 'postgres', connectionString: String(data.url ?? ''), ssl, poolSize, schema, maxDevicesPerUser };
	return {
		engine: 'postgres',
		host: String(data.host || 'localhost'),
		port: Number(data.port) || 5432,
		database: String(data.database || 'postgres'),
		user: String(data.user || 'postgres'),
		password: data.password ? String(data.password) : undefined,
		ssl,
		poolSize,
		schema,
		maxDevicesPerUser,
	};
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
