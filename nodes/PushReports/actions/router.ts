import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { getStore } from '../../shared/store';
import * as getSendReport from './getSendReport.operation';
import * as listSends from './listSends.operation';
import * as recordOpen from './recordOpen.operation';

export const operations = { getSendReport, listSends, recordOpen };
export type Operation = keyof typeof operations;

export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const store = await getStore(this);
	const operation = this.getNodeParameter('operation', 0) as Operation;
	return [await operations[operation].execute.call(this, store)];
}
