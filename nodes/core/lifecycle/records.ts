/**
 * What every rule shares: finding and creating profiles, finding a device, writing the
 * changelog, dropping a profile that a rule left empty, and turning rows into views.
 * Every function takes the transaction it runs in.
 */
import { newId } from '../ids';
import type { ExpressionBuilder, Selectable } from 'kysely';
import type { DeviceRef, DeviceView, ProfileKind, ProfileView, ProviderData, TokenEvent, TokenEventType } from '../model';
import { isProvider, PROVIDERS, providerModule } from '../providers';
import { tokenKey } from '../store/keys';
import type { Database, DevicesTable, ProfilesTable, TokenEventsTable, Tx } from '../store/schema';

export type DeviceRow = Selectable<DevicesTable>;
export type ProfileRow = Selectable<ProfilesTable>;

export async function profileById(tx: Tx, id: string): Promise<ProfileRow> {
	return tx.selectFrom('profiles').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** Profiles by id, in one query. */
export async function profilesById(tx: Tx, ids: Array<string | undefined>): Promise<Map<string, ProfileRow>> {
	const wanted = [...new Set(ids.filter((id) => id !== undefined))];
	const rows = wanted.length === 0 ? [] : await tx.selectFrom('profiles').selectAll().where('id', 'in', wanted).execute();
	return new Map(rows.map((row) => [row.id, row]));
}

/**
 * The lock keys (TransactionOptions.lock) of what a rule writes, from its input: the token, the
 * device id, the user and the send id it names, whether or not their rows exist yet. A second caller on any of
 * them waits until the first commits; callers on other devices and users never wait.
 */
export function lockKeys(input: { appId?: string; token?: string; deviceId?: string; userId?: string; sendId?: string }): string[] {
	const keys: string[] = [];
	if (input.sendId !== undefined) keys.push(`send\u0000${input.sendId}`);
	if (input.appId !== undefined && input.token !== undefined) keys.push(`token\u0000${tokenKey(input.appId, input.token)}`);
	if (input.appId !== undefined && input.deviceId !== undefined) keys.push(`device\u0000${input.appId}\u0000${input.deviceId}`);
	if (input.userId !== undefined) keys.push(`user\u0000${input.userId}`);
	return keys;
}

/**
 * The devices a rule will write, found by its token and by its device id in one query, and locked
 * (FOR UPDATE) until the rule commits: a concurrent rule on the same row waits, then reads it as
 * this one left it. (Their owners are read apart: a join would be re-checked against the old owner.)
 */
export async function lockDevices(tx: Tx, ref: { appId: string; token?: string; deviceId?: string }): Promise<{ byToken?: DeviceRow; byDevice?: DeviceRow }> {
	const rows = await tx
		.selectFrom('devices')
		.selectAll()
		.where('app_id', '=', ref.appId)
		.where(({ eb, or }) => or([...(ref.token === undefined ? [] : [eb('token', '=', ref.token)]), ...(ref.deviceId === undefined ? [] : [eb('device_id', '=', ref.deviceId)])]))
		.forUpdate()
		.execute();
	return {
		byToken: ref.token === undefined ? undefined : rows.find((r) => r.token === ref.token),
		byDevice: ref.deviceId === undefined ? undefined : rows.find((r) => r.device_id === ref.deviceId),
	};
}

export async function findOrCreateUser(tx: Tx, userId: string, now: number): Promise<ProfileRow> {
	const existing = await tx.selectFrom('profiles').selectAll().where('external_id', '=', userId).executeTakeFirst();
	if (existing) return existing;
	return createProfile(tx, 'identified', now, userId);
}

export async function createProfile(tx: Tx, kind: ProfileKind, now: number, userId: string | null = null): Promise<ProfileRow> {
	const row: ProfileRow = { id: newId(), external_id: userId, kind, unsubscribed: 0, created_at: now, updated_at: now };
	await tx.insertInto('profiles').values(row).execute();
	return row;
}

/** The device a reference points at, locked: by token first, then by device id. */
export async function findDevice(tx: Tx, ref: DeviceRef): Promise<DeviceRow | undefined> {
	const { byToken, byDevice } = await lockDevices(tx, ref);
	return byToken ?? byDevice;
}

export function deviceByToken(tx: Tx, appId: string, token: string): Promise<DeviceRow | undefined> {
	return tx.selectFrom('devices').selectAll().where('app_id', '=', appId).where('token', '=', token).executeTakeFirst();
}


/** Groups values by app id, for `app_id = ? AND x IN (...)` lookups. */
export function byApp<T extends { appId: string }>(rows: T[], pick: (row: T) => string | undefined): Map<string, string[]> {
	const groups = new Map<string, string[]>();
	for (const row of rows) {
		const value = pick(row);
		if (value === undefined) continue;
		const group = groups.get(row.appId);
		if (group) group.push(value);
		else groups.set(row.appId, [value]);
	}
	return groups;
}

export function describeRef(ref: DeviceRef): string {
	const by = ref.token !== undefined ? `token ${short(ref.token)}` : `device id "${ref.deviceId}"`;
	return `no device is registered for app "${ref.appId}" with ${by}`;
}

/** Tokens are long and are addresses: messages show only their ends. */
export function short(token: string): string {
	return token.length <= 16 ? `"${token}"` : `"${token.slice(0, 8)}…${token.slice(-6)}"`;
}

type ProfileRef = Pick<ProfileRow, 'id' | 'external_id'>;

export interface EventInput {
	type: TokenEventType;
	device: Pick<DeviceRow, 'app_id' | 'token' | 'device_id'>;
	from?: ProfileRef | null;
	to?: ProfileRef | null;
	reason?: string | null;
}

export function eventRow(event: EventInput, now: number): Omit<TokenEventsTable, 'id'> {
	return {
		at: now,
		type: event.type,
		app_id: event.device.app_id,
		token: event.device.token,
		device_id: event.device.device_id,
		from_profile_id: event.from?.id ?? null,
		to_profile_id: event.to?.id ?? null,
		from_external_id: event.from?.external_id ?? null,
		to_external_id: event.to?.external_id ?? null,
		reason: event.reason ?? null,
	};
}

export async function logEvents(tx: Tx, events: EventInput[], now: number): Promise<void> {
	if (events.length > 0) await tx.insertInto('token_events').values(events.map((e) => eventRow(e, now))).execute();
}

/**
 * Deletes a profile that holds no device any more when it is only a container for a token:
 * anonymous ones always, imported (temporary) ones when `imported` is set — identify merges
 * them into the real user; otherwise the monthly clean-up decides (Braze's rule).
 * Identified profiles are people and are never deleted here.
 */
export async function dropIfEmpty(tx: Tx, profile: ProfileRow, options: { imported: boolean }): Promise<boolean> {
	if (profile.kind === 'identified' || (profile.kind === 'imported' && !options.imported)) return false;
	const result = await tx
		.deleteFrom('profiles')
		.where('id', '=', profile.id)
		.where(withoutDevices)
		.executeTakeFirst();
	return result.numDeletedRows > 0n;
}

/** A `profiles` filter: rows that no device points at. */
export const withoutDevices = ({ not, exists, selectFrom }: ExpressionBuilder<Database, 'profiles'>) =>
	not(exists(selectFrom('devices').select('devices.id').whereRef('devices.profile_id', '=', 'profiles.id')));

/** The provider's data of a device, as its module reads the stored JSON (null: none, unreadable, or a provider no longer registered). */
export function deviceData(row: Pick<DeviceRow, 'provider' | 'address_data'>): ProviderData | null {
	if (row.address_data === null || !isProvider(row.provider)) return null;
	let stored: unknown;
	try {
		stored = JSON.parse(row.address_data);
	} catch {
		return null;
	}
	const parse = providerModule(row.provider).parseData;
	return parse ? parse(stored) : null;
}

/** The provider's data as the store keeps it. */
export const storedData = (data: ProviderData | null): string | null => (data === null ? null : JSON.stringify(data));

/** Every provider's shown fields, null: a device shows them all, those of its own provider filled (as before its data moved to one column). */
const NOTHING_SHOWN = Object.assign({}, ...PROVIDERS.map((id) => providerModule(id).show?.(null) ?? {})) as Record<string, unknown>;

/** The fields a device shows of its provider's data (APNs environment, Web Push webPushKeys): its module's `show`. */
export function shownData(provider: string, data: ProviderData | null): Record<string, unknown> {
	return { ...NOTHING_SHOWN, ...(isProvider(provider) ? providerModule(provider).show?.(data) : undefined) };
}

/** A device as the domain shows it: its provider's data (`data`, which transports read) and the fields the provider shows of it. */
export function deviceView(row: DeviceRow): DeviceView {
	const data = deviceData(row);
	return {
		id: row.id,
		appId: row.app_id,
		platform: row.platform,
		provider: row.provider,
		token: row.token,
		tokenKind: row.token_kind,
		...shownData(row.provider, data),
		data,
		deviceId: row.device_id,
		profileId: row.profile_id,
		foreground: row.foreground === 1,
		pushEnabled: row.push_enabled === null ? null : row.push_enabled === 1,
		provisional: row.provisional === 1,
		lastStatus: row.last_status,
		consecutiveBounces: row.consecutive_bounces,
		registeredAt: new Date(row.registered_at),
		lastSeenAt: new Date(row.last_seen_at),
		lastActiveAt: row.last_active_at === null ? null : new Date(row.last_active_at),
		timeZone: row.time_zone,
		language: row.language,
	};
}

export function profileView(row: ProfileRow): ProfileView {
	return {
		id: row.id,
		userId: row.external_id,
		kind: row.kind,
		unsubscribed: row.unsubscribed === 1,
		createdAt: new Date(row.created_at),
		updatedAt: new Date(row.updated_at),
	};
}

export function eventView(row: Selectable<TokenEventsTable>): TokenEvent {
	return {
		id: Number(row.id),
		at: new Date(row.at),
		type: row.type,
		appId: row.app_id,
		token: row.token,
		deviceId: row.device_id,
		fromProfileId: row.from_profile_id,
		toProfileId: row.to_profile_id,
		fromUserId: row.from_external_id,
		toUserId: row.to_external_id,
		reason: row.reason,
	};
}
