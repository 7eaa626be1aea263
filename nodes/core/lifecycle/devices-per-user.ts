/**
 * The store's cap on devices per user and app (the credential's Max Devices per User; 0: none),
 * as OneSignal keeps a user to 20 devices. When a register or an identify brings a device to a
 * user who then holds more than the cap of that app, the least recently active of the others are
 * detached to an anonymous profile each, as a logout would: not deleted, their tokens stay
 * registered and valid. The caller holds the user's key lock (lockKeys), so two logins of one
 * user on two new devices queue, and the second counts the first's device.
 */
import type { Tx } from '../store/schema';
import { createProfile, logEvents, type DeviceRow, type EventInput, type ProfileRow } from './records';

/** Least recently active first: last active (never, for an imported token, first), then last seen, then id. */
const byActivity = (a: DeviceRow, b: DeviceRow) =>
	(a.last_active_at ?? -1) - (b.last_active_at ?? -1) || a.last_seen_at - b.last_seen_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Detaches `user`'s devices of `joined`'s app beyond `max`, never `joined` itself (the device this call brought). */
export async function capDevicesPerUser(tx: Tx, user: ProfileRow, joined: DeviceRow, max: number, now: number): Promise<void> {
	if (max <= 0) return;
	// Locked: a concurrent move of one of them away (to another user, a logout) is waited for, then not counted.
	const devices = await tx.selectFrom('devices').selectAll().where('profile_id', '=', user.id).where('app_id', '=', joined.app_id).forUpdate().execute();
	if (devices.length <= max) return;
	const detached = devices
		.filter((d) => d.id !== joined.id)
		.sort(byActivity)
		.slice(0, devices.length - max);
	const events: EventInput[] = [];
	for (const device of detached) {
		const anonymous = await createProfile(tx, 'anonymous', now);
		await tx.updateTable('devices').set({ profile_id: anonymous.id }).where('id', '=', device.id).execute();
		events.push({ type: 'moved', device, from: user, to: anonymous, reason: `over the ${max} devices per user of app "${joined.app_id}": least recently active detached` });
	}
	await logEvents(tx, events, now);
}
