import { ZodError } from 'zod/v4';
import {
	NodeConnectionTypes,
	type ICredentialDataDecryptedObject,
	type ICredentialsDecrypted,
	type ICredentialTestFunctions,
	type IDataObject,
	type INodeCredentialTestResult,
	type INodeType,
	type INodeTypeDescription,
	type IWebhookDescription,
	type IWebhookFunctions,
	type IWebhookResponseData,
} from 'n8n-workflow';
import { AppEndpoint, CallLimiter, DEFAULT_MAX_BODY_BYTES, ENDPOINT_EVENTS, EndpointAuth, MAX_BATCH, type EndpointAuthConfig, type ClearMode, type EndpointEvent, type Limits, type Verification } from '../core';
import { getStore, storeNode } from '../shared/store';

/** Each route is a webhook of its own, at `<webhook URL>/<route>`. Literal values: n8n evaluates a webhook's description on every call. */
const webhooks: IWebhookDescription[] = AppEndpoint.routes().map((route) => ({ name: 'default', httpMethod: 'POST', responseMode: 'onReceived', path: route }));

const EVENT_OPTIONS: Array<{ name: string; value: EndpointEvent; description: string }> = [
	{ name: 'Dead Token Refused', value: 'deadTokenRefused', description: 'An app registered a token its provider said is dead' },
	{ name: 'New Device', value: 'registered', description: 'A token registered for the first time' },
	{ name: 'Token Moved to Another User', value: 'moved', description: 'A login (or a register with a user ID) took a device from another profile' },
	{ name: 'User Logged Out', value: 'loggedOut', description: 'A device was logged out of its user' },
];

const header = storeNode([{ name: 'pushTokenEndpointAuthApi', displayName: 'App Key and User Proofs', required: true, testedBy: 'pushTokenEndpointAuthTest' }], { pushTokenEndpointAuthTest });

/**
 * The app's front door: register (app open), identify (login), logout, opened (a push opened, for
 * its send's report) and batch (up to 500 app opens in one call), answered inside n8n's webhook handler by the store's rules. A routine call
 * starts no execution; the workflow runs only for the events ticked, one item each. The panel's
 * settings and the credentials are read once per process and configuration (see `endpointOf`).
 */
export class PushTokenEndpoint implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Push Token Endpoint',
		name: 'pushTokenEndpoint',
		icon: { light: 'file:pushTokenEndpoint.svg', dark: 'file:pushTokenEndpoint.dark.svg' },
		group: ['trigger'],
		// (version 1 of a webhook node makes n8n evaluate an expression on every call: this node starts at 2)
		version: 2,
		subtitle: 'App register, login and logout',
		description: "Answer the app's register, login and logout calls without a workflow run",
		eventTriggerDescription: 'Waiting for an app call that raises a ticked event',
		activationMessage: 'The app can now call the routes below: register, identify, logout, opened and batch.',
		defaults: { name: 'Push Token Endpoint' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: header.credentials,
		webhooks,
		properties: [
			{
				displayName: 'App ID',
				name: 'appId',
				type: 'string',
				noDataExpression: true,
				default: '',
				placeholder: 'com.example.app',
				description: 'The app ID of calls that send none',
			},
			{
				displayName: 'Identity Verification',
				name: 'verification',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'HMAC of the User ID', value: 'hmac', description: "Your backend gives the app hex(HMAC-SHA256(secret, userId)) (as OneSignal's and Intercom's identity verification)" },
					{ name: 'JWT Signed by Your Backend', value: 'jwt', description: 'Sub = the user ID, exp required (as Braze SDK Authentication)' },
					{ name: 'Off', value: 'none', description: 'Any caller may say it is any user' },
				],
				default: 'hmac',
				description: 'What proves that a call is made for a user: asked of every call that names one (register with a user ID, identify, logout)',
			},
			{
				displayName:
					'With verification off, anyone who has the URL and the app key can attach a device to any user ID, and so receive that user\'s pushes. Use it only while testing, or behind your own backend.',
				name: 'verificationOffNotice',
				type: 'notice',
				default: '',
				displayOptions: { show: { verification: ['none'] } },
			},
			{
				displayName: 'Run the Workflow On',
				name: 'events',
				type: 'multiOptions',
				noDataExpression: true,
				options: EVENT_OPTIONS,
				default: [],
				description: 'Routine calls run nothing; each of these events runs the workflow with one item (a welcome push on a new device, for example)',
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add option',
				default: {},
				options: [
					{
						displayName: 'Max Body Size (KB)',
						name: 'maxBodyKb',
						type: 'number',
						noDataExpression: true,
						typeOptions: { minValue: 1, maxValue: 1024 },
						default: 64,
						description: 'Larger bodies are answered 413 (a batch of 500 registrations needs about 200 KB)',
					},
					{
						displayName: 'On Logout',
						name: 'logoutMode',
						type: 'options',
						noDataExpression: true,
						options: [
							{ name: 'Make the Token Anonymous', value: 'anonymous' },
							{ name: 'Remove the Token', value: 'remove' },
						],
						default: 'anonymous',
					},
					{
						displayName: 'Rate Limit per Client (Calls per Minute)',
						name: 'perClient',
						type: 'number',
						noDataExpression: true,
						typeOptions: { minValue: 0 },
						default: 600,
						description: 'Per client address (N8N_PROXY_HOPS decides which it is); 0: no limit. Shared through Redis in queue mode.',
					},
					{
						displayName: 'Rate Limit per Device (Calls per Minute)',
						name: 'perDevice',
						type: 'number',
						noDataExpression: true,
						typeOptions: { minValue: 0 },
						default: 30,
						description: 'Per token or device ID; 0: no limit',
					},
				],
			},
		],
	};

	methods = header.methods;

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const res = this.getResponseObject();
		let configured: Awaited<ReturnType<typeof endpointOf>>;
		try {
			configured = await endpointOf(this);
		} catch {
			// (the caller learns nothing of the configuration; the credential tests in the editor say what is wrong)
			res.status(503).setHeader('Retry-After', '5');
			res.json({ error: 'the token store is unreachable or the endpoint is not configured; nothing was changed' });
			return { noWebhookResponse: true };
		}
		const { endpoint, events } = configured;
		const req = this.getRequestObject();
		const raw = (req as { rawBody?: Buffer }).rawBody;
		const answer = await endpoint.handle({
			route: req.path.slice(req.path.lastIndexOf('/') + 1),
			body: req.body,
			bytes: raw?.length ?? (Number(req.headers['content-length']) || 0),
			appKey: typeof req.headers['x-app-key'] === 'string' ? req.headers['x-app-key'] : undefined,
			client: req.ip ?? '',
		});
		res.status(answer.status);
		for (const [name, value] of Object.entries(answer.headers ?? {})) res.setHeader(name, value);
		res.json(answer.body);
		const items = answer.events.filter((e) => events.has(e.event)).map((e) => ({ json: e as IDataObject }));
		return items.length > 0 ? { noWebhookResponse: true, workflowData: [items] } : { noWebhookResponse: true };
	}
}

