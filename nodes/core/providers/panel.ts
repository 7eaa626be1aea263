/**
 * What n8n's editor shows of a provider, without n8n: the node files (nodes/SendPush,
 * nodes/RegisterPushToken, nodes/shared) build the credential slots, credential tests and option
 * collections by iterating the registry, so a new provider needs no edit there.
 */
import { INTERRUPTION_LEVELS } from '../payload/base';

/** Apple's interruption levels as options ('time-sensitive': Time Sensitive), for APNs' and Expo's panels. */
export const interruptionLevelOptions = INTERRUPTION_LEVELS.map((value) => ({ name: value.split('-').map((word) => word[0].toUpperCase() + word.slice(1)).join(' '), value }));

/** One message option as the editor shows it: the shape of n8n's INodeProperties (declared here: the core imports no n8n). */
export interface PanelField {
	displayName: string;
	name: string;
	type: 'string' | 'number' | 'boolean' | 'options';
	options?: Array<{ name: string; value: string; description?: string }>;
	default: string | number | boolean;
	description?: string;
	placeholder?: string;
	typeOptions?: { minValue?: number; maxValue?: number };
}

export interface ProviderPanel {
	/** Its credential slot on Send Push (the short label, in options and errors, is the module's `name`). */
	readonly credentialLabel: string;
	/** The parameter of Send Push v2 holding its options (a saved workflow's name for them: never renamed). */
	readonly parameter: string;
	/** Its options on Send Push v2, in the order shown. */
	readonly fields: readonly PanelField[];
	/**
	 * Its message options (under `message[id]`) from what the panel set: the fields above by name,
	 * beside the shared options (`ttlSeconds`); an empty text is absent.
	 */
	options(values: Record<string, unknown>): Record<string, unknown>;
	/** Its option that makes a second copy of a push replace the first on the device (see Resend Lost Answers). */
	readonly collapseOption?: string;
}
