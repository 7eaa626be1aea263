import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NotFoundError, reportHtml, type TokenStore } from '../../core';
import { errorItem, toJson } from '../../shared/items';

const show = { show: { operation: ['getSendReport'] } };

export const description: INodeProperties[] = [
	{ displayName: 'Send ID', name: 'sendId', type: 'string', required: true, default: '', description: 'The Send ID the push was sent with', displayOptions: show },
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: show,
		options: [
			{
				displayName: 'Put HTML Report in Field',
				name: 'htmlBinaryProperty',
				type: 'string',
				default: 'report',
				description: 'The binary field to put the report in, as one HTML page (a bar chart of the outcomes and the timeline, no script), e.g. to attach to an email',
			},
		],
	},
];

/** Each item one send id's report: every figure, the open rate and the per-minute timeline; with the option, as an HTML page too. */
export async function execute(this: IExecuteFunctions, store: TokenStore): Promise<INodeExecutionData[]> {
	const out: INodeExecutionData[] = [];
	for (const [i, item] of this.getInputData().entries()) {
		try {
			const sendId = this.getNodeParameter('sendId', i, '') as string;
			const report = await store.sendReport(sendId);
			if (!report) throw new NotFoundError(`no report for send id "${sendId.trim()}" (a report is kept for a send with a Send ID of its own)`);
			const { htmlBinaryProperty } = this.getNodeParameter('options', i, {}) as { htmlBinaryProperty?: string };
			const binary = htmlBinaryProperty
				? { ...item.binary, [htmlBinaryProperty]: await this.helpers.prepareBinaryData(Buffer.from(reportHtml(report)), `send-report-${safeName(report.sendId)}.html`, 'text/html') }
				: undefined;
			out.push({ json: toJson(report), ...(binary ? { binary } : {}), pairedItem: { item: i } });
		} catch (error) {
			out.push(errorItem(this, error, i));
		}
	}
	return out;
}

/** A send id as part of a file name. */
const safeName = (sendId: string) => sendId.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100);
