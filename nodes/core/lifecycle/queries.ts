/**
 * Reads: a profile with its push tokens (the export view), the changelog, a user's devices and
 * the audience of an app. The audience is streamed in pages by keyset, never one array.
 */
import { sql, type ExpressionBuilder, type SelectQueryBuilder } from 'kysely';
import type { z } from 'zod/v4';
import type { AudienceQuery, ChangelogPage, DeviceView, LastStatus, Platform, Provider, ProfileView, TokenEvent } from '../model';
import type { Database, Tx } from '../store/schema';
import { deviceView, eventView, profileView, type ProfileRow } from './records';

/** One entry of a profile's push tokens, as Braze's and Customer.io's exports show it. */
export interface PushTokenEntry {
	app_id: string;
	platform: Platform;
	provider: string;
	token: string;
	/** registration-token or fid (FCM), device-token (APNs), subscription (Web Push). */
	token_kind: string;
	device_id: string | null;
	/** "foreground" may show visible pushes; "background" gets silent pushes only. */
	registration: 'foreground' | 'background';
	push_enabled: boolean | null;
	notifications_enabled: boolean;
	provisional: boolean;
	last_status: LastStatus | '';
	last_seen_at: string;
	last_active_at: string | null;
	/** IANA name and BCP 47 tag, as the app or an import last said. */
	time_zone: string | null;
	language: string | null;
}

export interface ProfileExport extends ProfileView {
	/** Apps this profile is push-registered for: a foreground token that is not suppressed. */
	push_registered_for: string[];
	push_tokens: PushTokenEntry[];
}

export async function exportProfile(tx: Tx, profile: ProfileRow): Promise<ProfileExport> {
	const devices = (await tx.selectFrom('devices').selectAll().where('profile_id', '=', profile.id).orderBy('app_id').orderBy('registered_at').execute()).map(deviceView);
	return {
		...profileView(profile),
		push_registered_for: [...new Set(devices.filter(isPushRegistered).map((d) => d.appId))],
		push_tokens: devices.map((d) => ({
			app_id: d.appId,
			platform: d.platform,
			provider: d.provider,
			token: d.token,
			token_kind: d.tokenKind,
			device_id: d.deviceId,
			registration: d.foreground ? 'foreground' : 'background',
			push_enabled: d.pushEnabled,
			notifications_enabled: d.foreground && d.pushEnabled !== false,
			provisional: d.provisional,
			// Customer.io's API shows "unused" as an empty string; we keep the name.
			last_status: d.lastStatus,
			last_seen_at: d.lastSeenAt.toISOString(),
			last_active_at: d.lastActiveAt?.toISOString() ?? null,
			time_zone: d.timeZone,
			language: d.language,
		})),
	};
}

export function isPushRegistered(device: DeviceView): boolean {
	return device.foreground && device.lastStatus !== 'suppressed';
}

export async function changelog(tx: Tx, filter: { appId: string; token: string } | { userId: string }, page: ChangelogPage): Promise<TokenEvent[]> {
	let query = tx.selectFrom('token_events').selectAll();
	query =
		'userId' in filter
			? query.where((eb) => eb.or([eb('to_external_id', '=', filter.userId), eb('from_external_id', '=', filter.userId)]))
			: query.where('app_id', '=', filter.appId).where('token', '=', filter.token);
	if (page.before !== undefined) query = query.where('id', '<', page.before);
	return (await query.orderBy('id', page.newestFirst ? 'desc' : 'asc').limit(page.limit).execute()).map(eventView);
}

/** A device with who it belongs to: what a sender needs. */
export interface AudienceDevice extends DeviceView {
	userId: string | null;
	unsubscribed: boolean;
	/** Its latest marketing pushes (./caps.ts), for a frequency cap. */
	marketingSent: string | null;
}

type Query = z.output<typeof AudienceQuery>;
type DeviceQuery = SelectQueryBuilder<Database, 'devices' | 'profiles', object>;

