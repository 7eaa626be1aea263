export type Verb = 'register' | 'identify' | 'clear' | 'outcome';
export interface Plan {
	appId: string;
	tokens: string[];
	devices: string[];
	users: string[];
	/** Per mille of operations that are invalid-token answers (default 1.5). */
	invalidPerMille?: number;
}
export function random(seed: number): () => number;
export function nextOperation(rand: () => number, plan: Plan): [Verb, Record<string, unknown> & { appId: string; token: string }];
export interface Tally {
	counts: Record<string, number>;
	killed: Set<string>;
	count(verb: Verb, input: { token: string }, result: { action: string; supersededToken?: string | null; movedFromUserId?: string | null; statusReset?: boolean } | null): void;
}
export function tally(): Tally;
