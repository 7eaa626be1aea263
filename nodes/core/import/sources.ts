/**
 * Import sources: CSV and JSON (an array or JSON Lines) read as a stream of chunks and turned
 * into rows one at a time, so a file of any size is imported in bounded memory.
 */
import { StringDecoder } from 'node:string_decoder';

/** A source row that could not be read at all; the import counts it invalid with this reason. */
export class UnreadableRow {
	constructor(readonly reason: string) {}
}

/** A stream, or any (async) iterable of text or bytes. */
type Chunks = AsyncIterable<Buffer | string> | Iterable<Buffer | string>;

/** Text from chunks of bytes; a UTF-8 character cut between two chunks is decoded whole. */
async function* decode(chunks: Chunks): AsyncGenerator<string> {
	const decoder = new StringDecoder('utf8');
	for await (const chunk of chunks) yield typeof chunk === 'string' ? chunk : decoder.write(chunk);
	yield decoder.end();
}

/** RFC 4180 CSV: a header row, then records; quoted fields may hold commas, quotes ("") and newlines. */
export async function* readCsv(chunks: Chunks): AsyncGenerator<Record<string, string> | UnreadableRow> {
	let header: string[] | null = null;
	let field = '';
	let record: string[] = [];
	let quoted = false;
	let quoteSeen = false;
	let afterQuote = false;
	let line = 1;
	let recordLine = 1;

	function* endRecord(): Generator<Record<string, string> | UnreadableRow> {
		record.push(field);
		field = '';
		const fields = record;
		record = [];
		const at = recordLine;
		recordLine = line;
		if (fields.length === 1 && fields[0].trim() === '') return; // blank line
		if (!header) {
			header = fields.map((h) => h.trim().replace(/^\uFEFF/, ''));
			return;
		}
		if (fields.length !== header.length) {
			yield new UnreadableRow(`line ${at}: expected ${header.length} fields as in the header, got ${fields.length}`);
			return;
		}
		const row: Record<string, string> = {};
		for (let i = 0; i < header.length; i++) row[header[i]] = fields[i];
		yield row;
	}

	for await (const text of decode(chunks)) {
		for (const c of text) {
			if (quoted) {
				// A quote inside quotes is either the first of an escaped pair ("") or the closing one;
				// the next character (perhaps in the next chunk) tells which.
				if (quoteSeen) {
					quoteSeen = false;
					if (c === '"') {
						field += '"';
						continue;
					}
					quoted = false;
					afterQuote = true;
				} else {
					if (c === '"') quoteSeen = true;
					else {
						if (c === '\n') line++;
						field += c;
					}
					continue;
				}
			}
			if (c === '"' && field === '' && !afterQuote) quoted = true;
			else if (c === ',') {
				record.push(field);
				field = '';
				afterQuote = false;
			} else if (c === '\n') {
				line++;
				afterQuote = false;
				yield* endRecord();
			} else if (c !== '\r') field += c;
		}
	}
	if (quoteSeen) {
		quoted = false; // the file ended right after a closing quote
		quoteSeen = false;
	}
	if (quoted) {
		yield new UnreadableRow(`line ${recordLine}: a quoted field is not closed before the end of the file`);
		return;
	}
	if (field !== '' || record.length > 0) yield* endRecord();
}

/**
 * JSON: either one array of objects (split element by element as it streams in) or JSON Lines
 * (one object per line).
 */
export async function* readJson(chunks: Chunks): AsyncGenerator<unknown> {
	let mode: 'unknown' | 'array' | 'lines' = 'unknown';
	let buffer = '';
	let depth = 0;
	let inString = false;
	let escaped = false;
	let line = 1;

	const parse = (text: string, where: string): unknown => {
		try {
			return JSON.parse(text);
		} catch (error) {
			return new UnreadableRow(`${where}: invalid JSON (${(error as Error).message})`);
		}
	};

	for await (const text of decode(chunks)) {
		for (let i = 0; i < text.length; i++) {
			const c = text[i];
			if (mode === 'unknown') {
				if (/\s|\uFEFF/.test(c)) continue;
				mode = c === '[' ? 'array' : 'lines';
				if (mode === 'array') continue;
			}
			if (mode === 'lines') {
				if (c === '\n') {
					if (buffer.trim() !== '') yield parse(buffer, `line ${line}`);
					buffer = '';
					line++;
				} else buffer += c;
				continue;
			}
			// array mode: cut the text at top-level commas
			if (inString) {
				buffer += c;
				if (escaped) escaped = false;
				else if (c === '\\') escaped = true;
				else if (c === '"') inString = false;
				continue;
			}
			if (c === '"') inString = true;
			else if (c === '{' || c === '[') depth++;
			else if (c === '}' || c === ']') {
				if (depth === 0) {
					if (buffer.trim() !== '') yield parse(buffer, `element ending at line ${line}`);
					buffer = '';
					mode = 'lines'; // anything after the array is read as more JSON Lines
					continue;
				}
				depth--;
			} else if (c === ',' && depth === 0) {
				yield parse(buffer, `element ending at line ${line}`);
				buffer = '';
				continue;
			}
			if (c === '\n') line++;
			buffer += c;
		}
	}
	if (buffer.trim() !== '') yield parse(buffer, mode === 'lines' ? `line ${line}` : 'the last element (the array is not closed)');
}

const COLUMN_ALIASES: Record<string, string[]> = {
	appId: ['app_id', 'appid', 'app'],
	platform: ['platform', 'os'],
	provider: ['provider'],
	token: ['token', 'push_token', 'device_token', 'registration_token', 'subscription'],
	deviceId: ['device_id', 'deviceid'],
	userId: ['user_id', 'userid', 'external_id', 'externalid'],
	environment: ['environment', 'apns_environment'],
};
const FIELD_OF_COLUMN = new Map(Object.entries(COLUMN_ALIASES).flatMap(([field, names]) => names.map((n) => [n, field] as const)));

/**
 * Maps a source row's columns (snake_case or camelCase) to import fields, filling appId and
 * platform from defaults when the file does not carry them. Empty cells count as absent.
 */
export function toImportRow(source: unknown, defaults: { appId?: string; platform?: string }): unknown {
	if (source instanceof UnreadableRow || typeof source !== 'object' || source === null || Array.isArray(source)) return source;
	const row: Record<string, unknown> = {};
	for (const [column, value] of Object.entries(source)) {
		const field = FIELD_OF_COLUMN.get(column.toLowerCase().replace(/[\s-]/g, '_')) ?? FIELD_OF_COLUMN.get(column.toLowerCase());
		if (field && value !== '' && value !== null && value !== undefined) row[field] = value;
	}
	row.appId ??= defaults.appId || undefined;
	row.platform ??= defaults.platform || undefined;
	return row;
}