/** The devices of one app a push may go to, by the query's rules. */
function eligible<Q extends DeviceQuery>(q: Q, query: Omit<Query, 'pageSize' | 'appId'> & { appId?: string }): Q {
	const kinds: Array<'identified' | 'imported' | 'anonymous'> = ['identified'];
	if (query.includeImported) kinds.push('imported');
	if (query.includeAnonymous) kinds.push('anonymous');
	let out = q.where('devices.last_status', '!=', 'suppressed').where('profiles.kind', 'in', kinds);
	if (query.appId !== undefined) out = out.where('devices.app_id', '=', query.appId);
	if (query.platform) out = out.where('devices.platform', '=', query.platform);
	if (query.visible) out = out.where('devices.foreground', '=', 1);
	if (!query.transactional) out = out.where('profiles.unsubscribed', '=', 0);
	return out as Q;
}

/** Why a device is left out of a push, as `eligible` decides it (the same rules in its order). */
export const EXCLUSIONS = ['suppressed', 'anonymous', 'imported', 'unsubscribed', 'backgroundOnly'] as const;
export type Exclusion = (typeof EXCLUSIONS)[number];

/** SQL naming the first rule of `eligible` that leaves a device (`d`, of profile `p`) out, or NULL when none does. */
function exclusion(query: Omit<Query, 'pageSize' | 'appId'>) {
	const kinds = ['identified', ...(query.includeImported ? ['imported'] : []), ...(query.includeAnonymous ? ['anonymous'] : [])];
	return sql<Exclusion | null>`CASE
		WHEN d.last_status = 'suppressed' THEN 'suppressed'
		WHEN p.kind NOT IN (${sql.join(kinds.map((k) => sql.lit(k)))}) THEN p.kind
		WHEN ${sql.lit(query.transactional ? 0 : 1)} = 1 AND p.unsubscribed = 1 THEN 'unsubscribed'
		WHEN ${sql.lit(query.visible ? 1 : 0)} = 1 AND d.foreground = 0 THEN 'backgroundOnly'
		ELSE NULL END`;
}

/** An app's devices by provider and by why they are left out of this audience: one scan, before a campaign. */
export async function audienceCensus(db: Tx, query: Query): Promise<{ providers: Provider[]; excluded: Record<Exclusion, number> }> {
	const { rows } = await sql<{ provider: Provider; excluded: Exclusion | null; n: number | string }>`
		SELECT d.provider, ${exclusion(query)} AS excluded, count(*) AS n
		FROM devices d JOIN profiles p ON p.id = d.profile_id
		WHERE d.app_id = ${query.appId} ${query.platform ? sql`AND d.platform = ${query.platform}` : sql``}
		GROUP BY 1, 2`.execute(db);
	const excluded = Object.fromEntries(EXCLUSIONS.map((e) => [e, 0])) as Record<Exclusion, number>;
	const providers = new Set<Provider>();
	for (const row of rows) {
		if (row.excluded) excluded[row.excluded] += Number(row.n);
		else providers.add(row.provider);
	}
	return { providers: [...providers], excluded };
}

/** For users none of whose devices a push may go to: how many of their devices each rule left out (none at all: no device). */
export async function userExclusions(db: Tx, userIds: string[], query: Omit<Query, 'pageSize' | 'appId'> & { appId?: string }): Promise<Map<string, Partial<Record<Exclusion, number>>>> {
	const out = new Map<string, Partial<Record<Exclusion, number>>>();
	const rules = exclusion({ ...query, includeImported: true, includeAnonymous: true });
	for (let i = 0; i < userIds.length; i += 1000) {
		const { rows } = await sql<{ external_id: string; excluded: Exclusion | null; n: number | string }>`
			SELECT p.external_id, ${rules} AS excluded, count(*) AS n
			FROM devices d JOIN profiles p ON p.id = d.profile_id
			WHERE p.external_id IN (${sql.join(userIds.slice(i, i + 1000))}) ${query.appId !== undefined ? sql`AND d.app_id = ${query.appId}` : sql``}
			GROUP BY 1, 2`.execute(db);
		for (const row of rows) {
			const counts = out.get(row.external_id) ?? out.set(row.external_id, {}).get(row.external_id)!;
			if (row.excluded) counts[row.excluded] = (counts[row.excluded] ?? 0) + Number(row.n);
		}
	}
	return out;
}

