/**
 * register: an app open (or SDK call) reports its token. Upsert by (app, token); anonymous until
 * identified; every call refreshes last_seen; a new token for the same (app, device id)
 * supersedes the old one (not tombstoned: it was replaced, not dead — an FCM registration token
 * replaced by the device's installation id is the common case, which its module names: its
 * `supersedeReason`); a token known dead is refused.
 */
import { newId } from '../ids';
import { providerModule } from '../providers';
import type { z } from 'zod/v4';
import type { DeviceView, RegisterInput } from '../model';
import type { Tx } from '../store/schema';
import { checkClaim, type Caller } from './claims';
import { capDevicesPerUser } from './devices-per-user';
import {
	createProfile,
	deviceData,
	deviceView,
	dropIfEmpty,
	findOrCreateUser,
	logEvents,
	lockDevices,
	profilesById,
	shownData,
	storedData,
	type DeviceRow,
	type EventInput,
	type ProfileRow,
} from './records';

export type RegisterRecord = z.output<typeof RegisterInput>;

export type RegisterResult =
	| {
			action: 'registered' | 'refreshed';
			device: DeviceView;
			userId: string | null;
			/** The older token this one replaced on the same device. */
			supersededToken: string | null;
			/** The user the token was taken from, when a user id moved it. */
			movedFromUserId: string | null;
			/** What this app open changed on a known token (deviceId, foreground, …), as the device shows them. */
			changed: string[];
	  }
	| { action: 'refused'; reason: string; device: null };

/**
 * The columns whose change an app open records, and the device's field each is; the provider's
 * data counts by the fields its module shows of it (APNs environment, Web Push webPushKeys).
 */
const CHANGES = {
	platform: 'platform',
	provider: 'provider',
	token_kind: 'tokenKind',
	address_data: 'data',
	device_id: 'deviceId',
	foreground: 'foreground',
	push_enabled: 'pushEnabled',
	provisional: 'provisional',
	time_zone: 'timeZone',
	language: 'language',
} as const;

/** An object (the Web Push keys: the browser's secrets) is named in the changelog, not shown. */
const plain = (v: unknown) => v === null || typeof v !== 'object';

/** What changed of a device, field by field, with the words the changelog says of each. */
function changesOf(existing: DeviceRow, row: DeviceRow): Array<{ field: string; words: string }> {
	const out: Array<{ field: string; words: string }> = [];
	for (const [column, field] of Object.entries(CHANGES) as Array<[keyof typeof CHANGES, string]>) {
		if (column !== 'address_data') {
			if (row[column] !== existing[column]) out.push({ field, words: `${column} ${String(existing[column])} → ${String(row[column])}` });
			continue;
		}
		// (the same JSON of the same provider shows the same: no parse on a routine app open)
		if (row.address_data === existing.address_data && row.provider === existing.provider) continue;
		const before = shownData(existing.provider, deviceData(existing));
		const after = shownData(row.provider, deviceData(row));
		for (const shown of Object.keys(after)) {
			const [was, is] = [before[shown], after[shown]];
			if (JSON.stringify(was) === JSON.stringify(is)) continue;
			out.push({ field: shown, words: plain(was) && plain(is) ? `${shown} ${String(was)} → ${String(is)}` : `${shown} changed` });
		}
	}
	return out;
}

const flag = (value: boolean | undefined, fallback: 0 | 1): 0 | 1 => (value === undefined ? fallback : value ? 1 : 0);

