/**
 * The provider credentials, turned into the core's transports (cached per process and
 * credential, so HTTP/2 sessions and tokens are reused across executions), and their tests.
 */
import { createHash } from 'node:crypto';
import { NodeOperationError, type ICredentialDataDecryptedObject, type ICredentialTestFunctions, type ICredentialsDecrypted, type IExecuteFunctions, type INodeCredentialTestResult } from 'n8n-workflow';
import { ApnsConfig, ApnsTransport, FcmConfig, FcmTransport, ValidationError, WebPushConfig, WebPushTransport, fieldIssues, serviceAccountConfig, type Provider, type Transport, type Transports } from '../core';

type Builder = (data: ICredentialDataDecryptedObject) => Transport;

/** The key file's fields; a missing or non-text one becomes empty, so its error says which key of the file it is. */
const fcmConfig = (data: ICredentialDataDecryptedObject) => {
	const config = serviceAccountConfig(String(data.serviceAccountJson ?? ''));
	const text = (value: unknown) => (typeof value === 'string' ? value : '');
	return { ...config, projectId: text(config.projectId), clientEmail: text(config.clientEmail), privateKey: text(config.privateKey) };
};
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

/** What is wrong with a credential, field by field. */
function problem(error: unknown): string {
	if (error instanceof ValidationError) return error.issues.map((i) => `${i.field}: ${i.message}`).join('; ');
	const issues = (error as { issues?: Parameters<typeof fieldIssues>[0]['issues'] }).issues;
	return issues ? fieldIssues(error as Parameters<typeof fieldIssues>[0]).map((i) => `${i.field}: ${i.message}`).join('; ') : (error as Error).message;
}

/** The checks a credential test makes without the network (a node makes them too, before sending): what is wrong, or null. */
const problemOf = (check: () => unknown): string | null => {
	try {
		check();
		return null;
	} catch (error) {
		return problem(error);
	}
};
const fcmProblem = (data: ICredentialDataDecryptedObject) => problemOf(() => FcmConfig.parse(fcmConfig(data)));
const apnsProblem = (data: ICredentialDataDecryptedObject) =>
	problemOf(() => ApnsConfig.parse(apnsConfig(data))) ??
	// OpenSSL's own words ("DECODER routines::unsupported") say neither the field nor what is expected.
	problemOf(() => ApnsTransport.checkKey(apnsConfig(data).signingKey))?.replace(/^(?!Signing Key).*$/s, 'Signing Key: expected the EC P-256 private key of a .p8 file (PEM text); this one cannot be read') ??
	null;
const webPushProblem = (data: ICredentialDataDecryptedObject) => problemOf(() => WebPushConfig.parse(webPushConfig(data)));

const PROVIDERS: Array<{ provider: Provider; credential: string; name: string; check: (d: ICredentialDataDecryptedObject) => string | null; build: Builder }> = [
	{ provider: 'fcm', credential: 'fcmServiceAccountApi', name: 'Firebase Cloud Messaging', check: fcmProblem, build: (d) => new FcmTransport(fcmConfig(d)) },
	{ provider: 'apns', credential: 'apnsApi', name: 'APNs', check: apnsProblem, build: (d) => new ApnsTransport(apnsConfig(d)) },
	{ provider: 'webpush', credential: 'webPushVapidApi', name: 'Web Push VAPID', check: webPushProblem, build: (d) => new WebPushTransport(webPushConfig(d)) },
];

const transports = new Map<string, Transport>();

/** The transports of the provider credentials set on the node (none is required). */
export async function getTransports(context: IExecuteFunctions): Promise<Transports> {
	const out: Transports = {};
	for (const { provider, credential, name, check, build } of PROVIDERS) {
		const data = await context.getCredentials(credential).catch(() => undefined);
		if (!data) continue;
		const key = `${provider}:${createHash('sha256').update(JSON.stringify(data)).digest('hex')}`;
		let transport = transports.get(key);
		if (!transport) {
			const wrong = check(data);
			if (wrong) throw new NodeOperationError(context.getNode(), `${name} credential: ${wrong}`, { description: 'Fix the credential (its test says the same); nothing was sent' });
			transport = build(data);
			transports.set(key, transport);
		}
		out[provider] = transport;
	}
	return out;
}

async function check(wrong: string | null, live?: () => Promise<void>): Promise<INodeCredentialTestResult> {
	if (wrong) return { status: 'Error', message: wrong };
	try {
		await live?.();
		return { status: 'OK', message: live ? 'Connected' : 'The keys are well formed; the provider checks them on the first push' };
	} catch (error) {
		return { status: 'Error', message: problem(error) };
	}
}

/** Exchanges the service account for an access token (the provider's own check). */
export async function fcmCredentialTest(this: ICredentialTestFunctions, credential: ICredentialsDecrypted): Promise<INodeCredentialTestResult> {
	return check(
		fcmProblem(credential.data ?? {}),
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
	return check(apnsProblem(credential.data ?? {}));
}

export async function webPushCredentialTest(this: ICredentialTestFunctions, credential: ICredentialsDecrypted): Promise<INodeCredentialTestResult> {
	return check(webPushProblem(credential.data ?? {}));
}
