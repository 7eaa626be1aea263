import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NotFoundError, parseInput, UserId, type AudienceDevice, type Exclusion } from '../../core';
import { appIdField, optional, userIdField } from '../../shared/fields';
import { readMessage, sendOptions } from '../message';
import { itemParameters } from '../../shared/parameters';
import { eachItem, sendItems, type ItemPlan } from './items';
import type { SendContext } from './context';

const show = { show: { target: ['user'] } };

export const description: INodeProperties[] = [
	{ ...userIdField, required: true, displayOptions: show },
	{ ...appIdField, required: false, description: 'Only devices of this app (empty: every app of the user)', displayOptions: show },
	{ displayName: 'Last Active Device Only', name: 'lastActiveOnly', type: 'boolean', default: false, description: "Whether to send only to each user's most recently active device", displayOptions: show },
];

/** Each item to its user's devices; the users of a chunk of items are read together. */
export async function execute(this: IExecuteFunctions, { store, sender, readFields }: SendContext): Promise<INodeExecutionData[]> {
	const read = itemParameters(this);
	return sendItems(this, sender, async (from, to) => {
		const asked = await eachItem(from, to, (i) => {
			const { message, options } = readMessage(this, read, i, readFields);
			return {
				message,
				send: sendOptions(options),
				userId: parseInput(UserId, read('userId', i), 'user id'),
				query: { appId: optional(read('appId', i, '')), lastActiveOnly: read('lastActiveOnly', i, false), transactional: !!options.transactional, visible: !message.silent },
			};
		});
		// One read per distinct device query (usually one).
		const queries = new Map<string, { query: { appId?: unknown }; users: string[]; found?: Map<string, AudienceDevice[] | null>; excluded?: Map<string, Partial<Record<Exclusion, number>>>; error?: Error }>();
		for (const a of asked) {
			if (a instanceof Error) continue;
			const key = JSON.stringify(a.query);
			const entry = queries.get(key) ?? queries.set(key, { query: a.query, users: [] }).get(key)!;
			entry.users.push(a.userId);
		}
		for (const entry of queries.values()) {
			try {
				entry.found = await store.devicesOfUsers(entry.users, entry.query);
				// Users reached by nothing: why, per rule (one read for all of them).
				const none = entry.users.filter((u) => entry.found!.get(u)?.length === 0);
				if (none.length > 0) entry.excluded = await store.userExclusions(none, entry.query);
			} catch (error) {
				entry.error = error as Error;
			}
		}
		return asked.map((a): ItemPlan | Error => {
			if (a instanceof Error) return a;
			const entry = queries.get(JSON.stringify(a.query))!;
			if (entry.error) return entry.error;
			const devices = entry.found!.get(a.userId);
			if (!devices) return new NotFoundError(`no profile with user id "${a.userId}"`);
			if (devices.length === 0) {
				const excluded = entry.excluded?.get(a.userId) ?? {};
				return { output: { userId: a.userId, sent: 0, excluded, reason: nobodyReached(excluded, a.query.appId as string | undefined) } };
			}
			return { message: a.message, send: a.send, devices };
		});
	});
}

const WHY: Record<Exclusion, string> = {
	suppressed: 'suppressed (bounced twice in a row; identify clears it)',
	unsubscribed: 'of an unsubscribed user, and the push is not transactional',
	backgroundOnly: 'registered for background pushes only, and this push is visible',
	anonymous: 'anonymous',
	imported: 'imported',
};

/** Why a user send reached nobody, in words. */
function nobodyReached(excluded: Partial<Record<Exclusion, number>>, appId: string | undefined): string {
	const reasons = Object.entries(excluded) as Array<[Exclusion, number]>;
	if (reasons.length === 0) return appId ? `the user has no device for app "${appId}"` : 'the user has no device';
	return `no device of the user may get this push: ${reasons.map(([why, n]) => `${n} ${n === 1 ? 'device' : 'devices'} ${WHY[why]}`).join('; ')}`;
}
