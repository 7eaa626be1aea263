import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { Sender } from '../../core';
import { getTransports } from '../../shared/providers';
import { getStore } from '../../shared/store';
import * as audience from './audience.operation';
import * as token from './token.operation';
import * as user from './user.operation';
import * as v1 from '../v1';
import * as v2 from '../v2';

export type Target = 'user' | 'token' | 'audience';

export const targets = { user, token, audience };

export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const target = this.getNodeParameter('target', 0) as Target;
	// (before the store and the providers are opened: a refused tool call touches nothing)
	if (target === 'audience') audience.refuseAudienceAsTool(this);
	const store = await getStore(this);
	const sender = new Sender(store, await getTransports(this));
	// Each version's panel has its reader into one shape (message.ts's Fields).
	const { readFields } = this.getNode().typeVersion >= 2 ? v2 : v1;
	return [await targets[target].execute.call(this, { store, sender, readFields })];
}
