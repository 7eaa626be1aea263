import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NotFoundError, parseInput, UserId, type AudienceDevice } from '../../core';
import { appIdField, optional, userIdField } from '../../shared/fields';
import { readMessage, sendOptions } from '../message';
import { planItems, sendItems, type ItemPlan } from './items';
import type { SendContext } from './router';

const show = { show: { target: ['user'] } };

export const description: INodeProperties[] = [
	{ ...userIdField, required: true, displayOptions: show },
	{ ...appIdField, required: false, description: 'Only devices of this app (empty: every app of the user)', displayOptions: show },
	{ displayName: 'Last Active Device Only', name: 'lastActiveOnly', type: 'boolean', default: false, description: "Whether to send only to each user's most recently active device", displayOptions: show },
];

/** Each item to its user's devices; the users of every item are read together. */
export async function execute(this: IExecuteFunctions, { store, sender }: SendContext): Promise<INodeExecutionData[]> {
	const asked = await planItems(this, (i) => {
		const { message, options } = readMessage(this, i);
		return {
			message,
			send: sendOptions(options),
			userId: parseInput(UserId, this.getNodeParameter('userId', i), 'user id'),
			query: { appId: optional(this.getNodeParameter('appId', i, '')), lastActiveOnly: this.getNodeParameter('lastActiveOnly', i, false), transactional: !!options.transactional, visible: !message.silent },
		};
	});

	// One read per distinct device query (usually one for the whole execution).
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

	const plans = asked.map((a): ItemPlan | Error => {
		if (a instanceof Error) return a;
		const entry = queries.get(JSON.stringify(a.query))!;
		if (entry.error) return entry.error;
		const devices = entry.found!.get(a.userId);
		if (devices === null || devices === undefined) return new NotFoundError(`no profile with user id "${a.userId}"`);
		if (devices.length === 0) return { output: { userId: a.userId, sent: 0, reason: 'the user has no push-registered device for this push' } };
		return { message: a.message, send: a.send, devices };
	});
	return sendItems(this, sender, plans);
}
