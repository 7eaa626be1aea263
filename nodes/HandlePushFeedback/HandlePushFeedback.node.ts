import {
	NodeConnectionTypes,
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeProperties,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { backoffMs, checkReceipts, classifyAnswer, PROVIDERS, providerModule, type OutcomeResult } from '../core';
import { fromVersion2, optional } from '../shared/fields';
import { errorItem, toJson } from '../shared/items';
import { credentialSlots, credentialTestName, credentialTests, getTransports } from '../shared/providers';
import { getStore, storeNode } from '../shared/store';

const OUTPUT = { removed: 0, suppressed: 1, retry: 2, other: 3 } as const;

/** One answer to apply, however it was read. */
interface Answer {
	appId: unknown;
	token: unknown;
	provider?: string;
	code?: string;
	statusCode?: number;
	/** Checked by the store: a test flag that is not true or false is an error, not a live answer. */
	test: unknown;
	deliveryUnknown: boolean;
	attempt: number;
	message?: string;
	retryAfter: number;
}

/**
 * The fields of Answer From = Map Fields (and of version 1). Their defaults say where each is on
 * an item of Send Push or a provider's webhook, first key first: Automatic reads those keys.
 */
const mappedFields: Array<INodeProperties & { name: keyof Answer }> = [
	{ displayName: 'App ID', name: 'appId', type: 'string', required: true, default: "={{ $json.appId ?? '' }}" },
	{
		displayName: 'Token',
		name: 'token',
		// eslint-disable-next-line n8n-nodes-base/node-param-type-options-password-missing -- a push token is a device address, not a secret: users must see what they map
		type: 'string',
		required: true,
		default: "={{ $json.token ?? '' }}",
		description: 'The token the answer is about (for Web Push, the subscription endpoint)',
	},
	{ displayName: 'Provider', name: 'provider', type: 'string', default: "={{ $json.provider ?? '' }}", description: 'Apns, fcm or webpush: which table reads the code' },
	{
		displayName: 'Provider Answer',
		name: 'code',
		type: 'string',
		default: "={{ $json.code ?? $json.outcome ?? $json.errorCode ?? $json.reason ?? $json.event ?? '' }}",
		description:
			'A provider code (UNREGISTERED, BadDeviceToken, messaging/registration-token-not-registered, …), an outcome (delivered, invalid-token, bounced, retry), or an event (uninstall, bounced)',
	},
	{
		displayName: 'HTTP Status',
		name: 'statusCode',
		type: 'number',
		// eslint-disable-next-line n8n-nodes-base/node-param-default-wrong-for-number -- read from the incoming item
		default: '={{ $json.statusCode ?? 0 }}',
		description: 'The status of the provider answer when there is no code (Web Push answers 404/410 for a gone subscription)',
	},
	{
		displayName: 'Test Send',
		name: 'test',
		type: 'boolean',
		// eslint-disable-next-line n8n-nodes-base/node-param-default-wrong-for-boolean -- read from the incoming item
		default: '={{ $json.test === true }}',
		description: 'Whether the answer comes from a test send: it never changes a token',
	},
	{
		displayName: 'Delivery Unknown',
		name: 'deliveryUnknown',
		type: 'boolean',
		// eslint-disable-next-line n8n-nodes-base/node-param-default-wrong-for-boolean -- read from the incoming item
		default: '={{ $json.deliveryUnknown === true }}',
		description: 'Whether the push went out and its answer was lost (Send Push says so): it may have been delivered, so it never goes to Retry',
	},
	{
		displayName: 'Attempts',
		name: 'attempt',
		type: 'number',
		// eslint-disable-next-line n8n-nodes-base/node-param-default-wrong-for-number -- read from the incoming item
		default: '={{ $json.attempts ?? 0 }}',
		description: 'How many times this push was tried so far (Send Push counts them, across a retry loop too)',
	},
	{
		displayName: 'Provider Message',
		name: 'message',
		type: 'string',
		default: "={{ $json.message ?? $json.errorMessage ?? '' }}",
		description: "The provider's error text (FCM's INVALID_ARGUMENT names a dead token only there)",
	},
	{
		displayName: 'Retry After (Seconds)',
		name: 'retryAfter',
		type: 'number',
		// eslint-disable-next-line n8n-nodes-base/node-param-default-wrong-for-number -- read from the incoming item
		default: '={{ $json.retryAfterSeconds ?? 0 }}',
		description: "The provider's Retry-After, honoured when longer than the backoff",
	},
];

/** The item keys each field's default reads, first key first. */
const FROM_ITEM = Object.fromEntries(mappedFields.map((f) => [f.name, [...String(f.default).matchAll(/\$json\.(\w+)/g)].map((m) => m[1])])) as Record<keyof Answer, string[]>;

/** Where the answer is read from: the item's own fields, or the mapped fields. */
const answerFrom: INodeProperties = {
	displayName: 'Answer From',
	name: 'source',
	type: 'options',
	noDataExpression: true,
	default: 'auto',
	options: [
		{ name: 'Map Fields', value: 'map', description: 'Say where each field of the answer comes from' },
		{
			name: 'Send Push or Webhook (Automatic)',
			value: 'auto',
			description: `The item's own fields: ${Object.values(FROM_ITEM)
				.map((keys) => keys.join(' or '))
				.join(', ')}`,
		},
	],
};

/** Item i's answer: from its own fields (Automatic) or from the mapped fields. */
function readAnswer(context: IExecuteFunctions, i: number): Answer {
	const auto = context.getNodeParameter('source', i, 'map') === 'auto';
	const json = context.getInputData()[i].json;
	const read = (name: keyof Answer, fallback: unknown = ''): unknown =>
		auto ? (FROM_ITEM[name].map((k) => json[k]).find((v) => v !== undefined && v !== null) ?? fallback) : context.getNodeParameter(name, i, fallback);
	const text = (name: keyof Answer) => {
		const value = optional(read(name));
		return value === undefined ? undefined : String(value); // a webhook may send its code as a number
	};
	const count = (name: keyof Answer) => Number(read(name)) || 0;
	return {
		appId: read('appId'),
		token: read('token'),
		provider: text('provider'),
		code: text('code'),
		statusCode: count('statusCode') || undefined,
		test: read('test', false),
		deliveryUnknown: read('deliveryUnknown') === true,
		attempt: count('attempt'),
		message: text('message'),
		retryAfter: count('retryAfter'),
	};
}

/** What the node does: version 3 also checks receipts (providers that answer later). */
const operation: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	default: 'apply',
	options: [
		{ name: 'Apply Answers', value: 'apply', action: 'Apply provider answers to the token store', description: 'Each input item is a provider answer or an uninstall event' },
		{
			name: 'Check Receipts',
			value: 'checkReceipts',
			action: 'Check receipts of providers that answer later',
			description: 'Ask the providers that answer for each push later for the receipts awaited, and apply them (schedule it, e.g. every 30 minutes)',
		},
	],
	displayOptions: { show: { '@version': [{ _cnd: { gte: 3 } }] } },
};
const applying = { hide: { operation: ['checkReceipts'] } };
const checking = { show: { operation: ['checkReceipts'] } };

