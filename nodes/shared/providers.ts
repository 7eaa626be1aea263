/**
 * The provider credentials, turned into the core's transports through the registry (cached per
 * process and credential, so HTTP/2 sessions and tokens are reused across executions), and their tests.
 */
import { createHash } from 'node:crypto';
import { NodeOperationError, type ICredentialDataDecryptedObject, type ICredentialTestFunctions, type ICredentialsDecrypted, type IExecuteFunctions, type INodeCredentialDescription, type INodeCredentialTestResult } from 'n8n-workflow';
import { PROVIDERS, ValidationError, fieldIssues, providerModule, type Provider, type Transport, type Transports } from '../core';

/** How options and errors name a provider (and its credential): the module's short name. */
export const label = (provider: Provider) => providerModule(provider).name;

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

type CredentialTest = (this: ICredentialTestFunctions, credential: ICredentialsDecrypted) => Promise<INodeCredentialTestResult>;

/** The name of a provider's credential test, as a node's `methods.credentialTest` holds it and its slot's `testedBy` names it. */
export const credentialTestName = (provider: Provider) => `${provider}CredentialTest`;

/** Every provider's credential test, by its name. */
export const credentialTests: Record<string, CredentialTest> = Object.fromEntries(
	PROVIDERS.map((provider) => [credentialTestName(provider), async (credential: ICredentialsDecrypted) => test(provider, credential)]),
);

/** A slot per provider credential (none is required: a send reaches the providers whose credential is set). */
export const credentialSlots: INodeCredentialDescription[] = PROVIDERS.map((provider) => {
	const module = providerModule(provider);
	return { name: module.credential.name, displayName: module.panel.credentialLabel, required: false, testedBy: credentialTestName(provider) };
});
