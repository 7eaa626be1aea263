/**
 * The domain's names and views that the provider modules share with the rest of the core. It
 * imports no registry, so a provider module may import it (the model, which iterates the
 * registry, re-exports it).
 */

export const PLATFORMS = ['ios', 'android', 'web'] as const;
export const LAST_STATUSES = ['unused', 'sent', 'bounced', 'suppressed'] as const;
export const PROFILE_KINDS = ['identified', 'anonymous', 'imported'] as const;
export const OUTCOMES = ['delivered', 'invalid-token', 'bounced', 'retry', 'config-error'] as const;
export const TOKEN_EVENT_TYPES = [
	'registered',
	'refreshed',
	'superseded',
	'moved',
	'cleared',
	'imported',
	'sent',
	'bounced',
	'suppressed',
	'removed',
] as const;

export type Platform = (typeof PLATFORMS)[number];
export type LastStatus = (typeof LAST_STATUSES)[number];
export type ProfileKind = (typeof PROFILE_KINDS)[number];
export type Outcome = (typeof OUTCOMES)[number];
export type TokenEventType = (typeof TOKEN_EVENT_TYPES)[number];

/** What a provider keeps of a device beside its token (APNs its environment, Web Push the subscription's keys): its module's own JSON-able object. */
export type ProviderData = Readonly<Record<string, unknown>>;

/** A device as the domain shows it; `P` the provider ids (the registry's, as ./model.ts names them). */
export interface DeviceView<P extends string = string> {
	id: string;
	appId: string;
	platform: Platform;
	provider: P;
	token: string;
	/** The kind of address (the provider's `tokenKinds`: FCM registration-token or fid, APNs device-token, Web Push subscription). */
	tokenKind: string;
	/** The provider's own data of the device, as its module reads it (its `data`); null when it keeps none. */
	data: ProviderData | null;
	deviceId: string | null;
	profileId: string;
	foreground: boolean;
	pushEnabled: boolean | null;
	provisional: boolean;
	lastStatus: LastStatus;
	consecutiveBounces: number;
	registeredAt: Date;
	lastSeenAt: Date;
	lastActiveAt: Date | null;
	timeZone: string | null;
	language: string | null;
}

export interface ProfileView {
	id: string;
	userId: string | null;
	kind: ProfileKind;
	unsubscribed: boolean;
	createdAt: Date;
	updatedAt: Date;
}

export interface TokenEvent {
	id: number;
	at: Date;
	type: TokenEventType;
	appId: string;
	token: string;
	deviceId: string | null;
	fromProfileId: string | null;
	toProfileId: string | null;
	fromUserId: string | null;
	toUserId: string | null;
	reason: string | null;
}
