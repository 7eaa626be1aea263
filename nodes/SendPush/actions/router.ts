import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { Sender, type TokenStore } from '../../core';
import { getTransports } from '../../shared/providers';
import { getStore } from '../../shared/store';
import * as audience from './audience.operation';
import * as token from './token.operation';
import * as user from './user.operation';

export type Target = 'user' | 'token' | 'audience';
export interface SendContext {
	store: TokenStore;
	sender: Sender;
}

export const targets = { user, token, audience };

export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const target = this.getNodeParameter('target', 0) as Target;
	// (before the store and the providers are opened: a refused tool call touches nothing)
	if (target === 'audience') audience.refuseAudienceAsTool(this);
	const store = await getStore(this);
	const sender = new Sender(store, await getTransports(this));
	return [await targets[target].execute.call(this, { store, sender })];
}
