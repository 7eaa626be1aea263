/**
 * Import sources: CSV and JSON (an array or JSON Lines) read as a stream of chunks and turned
 * into rows one at a time, so a file of any size is imported in bounded memory.
 */
import { StringDecoder } from 'node:string_decoder';

/** A source row that could not be read at all; the import counts it invalid with this reason. */
export class UnreadableRow {
	constructor(readonly reason: string) {}
}

/**
 * The most characters one record may have: a CSV row (its fields and the commas between them), a
 * JSON array element or a JSON line. Past it nothing more of the record is kept (only the parser's
 * state, to find where the record ends), so one huge row cannot exhaust memory.
 */
export const MAX_RECORD_CHARS = 64 * 1024;

const CAP = MAX_RECORD_CHARS.toLocaleString('en-US');
const tooLong = (line: number) => `line ${line}: the row is longer than ${CAP} characters (a Web Push subscription is under 1 KB); skipped`;

/** A stream, or any (async) iterable of text or bytes. */
type Chunks = AsyncIterable<Buffer | string> | Iterable<Buffer | string>;

/**
 * Text from chunks of bytes; a UTF-8 character cut between two chunks is decoded whole. Each piece
 * of text is its chunk (the decoder holds back at most the 3 bytes of a cut character), with:
 * - no byte order mark (EF BB BF, as Excel writes it) at the start, where it would be read as part
 *   of the first column's name; its bytes may come in two chunks (it is decoded whole);
 * - one line break, LF, for each of the file's: CR LF, and a lone CR (old Mac files, some Excel
 *   exports), in quoted fields too; a CR LF cut between two chunks is one break.
 */
async function* decode(chunks: Chunks): AsyncGenerator<string> {
	const decoder = new StringDecoder('utf8');
	let start = true;
	let afterCr = false;
	const text = (piece: string) => {
		if (piece === '') return piece;
		if (start && piece.charCodeAt(0) === 0xfeff) piece = piece.slice(1);
		if (afterCr && piece.charCodeAt(0) === 0x0a) piece = piece.slice(1);
		start = false;
		afterCr = piece.endsWith('\r');
		return piece.replace(/\r\n?/g, '\n');
	};
	for await (const chunk of chunks) yield text(typeof chunk === 'string' ? chunk : decoder.write(chunk));
	yield text(decoder.end());
}

/** A run of characters with no meaning to the CSV parser, from where it is asked (sticky). */
const PLAIN = /[^,\n"]+/y;

/**
 * A CSV row's header (the same array for every row of a file), under a symbol no listing or
 * comparison of the row shows (not enumerable): what a row can be asked once per file (see presets' `lookup`) is asked once.
 */
export const HEADER = Symbol('CSV header');

/** A quoted field whole: its quotes, and inside them only other characters and doubled quotes. */
const QUOTED = /^"(?:[^"]|"")*"$/;

/**
 * A record that is one line, as most are, split by the engine's own split: its fields, or null
 * when the character parser must read it (a quoted field that goes on past the line, or quotes
 * where RFC 4180 does not put them).
 */
function splitLine(line: string): string[] | null {
	const parts = line.split(',');
	if (line.indexOf('"') < 0) return parts;
	const fields: string[] = [];
	for (let k = 0; k < parts.length; k++) {
		let part = parts[k];
		if (part.charCodeAt(0) !== 0x22) {
			if (part.indexOf('"') >= 0) return null;
			fields.push(part);
			continue;
		}
		// A quoted field may hold commas: its parts joined until one ends it (a quote, and an even
		// number of them so far), then checked once, so a line of many commas costs its length.
		let quotes = quotesIn(part);
		while (quotes % 2 !== 0 || part.length < 2 || part.charCodeAt(part.length - 1) !== 0x22) {
			if (++k >= parts.length) return null;
			quotes += quotesIn(parts[k]);
			part += ',' + parts[k];
		}
		if (!QUOTED.test(part)) return null;
		fields.push(part.slice(1, -1).replace(/""/g, '"'));
	}
	return fields;
}

