import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { getStore } from '../../shared/store';
import * as clearIdentify from './clearIdentify.operation';
import * as getProfile from './getProfile.operation';
import * as getTokenHistory from './getTokenHistory.operation';
import * as identify from './identify.operation';
import * as setSubscription from './setSubscription.operation';

export const operations = { identify, clearIdentify, getProfile, getTokenHistory, setSubscription };
export type Operation = keyof typeof operations;

export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const store = await getStore(this);
	const operation = this.getNodeParameter('operation', 0) as Operation;
	return [await operations[operation].execute.call(this, store)];
}
