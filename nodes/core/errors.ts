/**
 * The core's errors. Each names what was wrong precisely enough for a node to turn it into a
 * NodeOperationError pointing at the item and the field.
 */
import type { z } from 'zod/v4';

export interface FieldIssue {
	/** Dotted path of the field within the record, e.g. "token.keys.p256dh". */
	field: string;
	message: string;
}

/** Bad input: which record (what), which fields, and what was expected. Nothing was written. */
export class ValidationError extends Error {
	override readonly name = 'ValidationError';
	/** The issues alone, e.g. `field "token": expected …` (the message adds what was parsed). */
	readonly detail: string;
	constructor(
		readonly what: string,
		readonly issues: FieldIssue[],
	) {
		const detail = issues.map((i) => (i.field ? `field "${i.field}": ${i.message}` : i.message)).join('; ');
		super(`${what}: ${detail}`);
		this.detail = detail;
	}
}

/** The record refers to something the store does not hold (a device, a profile). */
export class NotFoundError extends Error {
	override readonly name = 'NotFoundError';
}

export function fieldIssues(error: z.ZodError): FieldIssue[] {
	return error.issues.map((issue) => ({ field: issue.path.map(String).join('.'), message: issue.message }));
}

/** Parses input with a schema, or throws a ValidationError naming `what` (e.g. "register"). */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
	const result = schema.safeParse(value);
	if (!result.success) throw new ValidationError(what, fieldIssues(result.error));
	return result.data;
}

/** The caller did not prove what the change needs (the app endpoint's rule: lifecycle/claims.ts). Nothing was written. */
export class ForbiddenError extends Error {
	override readonly name = 'ForbiddenError';
}