/** Keeps only each profile's most recently active eligible device (ties broken by id). */
function lastActiveOnly(query: Query) {
	return (eb: ExpressionBuilder<Database, 'devices' | 'profiles'>) =>
		eb.not(
			eb.exists(
				eb
					.selectFrom('devices as newer')
					.select('newer.id')
					.whereRef('newer.profile_id', '=', 'devices.profile_id')
					.whereRef('newer.app_id', '=', 'devices.app_id')
					.where('newer.last_status', '!=', 'suppressed')
					.$if(!!query.platform, (q) => q.where('newer.platform', '=', query.platform!))
					.$if(query.visible, (q) => q.where('newer.foreground', '=', 1))
					.where((w) =>
						w.or([
							w(w.fn.coalesce('newer.last_active_at', w.lit(0)), '>', w.fn.coalesce('devices.last_active_at', w.lit(0))),
							w.and([
								w(w.fn.coalesce('newer.last_active_at', w.lit(0)), '=', w.fn.coalesce('devices.last_active_at', w.lit(0))),
								w('newer.id', '>', w.ref('devices.id')),
							]),
						]),
					),
			),
		);
}

function audienceDevice(row: Parameters<typeof deviceView>[0] & { external_id: string | null; unsubscribed: number }): AudienceDevice {
	return { ...deviceView(row), userId: row.external_id, unsubscribed: row.unsubscribed === 1, marketingSent: row.marketing_sent };
}

export async function* audience(db: Tx, query: Query): AsyncGenerator<AudienceDevice[]> {
	let after = '';
	for (;;) {
		let q = db
			.selectFrom('devices')
			.innerJoin('profiles', 'profiles.id', 'devices.profile_id')
			.selectAll('devices')
			.select(['profiles.external_id', 'profiles.unsubscribed']);
		q = eligible(q, query);
		if (query.lastActiveOnly) q = q.where(lastActiveOnly(query));
		const rows = await q.where('devices.id', '>', after).orderBy('devices.id').limit(query.pageSize).execute();
		if (rows.length === 0) return;
		yield rows.map(audienceDevice);
		if (rows.length < query.pageSize) return;
		after = rows[rows.length - 1].id;
	}
}

/**
 * The devices a push to each of these users may go to, newest activity first (a user has a
 * handful; the users of an execution are read 1,000 to a query). A user with none is absent.
 */
export async function devicesOfUsers(db: Tx, userIds: string[], query: Omit<Query, 'pageSize' | 'appId'> & { appId?: string }): Promise<Map<string, AudienceDevice[]>> {
	const out = new Map<string, AudienceDevice[]>();
	const distinct = [...new Set(userIds)];
	for (let i = 0; i < distinct.length; i += 1000) {
		let q = db
			.selectFrom('devices')
			.innerJoin('profiles', 'profiles.id', 'devices.profile_id')
			.selectAll('devices')
			.select(['profiles.external_id', 'profiles.unsubscribed'])
			.where('profiles.external_id', 'in', distinct.slice(i, i + 1000));
		q = eligible(q, { ...query, includeImported: true, includeAnonymous: true });
		const rows = await q.orderBy((eb) => eb.fn.coalesce('devices.last_active_at', eb.lit(0)), 'desc').orderBy('devices.id', 'desc').execute();
		for (const row of rows) {
			const devices = out.get(row.external_id!);
			if (devices) devices.push(audienceDevice(row));
			else out.set(row.external_id!, [audienceDevice(row)]);
		}
	}
	if (query.lastActiveOnly) for (const [user, devices] of out) out.set(user, lastActivePerApp(devices));
	return out;
}

function lastActivePerApp(devices: AudienceDevice[]): AudienceDevice[] {
	const seen = new Set<string>();
	return devices.filter((d) => !seen.has(d.appId) && seen.add(d.appId));
}
