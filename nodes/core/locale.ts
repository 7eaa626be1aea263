/**
 * Where and in what language a device's user lives: IANA time zones and BCP 47 language tags,
 * checked and put in canonical form by the runtime's own Intl (no zone table of our own to age),
 * and the local time of day in a zone.
 */
import { z } from 'zod/v4';
import { describe } from './text';

/** Names already checked (a million-row import repeats a few dozen). */
const zones = new Map<string, Intl.DateTimeFormat | null>();

function zoneFormat(name: string): Intl.DateTimeFormat | null {
	let format = zones.get(name);
	if (format === undefined) {
		try {
			format = new Intl.DateTimeFormat('en-US', { timeZone: name, hourCycle: 'h23', hour: '2-digit', minute: '2-digit' });
		} catch {
			format = null;
		}
		if (zones.size < 10_000) zones.set(name, format);
	}
	return format;
}

/** The zone's canonical name (`europe/paris` → `Europe/Paris`), or null when Intl knows no such zone. */
export function canonicalTimeZone(name: string): string | null {
	return zoneFormat(name)?.resolvedOptions().timeZone ?? null;
}

/** The time of day in a zone at `at`, in minutes after local midnight (a zone Intl does not know: null). */
export function localMinutes(zone: string, at: number): number | null {
	const format = zoneFormat(zone);
	if (!format) return null;
	let hour = 0;
	let minute = 0;
	for (const part of format.formatToParts(at)) {
		if (part.type === 'hour') hour = Number(part.value);
		else if (part.type === 'minute') minute = Number(part.value);
	}
	return hour * 60 + minute;
}

/** The tag's canonical form (`fr-ca` → `fr-CA`), or null when it is no BCP 47 tag. */
export function canonicalLanguage(tag: string): string | null {
	try {
		return Intl.getCanonicalLocales(tag)[0] ?? null;
	} catch {
		return null;
	}
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
