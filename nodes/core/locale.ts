/**
 * Where and in what language a device's user lives: IANA time zones and BCP 47 language tags,
 * checked and put in canonical form by the runtime's own Intl (no zone table of our own to age),
 * and the time of day in a zone.
 */
import { z } from 'zod/v4';
import { describe } from './text';

/**
 * Names and tags already checked, with their canonical form (null: refused): a million-row import
 * repeats a few dozen, and Intl takes microseconds each. Bounded, so input of ever new names cannot grow them.
 */
const zones = new Map<string, string | null>();
const tags = new Map<string, string | null>();

/**
 * The longest name or tag taken: IANA names are at most 32 characters (America/Argentina/ComodRivadavia),
 * and real tags well under this; a private-use tag (en-x-…) may be any length, and is not stored or cached.
 */
const MAX_LENGTH = 64;

function cached(cache: Map<string, string | null>, key: string, canonical: (key: string) => string | null): string | null {
	if (key.length > MAX_LENGTH) return null;
	let value = cache.get(key);
	if (value === undefined) {
		try {
			value = canonical(key);
		} catch {
			value = null; // Intl's RangeError: no such zone, no such tag
		}
		if (cache.size < 10_000) cache.set(key, value);
	}
	return value;
}

/**
 * The zone's canonical name (`europe/paris` → `Europe/Paris`), or null when Intl knows no such
 * zone. A bare offset (+05:00), which Intl also takes, is refused: it has no daylight saving rules.
 */
export const canonicalTimeZone = (name: string): string | null =>
	cached(zones, name, (zone) => {
		const resolved = new Intl.DateTimeFormat('en', { timeZone: zone }).resolvedOptions().timeZone;
		return /^[+-]/.test(resolved) ? null : resolved;
	});

/** The tag's canonical form (`fr-ca` → `fr-CA`), or null when it is no BCP 47 tag. */
export const canonicalLanguage = (tag: string): string | null => cached(tags, tag, (t) => Intl.getCanonicalLocales(t)[0] ?? null);

/** A formatter per canonical zone (their number is bounded by Intl's zones). */
const clocks = new Map<string, Intl.DateTimeFormat>();

/** The time of day in a zone at `at`, in minutes after local midnight (a zone Intl does not know: null). */
export function localMinutes(zone: string, at: number): number | null {
	const name = canonicalTimeZone(zone);
	if (name === null) return null;
	let clock = clocks.get(name);
	if (!clock) clocks.set(name, (clock = new Intl.DateTimeFormat('en-US', { timeZone: name, hourCycle: 'h23', hour: '2-digit', minute: '2-digit' })));
	let minutes = 0;
	for (const part of clock.formatToParts(at)) {
		if (part.type === 'hour') minutes += Number(part.value) * 60;
		else if (part.type === 'minute') minutes += Number(part.value);
	}
	return minutes;
}

/** A tag and the broader tags it falls back to, most specific first: `zh-Hant-TW` → `zh-Hant-TW`, `zh-Hant`, `zh`. */
export function languageChain(tag: string): string[] {
	const parts = tag.split('-');
	return parts.map((_, i) => parts.slice(0, parts.length - i).join('-'));
}

/** An IANA time zone name, in its canonical form. */
export const TimeZoneName = (field: string) =>
	z.string({ error: `expected ${field} as an IANA time zone name such as Europe/Paris` }).transform((name, ctx) => {
		const zone = canonicalTimeZone(name.trim());
		if (zone) return zone;
		ctx.addIssue({ code: 'custom', message: `expected ${field} as an IANA time zone name such as Europe/Paris, got ${describe(name)}` });
		return z.NEVER;
	});

/** A BCP 47 language tag, in its canonical form. */
export const LanguageTag = (field: string) =>
	z.string({ error: `expected ${field} as a BCP 47 language tag such as fr or pt-BR` }).transform((tag, ctx) => {
		const canonical = canonicalLanguage(tag.trim());
		if (canonical) return canonical;
		ctx.addIssue({ code: 'custom', message: `expected ${field} as a BCP 47 language tag such as fr or pt-BR, got ${describe(tag)}` });
		return z.NEVER;
	});