/** `maxDevicesPerUser`: the store's cap (./devices-per-user.ts), 0 for none. */
export async function register(tx: Tx, input: RegisterRecord, now: number, caller?: Caller, maxDevicesPerUser = 0): Promise<RegisterResult> {
	const { byToken: existing, byDevice: sameDevice } = await lockDevices(tx, input);
	// A registered token is not dead (a tombstone removes its device): only a new one is looked up.
	const dead = existing
		? undefined
		: await tx.selectFrom('dead_tokens').select(['reason', 'at']).where('app_id', '=', input.appId).where('token', '=', input.token).executeTakeFirst();
	if (dead) {
		return {
			action: 'refused',
			device: null,
			reason: `the token is dead (${dead.reason}, since ${new Date(dead.at).toISOString()}); the app must get a new token from its provider`,
		};
	}
	const superseded = sameDevice && sameDevice.token !== input.token ? sameDevice : undefined;

	// The owner: the user named, else whoever held this token, else whoever held the device's old token.
	const previousOwner = existing ?? superseded;
	const owners = await profilesById(tx, [existing?.profile_id, superseded?.profile_id]);
	if (superseded) checkClaim(caller, owners.get(superseded.profile_id)!, 'supersede', false);
	const formerProfile = previousOwner && owners.get(previousOwner.profile_id);
	const owner: ProfileRow = input.userId
		? await findOrCreateUser(tx, input.userId, now)
		: (formerProfile ?? (await createProfile(tx, 'anonymous', now)));

	const events: EventInput[] = [];
	const supersededOwner = superseded && owners.get(superseded.profile_id);
	if (superseded) {
		await tx.deleteFrom('devices').where('id', '=', superseded.id).execute();
		// A move the provider knows (its own kinds of address) says why; any other is a new token.
		const known = superseded.provider === input.provider ? providerModule(input.provider).supersedeReason?.(superseded.token_kind, input.tokenKind) : null;
		events.push({ type: 'superseded', device: superseded, from: supersededOwner, reason: known ?? 'a new token was registered for the same device' });
	}
	const mergeData = providerModule(input.provider).mergeData;
	const data = mergeData ? mergeData(existing?.provider === input.provider ? deviceData(existing) : null, input.data) : input.data;

	const fields = {
		platform: input.platform,
		provider: input.provider,
		token_kind: input.tokenKind,
		address_data: storedData(data),
		device_id: input.deviceId ?? existing?.device_id ?? null,
		profile_id: owner.id,
		foreground: flag(input.foreground, existing?.foreground ?? 1),
		// An app that says nothing of its notification settings has them on (the node's default), unless known off.
		push_enabled: flag(input.pushEnabled, existing?.push_enabled ?? 1),
		provisional: flag(input.provisional, existing?.provisional ?? 0),
		// An open that does not say keeps what an earlier one said (absent is no clearing).
		time_zone: input.timeZone ?? existing?.time_zone ?? null,
		language: input.language ?? existing?.language ?? null,
		last_seen_at: now,
		last_active_at: now,
	};

	let row: DeviceRow;
	let movedFrom: ProfileRow | undefined;
	let changed: Array<{ field: string; words: string }> = [];
	if (existing) {
		const moved = existing.profile_id !== owner.id;
		// A registration that names a user is an identify: it clears bounced/suppressed.
		const reset = input.userId !== undefined && (existing.last_status === 'bounced' || existing.last_status === 'suppressed');
		row = {
			...existing,
			...fields,
			...(reset ? { last_status: 'unused' as const, consecutive_bounces: 0 } : {}),
		};
		await tx.updateTable('devices').set(row).where('id', '=', existing.id).execute();
		changed = changesOf(existing, row);
		if (moved) {
			movedFrom = formerProfile;
			events.push({ type: 'moved', device: row, from: formerProfile, to: owner, reason: 'registered with a user id' });
		} else {
			// An app open that changes nothing is no event: last_seen_at and last_active_at say it.
			if (reset || changed.length > 0) {
				const what = new Set([...(reset ? [`${existing.last_status} status cleared`] : []), ...changed.map((c) => c.words)]);
				events.push({ type: 'refreshed', device: row, to: owner, reason: `app open: ${[...what].join(', ')}` });
			}
		}
	} else {
		row = {
			id: newId(),
			app_id: input.appId,
			token: input.token,
			...fields,
			last_status: 'unused',
			consecutive_bounces: 0,
			registered_at: now,
			marketing_sent: null,
		};
		await tx.insertInto('devices').values(row).execute();
		events.push({ type: 'registered', device: row, to: owner });
		if (superseded && formerProfile && formerProfile.id !== owner.id) movedFrom = formerProfile;
	}
	await logEvents(tx, events, now);
	// A device new to the user named: a new token, or one (or its device's old one) that was someone else's.
	if (input.userId !== undefined && previousOwner?.profile_id !== owner.id) await capDevicesPerUser(tx, owner, row, maxDevicesPerUser, now);
	for (const left of new Set([formerProfile, supersededOwner])) {
		if (left && left.id !== owner.id) await dropIfEmpty(tx, left, { imported: true });
	}

	return {
		action: existing ? 'refreshed' : 'registered',
		device: deviceView(row),
		userId: owner.external_id,
		supersededToken: superseded?.token ?? null,
		movedFromUserId: movedFrom?.external_id ?? null,
		changed: changed.map((c) => c.field),
	};
}
