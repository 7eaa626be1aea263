import { NodeConnectionTypes, type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';
import { storeNode } from '../shared/store';
import { operations, router } from './actions/router';

const header = storeNode();

/**
 * What a send did, after it: a send id's report (how many it reached, why the rest failed, who
 * opened it, minute by minute), the sends of a period, and the opens an app reports through a
 * workflow of its own. The store keeps the reports (nodes/core/lifecycle/reports.ts); a node of
 * its own, so Send Push's versions stay as they are.
 */
export class PushReports implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Push Reports',
		name: 'pushReports',
		icon: { light: 'file:pushReports.svg', dark: 'file:pushReports.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ { getSendReport: "Get Send Report", listSends: "List Sends", recordOpen: "Record Open" }[$parameter["operation"]] }}',
		description: 'Read what a push send reached and who opened it, list the sends of a period, or record an open',
		defaults: { name: 'Push Reports' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: header.credentials,
		properties: [
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'Get Send Report', value: 'getSendReport', description: 'Every figure of one send ID, its open rate and timeline', action: 'Get the report of a send' },
					{ name: 'List Sends', value: 'listSends', description: 'The sends started in a period, newest first, with their headline figures', action: 'List sends' },
					{ name: 'Record Open', value: 'recordOpen', description: 'The app reports a push opened: counted once per device', action: 'Record a push opened' },
				],
				default: 'getSendReport',
			},
			...operations.getSendReport.description,
			...operations.listSends.description,
			...operations.recordOpen.description,
		],
	};

	methods = header.methods;

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return router.call(this);
	}
}
