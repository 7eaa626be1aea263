/**
 * What an import batch writes, whatever the engine: its rows, as the engines' batch writers
 * (store/engines/…/import.ts) insert them, and how their outcomes are counted.
 */
import { newId } from '../ids';
import { DEFAULT_PROVIDER, type ImportRow } from '../model';
import type { DevicesTable, ProfilesTable } from '../store/schema';
import { eventRow, storedData } from './records';

/** What happened to the tokens of one platform and provider. */
export interface ImportCounts {
	imported: number;
	/** The token (or its device id) is already in the store. */
	skippedExisting: number;
	/** Known dead (tombstoned): refused. */
	skippedDead: number;
	/** Marked unusable by the export itself. */
	skippedBySource: number;
}

export type ImportBatchRow = ReturnType<typeof ImportRow.parse>;

/** The devices' columns with their PostgreSQL types (a batch goes in as one array per column). */
export const DEVICE_TYPES: Record<keyof DevicesTable, string> = {
	id: 'text', app_id: 'text', token: 'text', device_id: 'text', platform: 'text', provider: 'text', token_kind: 'text', address_data: 'text',
	profile_id: 'text', foreground: 'smallint', push_enabled: 'smallint', provisional: 'smallint', last_status: 'text', consecutive_bounces: 'integer',
	registered_at: 'bigint', last_seen_at: 'bigint', last_active_at: 'bigint', time_zone: 'text', language: 'text', marketing_sent: 'text',
};

/** The columns an import writes, per table (SQLite binds them by position). */
export const COLUMNS = {
	profiles: ['id', 'external_id', 'kind', 'unsubscribed', 'created_at', 'updated_at'],
	devices: Object.keys(DEVICE_TYPES),
	token_events: ['at', 'type', 'app_id', 'token', 'device_id', 'from_profile_id', 'to_profile_id', 'from_external_id', 'to_external_id', 'reason'],
};

export function profileRow(userId: string | undefined, now: number): ProfilesTable {
	return { id: newId(), external_id: userId ?? null, kind: userId ? 'identified' : 'imported', unsubscribed: 0, created_at: now, updated_at: now };
}

export function deviceRow(row: ImportBatchRow, profileId: string, now: number): DevicesTable {
	return {
		id: newId(),
		app_id: row.appId,
		token: row.token,
		device_id: row.deviceId ?? null,
		platform: row.platform,
		provider: row.provider,
		token_kind: row.tokenKind,
		address_data: storedData(row.data),
		profile_id: profileId,
		foreground: 1,
		push_enabled: null,
		provisional: 0,
		last_status: 'unused',
		consecutive_bounces: 0,
		registered_at: now,
		last_seen_at: now,
		last_active_at: null,
		time_zone: row.timeZone ?? null,
		language: row.language ?? null,
		marketing_sent: null,
	};
}

export const importedEvent = (device: DevicesTable, userId: string | null, now: number) =>
	eventRow({ type: 'imported', device, to: { id: device.profile_id, external_id: userId }, reason: 'push token import' }, now);

export const platformKey = (platform?: string, provider?: string) => (platform ? `${platform}/${provider ?? DEFAULT_PROVIDER[platform as keyof typeof DEFAULT_PROVIDER] ?? '?'}` : 'other');

/** A batch's counts by `platform/provider`. */
export type BatchCounts = Map<string, Omit<ImportCounts, 'skippedBySource'>>;

export function tally(counts: BatchCounts, row: { platform: string; provider: string }, outcome: 'imported' | 'skippedExisting' | 'skippedDead', n = 1) {
	const key = platformKey(row.platform, row.provider);
	let entry = counts.get(key);
	if (!entry) counts.set(key, (entry = { imported: 0, skippedExisting: 0, skippedDead: 0 }));
	entry[outcome] += n;
}
