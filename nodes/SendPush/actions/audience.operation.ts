import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { isReported, type Platform } from '../../core';
import { appIdField, optional } from '../../shared/fields';
import { errorItem, toJson } from '../../shared/items';
import { itemParameters } from '../../shared/parameters';
import { readMessage, sendOptions, sizeError } from '../message';
import { audienceProperties } from '../v2';
import { missingCredentials } from './items';
import type { SendContext } from './router';

const show = { show: { target: ['audience'] } };

export const description: INodeProperties[] = [
	{ ...appIdField, displayOptions: show },
	{
		displayName: 'Platform Filter',
		name: 'audiencePlatform',
		type: 'options',
		options: [
			{ name: 'All', value: '' },
			{ name: 'Android', value: 'android' },
			{ name: 'iOS', value: 'ios' },
			{ name: 'Web', value: 'web' },
		],
		default: '',
		displayOptions: show,
	},
	{ displayName: 'Last Active Device Only', name: 'lastActiveOnly', type: 'boolean', default: false, description: "Whether to send only to each user's most recently active device", displayOptions: show },
	...audienceProperties,
];

/** One campaign for the whole input (its parameters are the first item's): the audience streamed from the store, one summary out. */
export async function execute(this: IExecuteFunctions, { store, sender }: SendContext): Promise<INodeExecutionData[]> {
	const pairedItem = this.getInputData().map((_, item) => ({ item }));
	try {
		const { message, options } = readMessage(this, itemParameters(this), 0);
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
		const summary = await sender.sendAudience(query, message, { ...send, record: true, failureLimit: options.failureLimit ?? 100 });
		// The report's skipped devices: this run's census, and the devices an earlier run reached.
		if (send.sendId && isReported(send.sendId)) await store.recordSkipped(send.sendId, { ...census.excluded, alreadyReached: summary.skipped });
		return [{ json: toJson({ ...summary, excluded: census.excluded, test: send.test, ...(send.sendId ? { sendId: send.sendId } : {}) }), pairedItem }];
	} catch (error) {
		return [errorItem(this, error, 0, pairedItem)];
	}
}