function quotesIn(text: string): number {
	let n = 0;
	for (let at = text.indexOf('"'); at >= 0; at = text.indexOf('"', at + 1)) n++;
	return n;
}

/** RFC 4180 CSV: a header row, then records; quoted fields may hold commas, quotes ("") and line breaks. */
export async function* readCsv(chunks: Chunks): AsyncGenerator<Record<string, string> | UnreadableRow> {
	let header: string[] | null = null;
	let field = '';
	let record: string[] = [];
	let quoted = false;
	let quoteSeen = false;
	let afterQuote = false;
	let line = 1;
	let recordLine = 1;
	// Characters of this record so far: its fields' text and the commas. Past the cap none is kept;
	// what was kept before (at most the cap) goes with the record's end.
	let size = 0;

	// Set when the file cannot be read on.
	let stopped = false;

	/**
	 * Ends the record at a newline (or the end of the file): the row, an UnreadableRow, or nothing
	 * (a blank line, the header). A plain function: a generator per record costs more than the record.
	 */
	function endRecord(): Record<string, string> | UnreadableRow | undefined {
		record.push(field);
		field = '';
		const fields = record;
		record = [];
		const at = recordLine;
		recordLine = line;
		const over = size > MAX_RECORD_CHARS;
		size = 0;
		if (over) {
			// Without its header no row can be read: the file is unreadable, and reading stops.
			if (!header) {
				stopped = true;
				return new UnreadableRow(`line ${at}: the header is longer than ${CAP} characters; the file cannot be read`);
			}
			return new UnreadableRow(tooLong(at));
		}
		if (fields.length === 1 && fields[0].trim() === '') return undefined; // blank line
		if (!header) {
			header = fields.map((h) => h.trim());
			return undefined;
		}
		if (fields.length !== header.length) return new UnreadableRow(`line ${at}: expected ${header.length} fields as in the header, got ${fields.length}`);
		const row: Record<string, string> = {};
		for (let i = 0; i < header.length; i++) row[header[i]] = fields[i];
		Object.defineProperty(row, HEADER, { value: header });
		return row;
	}
	/** Adds a run of plain characters to the field. Past the cap one character stands for the field: the parser only asks whether it is empty. */
	const add = (run: string) => {
		size += run.length;
		if (size <= MAX_RECORD_CHARS) field += run;
		else field = run[run.length - 1];
	};

	for await (const text of decode(chunks)) {
		for (let i = 0; i < text.length; ) {
			// A whole record on one line of this chunk is split at once; the rest character by character.
			// (a blank line, and the newline after a split line, go on below: they end the record)
			if (record.length === 0 && field === '' && size === 0 && !quoted && !afterQuote && text.charCodeAt(i) !== 0x0a) {
				const end = text.indexOf('\n', i);
				const fields = end >= 0 && end - i <= MAX_RECORD_CHARS ? splitLine(text.slice(i, end)) : null;
				if (fields) {
					field = fields.pop()!;
					record = fields;
					size = end - i;
					i = end; // its newline ends it below
					continue;
				}
			}
			// Runs of plain characters are copied whole: a field up to its comma, newline or quote;
			// a quoted field up to its next quote (counting its line breaks).
			if (quoted && !quoteSeen) {
				const end = text.indexOf('"', i);
				const run = text.slice(i, end < 0 ? text.length : end);
				for (let at = run.indexOf('\n'); at >= 0; at = run.indexOf('\n', at + 1)) line++;
				if (run) add(run);
				if (end < 0) break;
				quoteSeen = true;
				i = end + 1;
				continue;
			}
			if (!quoted) {
				PLAIN.lastIndex = i;
				if (PLAIN.test(text)) {
					add(text.slice(i, PLAIN.lastIndex));
					i = PLAIN.lastIndex;
					continue;
				}
			}
			const c = text[i++];
			if (quoted) {
				// After a quote inside quotes: the first of an escaped pair ("") or the closing one.
				quoteSeen = false;
				if (c === '"') {
					add('"');
					continue;
				}
				quoted = false;
				afterQuote = true;
			}
			if (c === '"' && field === '' && !afterQuote) quoted = true;
			else if (c === ',') {
				if (++size <= MAX_RECORD_CHARS) record.push(field);
				field = '';
				afterQuote = false;
			} else if (c === '\n') {
				line++;
				afterQuote = false;
				const ended = endRecord();
				if (ended) yield ended;
				if (stopped) return;
			} else add(c);
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
	if (size > 0) {
		// a last record without a newline
		const ended = endRecord();
		if (ended) yield ended;
	}
}

/**
 * JSON: either one array of objects (split element by element as it streams in) or JSON Lines
 * (one object per line), where a line that is only "{" starts a pretty-printed object (as jq and
 * JSON.stringify(…, 2) write one; never a JSON line), read to its closing brace: one object
 * downloaded from an API, or several in a row.
 */
export async function* readJson(chunks: Chunks): AsyncGenerator<unknown> {
	let mode: 'unknown' | 'array' | 'lines' | 'object' = 'unknown';
	let buffer = '';
	let size = 0; // characters of this element or line so far; past the cap none is kept
	let depth = 0;
	let inString = false;
	let escaped = false;
	let line = 1;
	let elementLine = 1; // where the array element being read starts

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
				if (/\s/.test(c)) {
					if (c === '\n') line++;
					continue;
				}
				mode = c === '[' ? 'array' : 'lines';
				if (mode === 'array') continue;
			}
			if (mode === 'lines') {
				if (c === '\n' && size <= MAX_RECORD_CHARS && buffer.trim() === '{') {
					mode = 'object';
					buffer = '{';
					size = 1;
					depth = 1;
					elementLine = line++;
					continue;
				}
				if (c === '\n') {
					if (size > MAX_RECORD_CHARS) yield new UnreadableRow(tooLong(line));
					else if (buffer.trim() !== '') yield parse(buffer, `line ${line}`);
					buffer = '';
					size = 0;
					line++;
				} else if (++size <= MAX_RECORD_CHARS) buffer += c;
				continue;
			}
			// array mode: cut the text at top-level commas; object mode: at the brace that closes it
			if (c === '\n') line++;
			if (inString) {
				if (escaped) escaped = false;
				else if (c === '\\') escaped = true;
				else if (c === '"') inString = false;
			} else if (c === '"') inString = true;
			else if (c === '{' || c === '[') depth++;
			else if ((c === '}' || c === ']') && depth > 0) {
				if (--depth === 0 && mode === 'object') {
					if (++size > MAX_RECORD_CHARS) yield new UnreadableRow(tooLong(elementLine));
					else yield parse(buffer + c, `the object starting at line ${elementLine}`);
					buffer = '';
					size = 0;
					mode = 'lines';
					continue;
				}
			} else if (depth === 0 && (c === ',' || c === ']' || c === '}')) {
				if (size > MAX_RECORD_CHARS) yield new UnreadableRow(tooLong(elementLine));
				else if (c === ',' || buffer.trim() !== '') yield parse(buffer, `element ending at line ${line}`);
				buffer = '';
				size = 0;
				if (c !== ',') mode = 'lines'; // anything after the array is read as more JSON Lines
				continue;
			} else if (size === 0 && /\s/.test(c)) continue; // whitespace before an element is not part of it
			if (size === 0) elementLine = line;
			if (++size <= MAX_RECORD_CHARS) buffer += c;
		}
	}
	if (size > MAX_RECORD_CHARS) yield new UnreadableRow(tooLong(mode === 'lines' ? line : elementLine));
	else if (mode === 'object') yield new UnreadableRow(`the object starting at line ${elementLine}: not closed`);
	else if (buffer.trim() !== '') yield parse(buffer, mode === 'lines' ? `line ${line}` : 'the last element (the array is not closed)');
}