/** The credentials of the providers that answer later, for Check Receipts. */
const receiptProviders = PROVIDERS.filter((p) => providerModule(p).receipts);
const header = storeNode(
	credentialSlots.filter((slot) => receiptProviders.some((p) => providerModule(p).credential.name === slot.name)).map((slot) => ({ ...slot, displayOptions: checking })),
	Object.fromEntries(receiptProviders.map((p) => [credentialTestName(p), credentialTests[credentialTestName(p)]])),
);

/**
 * Applies provider answers and uninstall events to the store: dead tokens are removed and
 * tombstoned, two bounces in a row suppress, transient errors go out on a retry branch with
 * the delay to wait, a test send changes nothing.
 */
export class HandlePushFeedback implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Handle Push Feedback',
		name: 'handlePushFeedback',
		icon: { light: 'file:handlePushFeedback.svg', dark: 'file:handlePushFeedback.dark.svg' },
		group: ['transform'],
		version: [1, 2, 3],
		subtitle: 'removed · suppressed · retry · other',
		description: 'Apply push provider answers and uninstall events to the token store',
		defaults: { name: 'Handle Push Feedback' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main, NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		outputNames: ['Removed', 'Suppressed', 'Retry', 'Other'],
		credentials: header.credentials,
		properties: [
			operation,
			// Version 1 had the mapped fields only: its saved workflows keep them by that default.
			{ ...answerFrom, default: 'map', displayOptions: { show: { '@version': [1] } } },
			{ ...answerFrom, displayOptions: { show: fromVersion2, ...applying } },
			...mappedFields.map((field) => ({ ...field, displayOptions: { show: { source: ['map'] }, ...applying } })),
			{
				displayName: 'Min Age (Minutes)',
				name: 'minAgeMinutes',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 15,
				description: 'Receipts of pushes younger than this are left for the next check (Expo advises 15 minutes)',
				displayOptions: checking,
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				displayOptions: applying,
				options: [
					{
						displayName: 'Max Attempts',
						name: 'maxAttempts',
						type: 'number',
						typeOptions: { minValue: 1 },
						default: 5,
						description: 'After this many attempts the item goes to Other as retries exhausted',
					},
				],
			},
		],
	};

	methods = header.methods;

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const store = await getStore(this);
		if (this.getNodeParameter('operation', 0, 'apply') === 'checkReceipts') return checkNow(this, store);
		const items = this.getInputData();
		const outputs: INodeExecutionData[][] = [[], [], [], []];
		for (let i = 0; i < items.length; i++) {
			try {
				const { output, json } = await handle(this, store, i);
				outputs[output].push({ json: { ...items[i].json, ...json }, pairedItem: { item: i } });
			} catch (error) {
				outputs[OUTPUT.other].push(errorItem(this, error, i, { item: i }, items[i].json));
			}
		}
		return outputs;
	}
}

