/**
 * The registry: every provider module, by id. The model (address shapes), the payload (options
 * and sizes), the sender (chunk sizes), the answer tables and the credential mapping iterate it;
 * adding a provider is a folder and a line here (CONTRIBUTING.md).
 */
import { apns } from './apns';
import { expo } from './expo';
import { fcm } from './fcm';
import type { ProviderModule } from './provider';
import { webpush } from './webpush';

export const PROVIDER_MODULES = { apns, expo, fcm, webpush } as const;

export type Provider = keyof typeof PROVIDER_MODULES;
export const PROVIDERS = Object.keys(PROVIDER_MODULES) as [Provider, ...Provider[]];

/** A module, as the code that iterates them sees it. */
export const providerModule = (id: Provider): ProviderModule => PROVIDER_MODULES[id] as unknown as ProviderModule;
export const isProvider = (id: string): id is Provider => Object.hasOwn(PROVIDER_MODULES, id);

/** The provider whose own shape the token has (an Expo push token), if one claims it: it goes there whatever else was guessed. */
export const ownerOf = (token: unknown): Provider | undefined => PROVIDERS.find((id) => providerModule(id).owns?.(token));
