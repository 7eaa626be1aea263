/**
 * An import preset reads one provider's export as it is: its columns, its codes, its own flags
 * for unusable rows. One preset is one module with a column map and a row function; the
 * registry (`index.ts`) lists them, and Detect From Header asks each in turn.
 */
import { canonicalLanguage, canonicalTimeZone } from '../../locale';
import { describe } from '../../text';
import { HEADER, UnreadableRow } from '../sources';

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
export function columnKey(column: string): string {
	let key = COLUMN_KEYS.get(column);
	if (key === undefined) {
		// A file's records repeat their keys: a few hundred remembered, so a file of ever new keys cannot grow it.
		if (COLUMN_KEYS.size >= 512) COLUMN_KEYS.clear();
		COLUMN_KEYS.set(column, (key = column.toLowerCase().replace(/[\s-]/g, '_')));
	}
	return key;
}
const COLUMN_KEYS = new Map<string, string>();

/**
 * Helpers the provider presets share: how exports write flags, numbers, lists and Web Push keys.
 * Each reads any value without throwing; what it cannot read it leaves for the schema to name.
 */

/** An object as JSON nests one (not an array, not null). */
export const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A value, or undefined where the export leaves it empty. */
export const given = (value: unknown): unknown => (present(value) ? value : undefined);

/** A column by its name as exports vary it (case, spaces, dashes); the exact name first, as most rows have it. */
export function lookup(record: Record<string, unknown>, column: string): unknown {
	if (Object.hasOwn(record, column)) return record[column];
	const header = (record as Record<symbol, unknown>)[HEADER] as string[] | undefined;
	let key: string | undefined;
	if (header) {
		// a CSV row: the column found once per file
		let found = FOUND.get(header);
		if (!found) FOUND.set(header, (found = new Map()));
		if (!found.has(column)) found.set(column, find(header, column));
		key = found.get(column);
	} else key = find(Object.keys(record), column);
	return key === undefined ? undefined : record[key];
}
const find = (keys: readonly string[], column: string) => keys.find((key) => columnKey(key) === column);
const FOUND = new WeakMap<readonly string[], Map<string, string | undefined>>();

/** Whether a record's keys (a CSV header, a JSON object's) include all these columns. */
export const hasColumns = (keys: readonly string[], ...columns: string[]): boolean => columns.every((column) => keys.some((key) => columnKey(key) === column));

/** A yes/no flag as exports write it (true, "true", "t", 1, "1", "yes"…); undefined when it says neither. */
export function flag(value: unknown): boolean | undefined {
	if (typeof value === 'boolean') return value;
	if (typeof value !== 'string' && typeof value !== 'number') return undefined;
	const text = String(value).trim().toLowerCase();
	if (['true', 't', '1', 'yes', 'y'].includes(text)) return true;
	if (['false', 'f', '0', 'no', 'n'].includes(text)) return false;
	return undefined;
}

/** A whole number as exports write one (5, "5", " -2 "); undefined otherwise. */
export function integer(value: unknown): number | undefined {
	if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
	return typeof value === 'string' && /^\s*[+-]?\d{1,15}\s*$/.test(value) ? Number(value) : undefined;
}

/** Text compared the way exports vary it (case, surrounding spaces); undefined when there is none. */
export const lowerText = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value.trim().toLowerCase() : undefined);

/** Base64 (as some exports write a subscription's keys) as base64url, as a browser gives them; anything else as it is. */
export const base64url = (value: unknown): unknown => (typeof value === 'string' ? value.trim().replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') : value);

/** A Web Push subscription from an export's endpoint and keys (an absent key stays absent, for the schema to name). */
export const webSubscription = (endpoint: unknown, p256dh: unknown, auth: unknown) => ({ endpoint, keys: { p256dh: base64url(given(p256dh)), auth: base64url(given(auth)) } });

/**
 * One token of an export, as every preset fills it: the app is the node's (exports name their own
 * app ids, not the app's here), and no device id (another SDK's ids are not the ones the app
 * registers with, and would supersede its tokens).
 */
export const candidate = (
	defaults: PresetDefaults,
	fields: { platform: string; provider?: string; token: unknown; userId?: unknown; environment?: string; timeZone?: string; language?: string },
): CandidateRow => ({
	appId: defaults.appId || undefined,
	...fields,
});

/**
 * A device's time zone and language as an export says them, each left out when the runtime's Intl
 * does not know it (an Android "GMT+05:30", a made-up tag): the token is what the import is for,
 * and the app's next register says them again.
 */
export function locale(timeZone: unknown, language: unknown): { timeZone?: string; language?: string } {
	return {
		timeZone: typeof timeZone === 'string' ? (canonicalTimeZone(timeZone.trim()) ?? undefined) : undefined,
		language: typeof language === 'string' ? (canonicalLanguage(language.trim()) ?? undefined) : undefined,
	};
}

/**
 * The objects of a list a record nests (a user's subscriptions, devices, tokens): none when it is
 * absent; a list that is none, or an item that is no object, is unreadable, named by its key.
 */
export function* each(record: Record<string, unknown>, key: string): Generator<Record<string, unknown> | UnreadableRow> {
	const list = record[key];
	if (list === undefined || list === null) return;
	if (!Array.isArray(list)) {
		yield new UnreadableRow(`${key}: expected a list, got ${describe(list)}`);
		return;
	}
	for (const item of list) yield isObject(item) ? item : new UnreadableRow(`${key}: expected each item to be an object, got ${describe(item)}`);
}