async function handle(context: IExecuteFunctions, store: Awaited<ReturnType<typeof getStore>>, i: number): Promise<{ output: number; json: IDataObject }> {
	const options = context.getNodeParameter('options', i, {}) as { maxAttempts?: number };
	const answer = readAnswer(context, i);
	const { outcome, reason } = classifyAnswer(answer);

	if (outcome === null) return { output: OUTPUT.other, json: { action: 'ignored', reason } };
	if (outcome === 'config-error') {
		throw new NodeOperationError(context.getNode(), `Item ${i + 1}: the provider refused the push because of the configuration (${reason}); no token was changed`, {
			itemIndex: i,
			description: 'Check the credential (key, team, project, sender) and the topic or bundle ID; these answers are not about the device.',
		});
	}
	const result: OutcomeResult = await store.recordOutcome({ appId: answer.appId, token: answer.token, outcome, reason, test: answer.test });
	const json = { ...toJson(result), reason };
	// A push whose answer was lost may have been delivered: resending it could push twice.
	if (outcome === 'retry' && answer.deliveryUnknown) return { output: OUTPUT.other, json: { ...json, action: 'delivery-unknown' } };
	if (outcome === 'retry' && result.action === 'unchanged' && answer.test !== true) {
		const attempts = answer.attempt;
		if (attempts >= (options.maxAttempts ?? 5)) return { output: OUTPUT.other, json: { ...json, action: 'retries-exhausted', attempts } };
		// retryAfterSeconds: how long to wait before the next attempt (the provider's Retry-After at least)
		return { output: OUTPUT.retry, json: { ...json, action: 'retry', attempts, retryAfterSeconds: Math.ceil(backoffMs(Math.max(1, attempts), answer.retryAfter, 300) / 1000) } };
	}
	if (result.action === 'removed' || result.action === 'tombstoned') return { output: OUTPUT.removed, json };
	if (result.action === 'suppressed') return { output: OUTPUT.suppressed, json };
	return { output: OUTPUT.other, json };
}

/**
 * Check Receipts, once per execution: each token a receipt changed goes out on its branch
 * (Removed, Suppressed), and the check's figures as one item on Other.
 */
async function checkNow(context: IExecuteFunctions, store: Awaited<ReturnType<typeof getStore>>): Promise<INodeExecutionData[][]> {
	const minAgeMinutes = context.getNodeParameter('minAgeMinutes', 0, 15) as number;
	const { changed, ...figures } = await checkReceipts(store, await getTransports(context), { minAgeMinutes });
	const outputs: INodeExecutionData[][] = [[], [], [], [{ json: toJson(figures), pairedItem: { item: 0 } }]];
	for (const result of changed) {
		const output = result.action === 'suppressed' ? OUTPUT.suppressed : result.action === 'removed' || result.action === 'tombstoned' ? OUTPUT.removed : OUTPUT.other;
		outputs[output].push({ json: toJson(result), pairedItem: { item: 0 } });
	}
	return outputs;
}
