import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import type { TokenStore } from '../../core';
import { returnAllAndLimit } from '../../shared/fields';
import { forEachItem, toJson } from '../../shared/items';
import { instant } from './instant';

const show = { show: { operation: ['listSends'] } };

export const description: INodeProperties[] = [
	{ displayName: 'Started After', name: 'from', type: 'dateTime', default: '', description: 'Sends started at or after this time (empty: any)', displayOptions: show },
	{ displayName: 'Started Before', name: 'to', type: 'dateTime', default: '', description: 'Sends started before this time (empty: any)', displayOptions: show },
	...returnAllAndLimit('listSends'),
];

/** The most a Return All reads (a report is a few rows; ten thousand sends are a long history). */
const ALL = 10_000;

/** Each item: the sends started in its range, newest first, one output item each with the headline figures. */
export async function execute(this: IExecuteFunctions, store: TokenStore): Promise<INodeExecutionData[]> {
	return forEachItem(this, async (i) => {
		const limit = this.getNodeParameter('returnAll', i, false) ? ALL : (this.getNodeParameter('limit', i, 50) as number);
		const sends = await store.listSends({ from: instant(this, i, 'from'), to: instant(this, i, 'to'), limit });
		return sends.map((s) => toJson(s));
	});
}
