/**
 * An import preset reads one provider's export as it is: its columns, its codes, its own flags
 * for unusable rows. One preset is one module with a column map and a row function; the
 * registry (`index.ts`) lists them, and Detect From Header asks each in turn.
 */
import type { UnreadableRow } from '../sources';

/** A row the source itself marks unusable (uninstalled, opted out, an email or SMS row…): skipped and counted under its reason, never an error. */
export class SourceSkip {
	constructor(
		readonly reason: string,
		readonly platform?: string,
		readonly provider?: string,
	) {}
}

/** What the node fills in when the export does not say. */
export interface PresetDefaults {
	appId?: string;
	platform?: string;
}

/**
 * One token the import considers: the fields of an import row (`ImportRow`: appId, platform,
 * provider, token, tokenKind, deviceId, userId, environment; a Web Push token as a subscription
 * object `{ endpoint, keys: { p256dh, auth } }`). Values go as the export has them: the import's
 * schema checks them and names the field that is wrong.
 */
export type CandidateRow = Record<string, unknown>;

export type PresetOutput = CandidateRow | SourceSkip | UnreadableRow;

export interface ImportPreset {
	/** The node's option value, and the summary's `source`. */
	readonly id: string;
	readonly name: string;
	/** What it reads, for the node's option: the export and its columns. */
	readonly description: string;
	/** Whether a file whose first record has these keys (CSV header, JSON object's keys) is this source's. */
	detect(keys: readonly string[]): boolean;
	/**
	 * One record of the file (a CSV row, a JSON object) to the tokens it holds: none, one, or
	 * several (a user with devices). Never throws on bad data: what cannot be read goes on as it
	 * is, for the schema to refuse, or as an UnreadableRow naming the column.
	 */
	read(record: Record<string, unknown>, defaults: PresetDefaults): Iterable<PresetOutput>;
}

/** A cell is absent when empty, as exports write a missing value. */
export const present = (value: unknown): boolean => value !== undefined && value !== null && value !== '';

/** A record's keys compared the way exports vary them: case, spaces and dashes ignored. */
export const columnKey = (column: string): string => column.toLowerCase().replace(/[\s-]/g, '_');
