import type { Sender, TokenStore } from '../../core';
import type { ReadParameter } from '../../shared/parameters';
import type { Fields } from '../message';

/** What the router hands each operation: the store, the sender, and the reader of the node version's panel. */
export interface SendContext {
	store: TokenStore;
	sender: Sender;
	readFields(read: ReadParameter, i: number): Fields;
}
