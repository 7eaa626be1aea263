import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData, type INodeProperties } from 'n8n-workflow';
import { isReported, type Platform } from '../../core';
import { appIdField, optional, platformOptions } from '../../shared/fields';
import { errorItem, toJson } from '../../shared/items';
import { itemParameters } from '../../shared/parameters';
import { deliveryControls, readMessage, sendOptions, sizeError } from '../message';
import { audienceProperties } from '../v2';
import { missingCredentials } from './items';
import type { SendContext } from './context';

const show = { show: { target: ['audience'] } };
/** The parameter that lets an AI Agent start an audience send (see refuseAudienceAsTool). */
export const AUDIENCE_AS_TOOL = 'allowAudienceAsTool';

export const description: INodeProperties[] = [
	{ ...appIdField, displayOptions: show },
	{
		displayName: 'Platform Filter',
		name: 'audiencePlatform',
		type: 'options',
		options: [{ name: 'All', value: '' }, ...platformOptions],
		default: '',
		displayOptions: show,
	},
	{ displayName: 'Last Active Device Only', name: 'lastActiveOnly', type: 'boolean', default: false, description: "Whether to send only to each user's most recently active device", displayOptions: show },
	...audienceProperties,
	{
		// Shown only on Send Push Tool (the node attached to an AI Agent), whatever its version.
		displayName: 'Allow an AI Agent to Send This Campaign',
		name: AUDIENCE_AS_TOOL,
		type: 'boolean',
		default: false,
		description:
			"Whether the agent's model may start this audience send. Off: the tool refuses it and tells the model so, and nothing is sent. A campaign reaches every device of the app: turn this on only if a model deciding to send it is what you want.",
		displayOptions: { show: { '@tool': [true], target: ['audience'] } },
	},
];

/**
 * Whether the node runs as a tool: its type is the tool variant n8n makes of it
 * (`…sendPushTool`: an AI Agent or an MCP server calls it), or n8n says so (an agent that calls
 * tools through n8n's supply-data context).
 */
export function runsAsTool(context: IExecuteFunctions): boolean {
	return context.getNode().type.endsWith('Tool') || (typeof context.isToolExecution === 'function' && context.isToolExecution());
}

/** The guard rail: a tool call may start an audience send only when the node's panel allows it. */
export function refuseAudienceAsTool(context: IExecuteFunctions): void {
	if (!runsAsTool(context) || context.getNodeParameter(AUDIENCE_AS_TOOL, 0, false) === true) return;
	throw new NodeOperationError(
		context.getNode(),
		'Refused: this Send Push tool may not send to an audience (a campaign to every device of an app) when an AI agent calls it. Nothing was sent.',
		{ description: "To let the agent send this campaign, turn on 'Allow an AI Agent to Send This Campaign' in the node's panel. To send to one person, use a Send Push tool whose Send To is A User." },
	);
}

/** One campaign for the whole input (its parameters are the first item's): the audience streamed from the store, one summary out. */
export async function execute(this: IExecuteFunctions, { store, sender, readFields }: SendContext): Promise<INodeExecutionData[]> {
	const pairedItem = this.getInputData().map((_, item) => ({ item }));
	try {
		const { message, options } = readMessage(this, itemParameters(this), 0, readFields);
		const send = sendOptions(options);
		const query = {
			appId: this.getNodeParameter('appId', 0) as string,
			platform: (optional(this.getNodeParameter('audiencePlatform', 0, '')) as Platform | undefined) ?? undefined,
			lastActiveOnly: this.getNodeParameter('lastActiveOnly', 0, false) as boolean,
			transactional: !!options.transactional,
			includeImported: options.includeImported ?? true,
			includeAnonymous: !!options.includeAnonymous,
			visible: !message.silent,
		};
		// The size limits of the providers this audience reaches, not of every credential on the node.
		const census = await store.audienceCensus(query);
		sizeError(this, 0, message, census.providers, send.sendId);
		// (its first page would fail on it anyway, sent to nobody)
		const missing = missingCredentials(this, sender, 0, census.providers);
		if (missing) throw missing;
		const controls = deliveryControls(options);
		const summary = await sender.sendAudience(query, message, { ...send, record: true, failureLimit: options.failureLimit ?? 100, controls });
		// The report's skipped devices: this run's census, the devices an earlier run reached, and those held for a later run.
		if (send.sendId && isReported(send.sendId)) await store.recordSkipped(send.sendId, { ...census.excluded, alreadyReached: summary.skipped, quietHours: summary.quietHours, frequencyCapped: summary.frequencyCapped });
		return [{ json: toJson({ ...summary, excluded: census.excluded, test: send.test, ...(send.sendId ? { sendId: send.sendId } : {}) }), pairedItem }];
	} catch (error) {
		return [errorItem(this, error, 0, pairedItem)];
	}
}
