import { NodeOperationError, type IExecuteFunctions } from 'n8n-workflow';

/**
 * A date parameter as epoch milliseconds: empty is none; a date-time picker's text, an ISO string,
 * a number, or the Date or Luxon DateTime an expression gives ($today.minus({ days: 1 })).
 */
export function instant(context: IExecuteFunctions, i: number, field: string): number | undefined {
	const value = context.getNodeParameter(field, i, '') as unknown;
	if (value === '' || value === null || value === undefined) return undefined;
	const ms =
		typeof value === 'number' ? value
		: typeof value === 'string' ? Date.parse(value)
		: value instanceof Date ? value.getTime()
		: typeof (value as { toMillis?: unknown }).toMillis === 'function' ? (value as { toMillis: () => number }).toMillis()
		: NaN;
	if (!Number.isFinite(ms)) throw new NodeOperationError(context.getNode(), `Item ${i + 1}: field "${field}": expected a date (ISO 8601, such as 2026-12-04T00:00:00Z), got ${JSON.stringify(value)}`, { itemIndex: i });
	return ms;
}
