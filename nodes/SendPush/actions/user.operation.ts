import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NotFoundError, parseInput, UserId, type AudienceDevice } from '../../core';
import { appIdField, optional, userIdField } from '../../shared/fields';
import { readMessage, sendOptions } from '../message';
import { itemParameters } from '../../shared/parameters';
import { eachItem, sendItems, type ItemPlan } from './items';
import type { SendContext } from './router';

const show = { show: { target: ['user'] } };

export const description: INodeProperties[] = [
	{ ...userIdField, required: true, displayOptions: show },
	{ ...appIdField, required: false, description: 'Only devices of this app (empty: every app of the user)', displayOptions: show },
	{ displayName: 'Last Active Device Only', name: 'lastActiveOnly', type: 'boolean', default: false, description: "Whether to send only to each user's most recently active device", displayOptions: show },
];

/** Each item to its user's devices; the users of a chunk of items are read together. */
export async function execute(this: IExecuteFunctions, { store, sender }: SendContext): Promise<INodeExecutionData[]> {
	const read = itemParameters(this);
	return sendItems(this, sender, async (from, to) => {
		const asked = await eachItem(from, to, (i) => {
			const { message, options } = readMessage(this, read, i);
			return {
				message,
				send: sendOptions(options),
				userId: parseInput(UserId, read('userId', i), 'user id'),
				query: { appId: optional(read('appId', i, '')), lastActiveOnly: read('lastActiveOnly', i, false), transactional: !!options.transactional, visible: !message.silent },
			};
		});
		// One read per distinct device query (usually one).
		const queries = new Map<string, { query: object; users: string[]; found?: Map<string, AudienceDevice[] | null>; error?: Error }>();
		for (const a of asked) {
			if (a instanceof Error) continue;
			const key = JSON.stringify(a.query);
			const entry = queries.get(key) ?? queries.set(key, { query: a.query, users: [] }).get(key)!;
			entry.users.push(a.userId);
		}
		for (const entry of queries.values()) {
			try {
				entry.found = await store.devicesOfUsers(entry.users, entry.query);
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
			if (devices.length === 0) return { output: { userId: a.userId, sent: 0, reason: 'the user has no push-registered device for this push' } };
			return { message: a.message, send: a.send, devices };
		});
	});
}
