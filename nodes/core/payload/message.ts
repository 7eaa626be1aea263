/**
 * A push message: what every message has (./base) and each provider's options under its id, as
 * the registry lists them. Sizes are checked against each provider's limit before anything is sent.
 */
import type { z } from 'zod/v4';
import { PROVIDER_MODULES, PROVIDERS, providerModule, type Provider } from '../providers';
import { MessageBase } from './base';

type OptionsShape = { [K in Provider]: z.ZodDefault<(typeof PROVIDER_MODULES)[K]['options']> };

export const PushMessage = MessageBase.extend(Object.fromEntries(PROVIDERS.map((id) => [id, providerModule(id).options.default({})])) as OptionsShape);
export type PushMessage = z.output<typeof PushMessage>;
export type PushMessageInput = z.input<typeof PushMessage>;

/** Provider payload limits, in bytes. */
export const PAYLOAD_LIMITS = Object.fromEntries(PROVIDERS.map((id) => [id, PROVIDER_MODULES[id].payloadLimit])) as Record<Provider, number>;

/** The size of what the provider will receive, and its limit. */
export function payloadSize(provider: Provider, message: PushMessage): { bytes: number; limit: number } {
	const module = providerModule(provider);
	return { bytes: module.payloadBytes(message), limit: module.payloadLimit };
}
