/**
 * What every push message has, whatever carries it; each provider adds its own options and builds
 * its payload (../providers/<id>/payload.ts). Custom key-value pairs go where the platform
 * expects them. "Flatten" puts nested pairs at the top level under dotted keys, for legacy
 * receivers (Braze's Flatten Push Payload).
 */
import { z } from 'zod/v4';
import { LanguageTag } from '../locale';

/** An optional text of at most `max` characters (a provider's own fields: 200). */
export const optionalText = (what: string, max = 1000) => z.string({ error: `expected ${what} as text` }).max(max, `expected ${what} of at most ${max} characters`).optional();

/** A plain object (of any realm, or without a prototype): JSON's objects, not arrays, dates or class instances. */
function isPairs(value: unknown): value is Record<string, unknown> {
	if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
	const proto = Object.getPrototypeOf(value) as object | null;
	return proto === null || Object.getPrototypeOf(proto) === null;
}

/** Deeper than any payload needs, shallow enough that flattening and JSON never exhaust the stack. */
const MAX_DATA_DEPTH = 32;

/** How deep objects and arrays nest in a value, counted without recursion (the value may be hostile); stops past the bound. */
function depth(value: unknown): number {
	let deepest = 0;
	const todo: Array<[unknown, number]> = [[value, 1]];
	while (todo.length > 0) {
		const [v, d] = todo.pop()!;
		if (v === null || typeof v !== 'object') continue;
		deepest = Math.max(deepest, d);
		if (deepest > MAX_DATA_DEPTH) break;
		for (const child of Object.values(v)) todo.push([child, d + 1]);
	}
	return deepest;
}

/**
 * Keys JavaScript gives a meaning on every object. A custom key `__proto__` was dropped by apns2
 * (which assigns the pairs) and sent by FCM and Web Push; and these three are how data merged into
 * an object by a JavaScript receiver (a service worker, an app) pollutes every object's prototype.
 * One rule for every provider, at any depth: refused, naming the field.
 */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** The path to the first reserved key in the data, or null (the data is at most MAX_DATA_DEPTH deep). */
function reservedKeyPath(value: unknown, path: string[]): string[] | null {
	if (value === null || typeof value !== 'object') return null;
	for (const [key, child] of Object.entries(value)) {
		if (!Array.isArray(value) && RESERVED_KEYS.has(key)) return [...path, key];
		const found = reservedKeyPath(child, [...path, key]);
		if (found) return found;
	}
	return null;
}

/** Apple's interruption levels of a notification (iOS 15+): APNs takes them, Expo passes them on. */
export const INTERRUPTION_LEVELS = ['active', 'critical', 'passive', 'time-sensitive'] as const;

export const MessageBase = z.object({
	title: optionalText('a title'),
	body: optionalText('a body', 4000),
	subtitle: optionalText('a subtitle'),
	imageUrl: z.url({ error: 'expected imageUrl to be a URL' }).optional(),
	deepLink: optionalText('a deep link', 2000),
	badge: z.number().int().min(0, 'expected badge to be 0 or more').optional(),
	sound: optionalText('a sound name', 200),
	/** Custom key-value pairs (not z.record: it throws a TypeError on a key named "constructor" set to null). */
	data: z
		.custom<Record<string, unknown>>(isPairs, { error: 'expected data to be an object of key-value pairs' })
		.refine((data) => depth(data) <= MAX_DATA_DEPTH, { error: `expected data nested at most ${MAX_DATA_DEPTH} levels deep`, abort: true })
		.superRefine((data, ctx) => {
			const path = reservedKeyPath(data, []);
			if (path) ctx.addIssue({ code: 'custom', path, message: 'expected no key named __proto__, constructor or prototype in data (JavaScript gives these names a meaning on every object)' });
		})
		.default({}),
	flatten: z.boolean().default(false),
	/** A background (silent) push: no alert, wakes the app. */
	silent: z.boolean().default(false),
	/** The text in other languages: a device gets its language's (see ./message.ts localize). */
	localized: z
		.array(z.object({ language: LanguageTag('the language'), title: optionalText('a title'), subtitle: optionalText('a subtitle'), body: optionalText('a body', 4000) }))
		.max(500, 'expected at most 500 languages')
		.superRefine((texts, ctx) => {
			const seen = new Set<string>();
			texts.forEach((t, i) => {
				if (seen.has(t.language)) ctx.addIssue({ code: 'custom', path: [i, 'language'], message: `expected each language once, got ${t.language} again` });
				seen.add(t.language);
			});
		})
		.default([]),
});
export type MessageBase = z.output<typeof MessageBase>;

/**
 * `{ a: { b: 1 } }` → `{ 'a.b': 1 }`. Built with Object.fromEntries, which keeps every key as its
 * own property: assigning `out[key]` would drop a key named "__proto__" (or set the prototype).
 */
export function flatten(data: Record<string, unknown>): Record<string, unknown> {
	return Object.fromEntries(flatEntries(data, ''));
}

function flatEntries(data: Record<string, unknown>, prefix: string): Array<[string, unknown]> {
	return Object.entries(data).flatMap(([key, value]) => {
		const name = prefix ? `${prefix}.${key}` : key;
		return value !== null && typeof value === 'object' && !Array.isArray(value) ? flatEntries(value as Record<string, unknown>, name) : [[name, value] as [string, unknown]];
	});
}

/** The message's key-value pairs as the app receives them (flattened if asked, the deep link added). */
export function customPairs(message: MessageBase): Record<string, unknown> {
	const pairs = message.flatten ? flatten(message.data) : { ...message.data };
	if (message.deepLink !== undefined) pairs.deep_link ??= message.deepLink;
	return pairs;
}

