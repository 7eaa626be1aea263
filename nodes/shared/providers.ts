/**
 * The provider credentials, turned into the core's transports through the registry (cached per
 * process and credential, so HTTP/2 sessions and tokens are reused across executions), and their tests.
 */
import { createHash } from 'node:crypto';
import { NodeOperationError, type ICredentialDataDecryptedObject, type ICredentialTestFunctions, type ICredentialsDecrypted, type ICredentialType, type IExecuteFunctions, type INodeCredentialTestResult } from 'n8n-workflow';
import { ApnsApi } from '../../credentials/ApnsApi.credentials';
import { FcmServiceAccountApi } from '../../credentials/FcmServiceAccountApi.credentials';
import { WebPushVapidApi } from '../../credentials/WebPushVapidApi.credentials';
import { PROVIDERS, ValidationError, fieldIssues, providerModule, type Provider, type Transport, type Transports } from '../core';

/** Each provider's n8n credential (the module names it; the class gives the name the editor shows). */
export const CREDENTIALS: Record<Provider, ICredentialType> = { apns: new ApnsApi(), fcm: new FcmServiceAccountApi(), webpush: new WebPushVapidApi() };

/** How errors name a provider's credential: its display name without n8n's " API". */
const label = (provider: Provider) => CREDENTIALS[provider].displayName.replace(/ API$/, '');

/** What is wrong with a credential, field by field. */
function problem(error: unknown): string {
	if (error instanceof ValidationError) return error.issues.map((i) => `${i.field}: ${i.message}`).join('; ');
	const issues = (error as { issues?: Parameters<typeof fieldIssues>[0]['issues'] }).issues;
	return issues ? fieldIssues(error as Parameters<typeof fieldIssues>[0]).map((i) => `${i.field}: ${i.message}`).join('; ') : (error as Error).message;
}

/** The config of a provider's credential, or what is wrong with it (the checks made without the network). */
function configOf(provider: Provider, data: ICredentialDataDecryptedObject): { config: unknown } | { wrong: string } {
	const module = providerModule(provider);
	try {
		const config = module.credential.config(data);
		const parsed = module.config.parse(config);
		module.checkConfig?.(parsed);
		return { config };
	} catch (error) {
		return { wrong: problem(error) };
	}
}

const transports = new Map<string, Transport>();

/** The transports of the provider credentials set on the node (none is required). */
export async function getTransports(context: IExecuteFunctions): Promise<Transports> {
	const out: Transports = {};
	for (const provider of PROVIDERS) {
		const data = await context.getCredentials(providerModule(provider).credential.name).catch(() => undefined);
		if (!data) continue;
		const key = `${provider}:${createHash('sha256').update(JSON.stringify(data)).digest('hex')}`;
		let transport = transports.get(key);
		if (!transport) {
			const read = configOf(provider, data);
			if ('wrong' in read) throw new NodeOperationError(context.getNode(), `${label(provider)} credential: ${read.wrong}`, { description: 'Fix the credential (its test says the same); nothing was sent' });
			transport = providerModule(provider).transport(read.config);
			transports.set(key, transport);
		}
		out[provider] = transport;
	}
	return out;
}

/** A credential test: the checks without the network, then the provider's own where it has one. */
async function test(provider: Provider, credential: ICredentialsDecrypted): Promise<INodeCredentialTestResult> {
	const read = configOf(provider, credential.data ?? {});
	if ('wrong' in read) return { status: 'Error', message: read.wrong };
	const verify = providerModule(provider).verify;
	try {
		const said = await verify?.(read.config);
		return { status: 'OK', message: said || (verify ? 'Connected' : 'The keys are well formed; the provider checks them on the first push') };
	} catch (error) {
		return { status: 'Error', message: problem(error) };
	}
}

/** Exchanges the service account for an access token (the provider's own check). */
export async function fcmCredentialTest(this: ICredentialTestFunctions, credential: ICredentialsDecrypted): Promise<INodeCredentialTestResult> {
	return test('fcm', credential);
}

export async function apnsCredentialTest(this: ICredentialTestFunctions, credential: ICredentialsDecrypted): Promise<INodeCredentialTestResult> {
	return test('apns', credential);
}

export async function webPushCredentialTest(this: ICredentialTestFunctions, credential: ICredentialsDecrypted): Promise<INodeCredentialTestResult> {
	return test('webpush', credential);
}
