/**
 * A push message: what every message has (./base) and each provider's options under its id, as
 * the registry lists them. Sizes are checked against each provider's limit before anything is sent.
 */
import type { z } from 'zod/v4';
import { languageChain } from '../locale';
import { PROVIDER_MODULES, PROVIDERS, providerModule, type Provider } from '../providers';
import { MessageBase } from './base';

type OptionsShape = { [K in Provider]: z.ZodDefault<(typeof PROVIDER_MODULES)[K]['options']> };

export const PushMessage = MessageBase.extend(Object.fromEntries(PROVIDERS.map((id) => [id, providerModule(id).options.default({})])) as OptionsShape).superRefine((message, ctx) => {
	for (const id of PROVIDERS) for (const issue of providerModule(id).messageIssues?.(message) ?? []) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
});
export type PushMessage = z.output<typeof PushMessage>;
export type PushMessageInput = z.input<typeof PushMessage>;

/** Provider payload limits, in bytes. */
export const PAYLOAD_LIMITS = Object.fromEntries(PROVIDERS.map((id) => [id, PROVIDER_MODULES[id].payloadLimit])) as Record<Provider, number>;

/** The size of what the provider will receive, and its limit. */
export function payloadSize(provider: Provider, message: PushMessage): { bytes: number; limit: number } {
	const module = providerModule(provider);
	return { bytes: module.payloadBytes(message), limit: module.payloadLimit };
}

/** Each message's text per device language, made once (a campaign has one message and a few dozen languages). */
const localizations = new WeakMap<PushMessage, Map<string, PushMessage>>();

/**
 * The message in a language: the localized text for the tag or the broader tags it falls back to
 * (`fr-CA` → `fr`), else the message as written. A localized text replaces the title, subtitle and
 * body together (no sentence half in another language).
 */
export function localize(message: PushMessage, language: string | null): PushMessage {
	if (message.localized.length === 0 || language === null) return message;
	let byLanguage = localizations.get(message);
	if (!byLanguage) localizations.set(message, (byLanguage = new Map()));
	let localized = byLanguage.get(language);
	if (!localized) {
		const text = languageChain(language).map((tag) => message.localized.find((t) => t.language === tag)).find((t) => t !== undefined);
		localized = text ? { ...message, title: text.title, subtitle: text.subtitle, body: text.body, localized: [] } : message;
		if (byLanguage.size < 1000) byLanguage.set(language, localized);
	}
	return localized;
}

/** The message as written (language null) and in each of its languages. */
export const everyLanguage = (message: PushMessage): Array<[string | null, PushMessage]> => [[null, message], ...message.localized.map((t) => [t.language, localize(message, t.language)] as [string, PushMessage])];
