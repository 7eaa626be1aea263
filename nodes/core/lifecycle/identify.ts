/**
 * identify (login, changeUser) moves a device's token to the last user who logged in;
 * clearIdentify (logout) lets it go. Push providers cannot tell users on one device apart,
 * so the token belongs to whoever logged in last.
 */
import type { z } from 'zod/v4';
import { NotFoundError } from '../errors';
import type { ClearIdentifyInput, DeviceView, IdentifyInput, ProfileKind } from '../model';
import type { Tx } from '../store/schema';
import { checkClaim, type Caller } from './claims';
import { capDevicesPerUser } from './devices-per-user';
import { createProfile, describeRef, deviceView, dropIfEmpty, findDevice, logEvents, profileById } from './records';

export interface IdentifyResult {
	action: 'moved' | 'unchanged';
	device: DeviceView;
	userId: string;
	/** The user the token was taken from (null when it was anonymous or imported). */
	fromUserId: string | null;
	/** Whose the token was: a user's, an anonymous profile's or an imported one's (null when unchanged). */
	fromProfile: ProfileKind | null;
	/** Whether that anonymous or imported profile held only this token, so it was merged into the user and deleted. */
	mergedProfile: boolean;
	/** A bounced or suppressed status went back to unused. */
	statusReset: boolean;
}

/** `maxDevicesPerUser`: the store's cap (./devices-per-user.ts), 0 for none. */
export async function identify(tx: Tx, input: z.output<typeof IdentifyInput>, now: number, caller?: Caller, maxDevicesPerUser = 0): Promise<IdentifyResult> {
	const device = await findDevice(tx, input);
	if (!device) throw new NotFoundError(`identify: ${describeRef(input)}; register the token first`);
	// The user and the device's owner, in one read.
	const profiles = await tx.selectFrom('profiles').selectAll().where(({ or, eb }) => or([eb('external_id', '=', input.userId), eb('id', '=', device.profile_id)])).execute();
	const previous = profiles.find((p) => p.id === device.profile_id)!;
	checkClaim(caller, previous, 'move', device.token === input.token);
	const user = profiles.find((p) => p.external_id === input.userId) ?? (await createProfile(tx, 'identified', now, input.userId));
	const moved = previous.id !== user.id;
	const statusReset = device.last_status === 'bounced' || device.last_status === 'suppressed';

	const row = {
		...device,
		profile_id: user.id,
		last_seen_at: now,
		last_active_at: now,
		...(statusReset ? { last_status: 'unused' as const, consecutive_bounces: 0 } : {}),
	};
	await tx.updateTable('devices').set(row).where('id', '=', device.id).execute();
	// (an identify that changes nothing is no event)
	if (moved) await logEvents(tx, [{ type: 'moved', device, from: previous, to: user, reason: 'identify' }], now);
	else if (statusReset) await logEvents(tx, [{ type: 'refreshed', device, to: user, reason: `identify: ${device.last_status} status cleared` }], now);
	if (moved) await capDevicesPerUser(tx, user, row, maxDevicesPerUser, now);
	// An imported (temporary) or anonymous profile is merged into the user: it held only this token.
	const mergedProfile = moved && (await dropIfEmpty(tx, previous, { imported: true }));
	return {
		action: moved ? 'moved' : 'unchanged',
		device: deviceView(row),
		userId: input.userId,
		fromUserId: moved ? previous.external_id : null,
		fromProfile: moved ? previous.kind : null,
		mergedProfile,
		statusReset,
	};
}

export type ClearIdentifyResult =
	| { action: 'anonymized'; device: DeviceView; fromUserId: string | null }
	| { action: 'removed'; device: DeviceView; fromUserId: string | null }
	| { action: 'unchanged'; device: DeviceView; fromUserId: null };

export async function clearIdentify(tx: Tx, input: z.output<typeof ClearIdentifyInput>, now: number, caller?: Caller): Promise<ClearIdentifyResult> {
	const device = await findDevice(tx, input);
	if (!device) throw new NotFoundError(`clear identify: ${describeRef(input)}`);
	const owner = await profileById(tx, device.profile_id);
	checkClaim(caller, owner, 'logout', device.token === input.token);

	if (input.mode === 'remove') {
		await tx.deleteFrom('devices').where('id', '=', device.id).execute();
		await logEvents(tx, [{ type: 'cleared', device, from: owner, reason: 'logout: token removed' }], now);
		await dropIfEmpty(tx, owner, { imported: true });
		return { action: 'removed', device: deviceView(device), fromUserId: owner.external_id };
	}
	if (owner.kind !== 'identified') return { action: 'unchanged', device: deviceView(device), fromUserId: null };

	const anonymous = await createProfile(tx, 'anonymous', now);
	const row = { ...device, profile_id: anonymous.id, last_seen_at: now };
	await tx.updateTable('devices').set({ profile_id: anonymous.id, last_seen_at: now }).where('id', '=', device.id).execute();
	await logEvents(tx, [{ type: 'cleared', device, from: owner, to: anonymous, reason: 'logout: token is anonymous again' }], now);
	return { action: 'anonymized', device: deviceView(row), fromUserId: owner.external_id };
}
