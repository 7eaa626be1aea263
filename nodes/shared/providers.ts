/**
 * The provider credentials, turned into the core's transports (cached per process and
 * credential, so HTTP/2 sessions and tokens are reused across executions), and their tests.
 */
import { createHash } from 'node:crypto';
import type { ICredentialDataDecryptedObject, ICredentialTestFunctions, ICredentialsDecrypted, IExecuteFunctions, INodeCredentialTestResult } from 'n8n-workflow';
import { ApnsConfig, ApnsTransport, FcmConfig, FcmTransport, WebPushConfig, WebPushTransport, fieldIssues, serviceAccountConfig, type Provider, type Transport, type Transports } from '../core';

type Builder = (data: ICredentialDataDecryptedObject) => Transport;

const fcmConfig = (data: ICredentialDataDecryptedObject) => serviceAccountConfig(String(data.serviceAccountJson ?? ''));
const apnsConfig = (data: ICredentialDataDecryptedObject) => ({
	teamId: String(data.teamId ?? '').trim(),
	keyId: String(data.keyId ?? '').trim(),
	signingKey: String(data.signingKey ?? ''),
	bundleId: String(data.bundleId ?? '').trim(),
	defaultEnvironment: data.environment === 'sandbox' ? ('sandbox' as const) : ('production' as const),
});
const webPushConfig = (data: ICredentialDataDecryptedObject) => ({
	subject: String(data.subject ?? '').trim(),
	publicKey: String(data.publicKey ?? '').trim(),
	privateKey: String(data.privateKey ?? '').trim(),
	allowedPrivateHosts: String(data.allowedPrivateHosts ?? '')
		.split(',')
		.map((h) => h.trim())
		.filter(Boolean),
});

const PROVIDERS: Array<{ provider: Provider; credential: string; build: Builder }> = [
	{ provider: 'fcm', credential: 'fcmServiceAccountApi', build: (d) => new FcmTransport(fcmConfig(d)) },
	{ provider: 'apns', credential: 'apnsApi', build: (d) => new ApnsTransport(apnsConfig(d)) },
	{ provider: 'webpush', credential: 'webPushVapidApi', build: (d) => new WebPushTransport(webPushConfig(d)) },
];

const transports = new Map<string, Transport>();

/** The transports of the provider credentials set on the node (none is required). */
export async function getTransports(context: IExecuteFunctions): Promise<Transports> {
	const out: Transports = {};
	for (const { provider, credential, build } of PROVIDERS) {
		const data = await context.getCredentials(credential).catch(() => undefined);
		if (!data) continue;
		const key = `${provider}:${createHash('sha256').update(JSON.stringify(data)).digest('hex')}`;
		let transport = transports.get(key);
		if (!transport) {
			transport = build(data);
			transports.set(key, transport);
		}
		out[provider] = transport;
	}
	return out;
}

async function check(parse: () => unknown, live?: () => Promise<void>): Promise<INodeCredentialTestResult> {
	try {
		parse();
		await live?.();
		return { status: 'OK', message: live ? 'Connected' : 'The keys are well formed; the provider checks them on the first push' };
	} catch (error) {
		const issues = (error as { issues?: Parameters<typeof fieldIssues>[0]['issues'] }).issues;
		const message = issues ? fieldIssues(error as Parameters<typeof fieldIssues>[0]).map((i) => `${i.field}: ${i.message}`).join('; ') : (error as Error).message;
		return { status: 'Error', message };
	}
}

/** Exchanges the service account for an access token (the provider's own check). */
export async function fcmCredentialTest(this: ICredentialTestFunctions, credential: ICredentialsDecrypted): Promise<INodeCredentialTestResult> {
	return check(
		() => FcmConfig.parse(fcmConfig(credential.data ?? {})),
		async () => {
			const transport = new FcmTransport(fcmConfig(credential.data ?? {}));
			try {
				await transport.accessToken();
			} finally {
				await transport.close();
			}
		},
	);
}

export async function apnsCredentialTest(this: ICredentialTestFunctions, credential: ICredentialsDecrypted): Promise<INodeCredentialTestResult> {
	return check(() => {
		ApnsConfig.parse(apnsConfig(credential.data ?? {}));
		ApnsTransport.checkKey(apnsConfig(credential.data ?? {}).signingKey);
	});
}

export async function webPushCredentialTest(this: ICredentialTestFunctions, credential: ICredentialsDecrypted): Promise<INodeCredentialTestResult> {
	return check(() => {
		const config = webPushConfig(credential.data ?? {});
		WebPushConfig.parse(config);
		WebPushTransport.checkKeys(config.publicKey, config.privateKey);
	});
}
