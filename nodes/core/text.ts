/** Text rules every record shares: what a key or name may hold, and how a bad value is shown. */

/** C0 and C1 control characters and DEL: no key or name holds one (PostgreSQL's text refuses NUL). */
// eslint-disable-next-line no-control-regex -- finding them is the point
export const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** A UTF-16 surrogate without its pair: not a character, and stored as U+FFFD it would merge keys. */
export const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/**
 * What Unicode says shows nothing (Default_Ignorable_Code_Point): zero-width characters and
 * joiners, the soft hyphen, the BOM, bidirectional marks, embeddings, overrides and isolates,
 * variation selectors. No id holds one: `us\u200ber` and `user` would be two ids that look alike.
 */
export const INVISIBLE = /\p{Default_Ignorable_Code_Point}/u;

/** A character as U+XXXX (a way to show one that shows nothing). */
export const codePoint = (c: string) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** Free text from outside (a provider's reason): control characters and lone surrogates become spaces and U+FFFD, and it is cut to `max`. */
export const cleanText = (text: string, max: number) =>
	text.replace(new RegExp(CONTROL.source, 'g'), ' ').replace(new RegExp(LONE_SURROGATE.source, 'g'), '\ufffd').slice(0, max);

/** A short description of a bad value that never echoes a long or secret-looking string whole. */
export function describe(value: unknown): string {
	if (value === null) return 'null';
	if (value === undefined) return 'nothing';
	if (typeof value === 'string') {
		if (value.length === 0) return 'an empty string';
		return value.length > 40 ? `a ${value.length}-character string` : JSON.stringify(value);
	}
	if (Array.isArray(value)) return 'an array';
	return `a ${typeof value}`;
}

/** "a, b or c", for a message listing the values a field takes. */
export const oneOf = (values: readonly string[]) => (values.length > 1 ? `${values.slice(0, -1).join(', ')} or ${values.at(-1)}` : values.join(''));