/** The credential's secrets as the endpoint reads them, verification aside (the panel's choice). */
function authConfig(secrets: ICredentialDataDecryptedObject, verification: Verification): EndpointAuthConfig {
	return {
		appKey: String(secrets.appKey ?? ''),
		verification,
		hmacSecret: String(secrets.hmacSecret ?? ''),
		jwtAlgorithm: String(secrets.jwtAlgorithm ?? 'RS256') as EndpointAuthConfig['jwtAlgorithm'],
		jwtKey: String(secrets.jwtKey ?? ''),
		jwtIssuer: String(secrets.jwtIssuer ?? ''),
		jwtAudience: String(secrets.jwtAudience ?? ''),
		leewaySeconds: Number(secrets.leewaySeconds ?? 60),
	};
}

/** Reads every proof the credential holds (an HMAC secret, a JWT key), as the endpoint will; never shows a secret. */
async function pushTokenEndpointAuthTest(this: ICredentialTestFunctions, credential: ICredentialsDecrypted): Promise<INodeCredentialTestResult> {
	const secrets = credential.data ?? {};
	const ready: string[] = [secrets.appKey ? 'app key set' : 'no app key (none asked for)'];
	try {
		const proofs: Array<[unknown, Verification, string]> = [
			[secrets.hmacSecret, 'hmac', 'HMAC secret ready'],
			[secrets.jwtKey, 'jwt', `JWT ${String(secrets.jwtAlgorithm ?? 'RS256')} key ready`],
		];
		for (const [held, verification, what] of proofs) {
			if (!held) continue;
			new EndpointAuth(authConfig(secrets, verification)); // reads the secret as a call would, or throws naming the field
			ready.push(what);
		}
	} catch (error) {
		return { status: 'Error', message: error instanceof ZodError ? error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : (error as Error).message };
	}
	return { status: 'OK', message: ready.join('; ') };
}

/** One per endpoint and limits, kept across the re-reads below: the budgets it counts must not reset. */
const limiters = new Map<string, CallLimiter>();
function limiterOf(prefix: string, limits: Limits): CallLimiter {
	const key = JSON.stringify([prefix, limits]);
	return limiters.get(key) ?? limiters.set(key, new CallLimiter(limits, prefix)).get(key)!;
}

/** Read at most this often: a changed credential applies within a minute. */
const TTL_MS = 60_000;
const endpoints = new Map<string, { at: number; value: Promise<{ endpoint: AppEndpoint; events: Set<EndpointEvent> }> }>();

/** The endpoint of this node's settings and credentials, made once per process (a call costs a map lookup). */
function endpointOf(context: IWebhookFunctions): Promise<{ endpoint: AppEndpoint; events: Set<EndpointEvent> }> {
	const node = context.getNode();
	const key = JSON.stringify([node.id, node.parameters, node.credentials]);
	const cached = endpoints.get(key);
	if (cached && Date.now() - cached.at < TTL_MS) return cached.value;
	const value = (async () => {
		const options = context.getNodeParameter('options', {}) as { maxBodyKb?: number; logoutMode?: ClearMode; perClient?: number; perDevice?: number };
		const secrets = await context.getCredentials('pushTokenEndpointAuthApi');
		const auth = new EndpointAuth(authConfig(secrets, context.getNodeParameter('verification', 'hmac') as Verification));
		const endpoint = new AppEndpoint(await getStore(context), auth, limiterOf(node.webhookId ?? node.id, { perClient: options.perClient ?? 600, perDevice: options.perDevice ?? 30 }), {
			appId: (context.getNodeParameter('appId', '') as string) || undefined,
			logoutMode: options.logoutMode ?? 'anonymous',
			maxBodyBytes: (options.maxBodyKb ?? DEFAULT_MAX_BODY_BYTES / 1024) * 1024,
			maxBatch: MAX_BATCH,
		});
		const events = new Set((context.getNodeParameter('events', []) as string[]).filter((e): e is EndpointEvent => (ENDPOINT_EVENTS as readonly string[]).includes(e)));
		return { endpoint, events };
	})();
	// A failed read (a bad credential) is not kept: the next call tries again.
	value.catch(() => endpoints.delete(key));
	endpoints.set(key, { at: Date.now(), value });
	return value;
}
