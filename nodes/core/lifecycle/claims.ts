/**
 * Who may change a device, when the call comes from outside (the app endpoint) rather than from
 * a workflow, which is trusted. A device id is not a secret (an IDFV, an Android ID), nor is a
 * user id; what a caller can prove is a user (the app backend's HMAC or JWT) and the token it
 * holds (the device's own address, given to no one else). So: a device owned by an identified
 * user changes only for a caller with that user's proof, or one holding the device's token —
 * never to log the device out of its user, which needs that user's proof whoever calls.
 */
import { ForbiddenError } from '../errors';
import type { ProfileRow } from './records';

/** An outside caller: the user it proved (null: none). */
export interface Caller {
	userId: string | null;
}

export type Change = 'supersede' | 'move' | 'logout';

const NEEDS: Record<Change, string> = {
	supersede: 'a new token for this device id',
	move: 'moving this device',
	logout: 'logging this device out',
};

/** Throws when `caller` may not make `change` to a device owned by `owner`; `holdsToken`: the call gave the device's own token. */
export function checkClaim(caller: Caller | undefined, owner: ProfileRow, change: Change, holdsToken: boolean): void {
	if (!caller || owner.kind !== 'identified' || owner.external_id === caller.userId) return;
	if (holdsToken && change !== 'logout') return;
	// (the owner is not named: the caller has not proved it may know who that is)
	throw new ForbiddenError(`${NEEDS[change]} needs the proof of the user it belongs to`);
}
