import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { parseInput, ProfileByUserId, type ProfileExport, type TokenStore } from '../../core';
import { fromVersion2 } from '../../shared/fields';
import { forEachItem, toJson } from '../../shared/items';
import { withoutId } from './fields';

/** A user (./fields.ts userField) with their push tokens; version 2 outputs it in camelCase unless the export's names are asked for. */
export const description: INodeProperties[] = [
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show: { ...fromVersion2, operation: ['getProfile'] } },
		options: [
			{
				displayName: 'Export Field Names',
				name: 'exportFieldNames',
				type: 'boolean',
				default: false,
				description: "Whether to name the fields as Braze's and Customer.io's exports do (push_tokens[].app_id, last_seen_at, …)",
			},
		],
	},
];

export async function execute(this: IExecuteFunctions, store: TokenStore): Promise<INodeExecutionData[]> {
	return forEachItem(this, async (i) => {
		const { userId } = parseInput(ProfileByUserId, { userId: this.getNodeParameter('userId', i, '') }, 'get profile');
		const profile = await store.getProfile({ userId });
		if (!profile) return toJson({ found: false, userId });
		if (this.getNode().typeVersion < 2) return toJson({ found: true, ...profile });
		const { exportFieldNames } = this.getNodeParameter('options', i, {}) as { exportFieldNames?: boolean };
		return toJson({ found: true, ...(exportFieldNames ? withoutId(profile) : (camelCase(withoutId(profile)) as IDataObject)) });
	});
}

/** The export's snake_case field names (push_tokens[].last_seen_at) in n8n's camelCase. */
function camelCase(value: Omit<ProfileExport, 'id'>): unknown {
	const convert = (v: unknown): unknown => {
		if (Array.isArray(v)) return v.map(convert);
		if (v === null || typeof v !== 'object' || v instanceof Date) return v;
		return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), convert(x)]));
	};
	return convert(value);
}
