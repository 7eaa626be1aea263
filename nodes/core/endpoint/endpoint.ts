/**
 * The app's front door: every app open, login, logout and push opened answered here, by the same rules as the
 * nodes (the store's), without a workflow run. A route is one handler (ROUTES); each answers
 * with a status and only what the caller proved (never another user's id, token or device), and
 * names the events a workflow may want (a new device, a token moved, a logout, a dead token).
 *
 * Statuses: 200 done; 400 a field (`field "token": expected …`); 401 no or wrong app key; 403 no
 * or wrong proof of the user, or a device of another user; 404 no such route or device; 409 a
 * dead token refused; 413 a body over the limit; 429 over a rate limit (Retry-After); 503 the
 * store unreachable (each change is one transaction: nothing half-written).
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as turnOfTheEventLoop } from 'node:timers/promises';
import { ForbiddenError, NotFoundError, ValidationError } from '../errors';
import type { ClearMode } from '../model';
import type { TokenStore } from '../store/TokenStore';
import type { RegisterResult } from '../lifecycle/register';
import type { Caller } from '../lifecycle/claims';
import { Refused, type EndpointAuth } from './auth';
import type { CallLimiter } from './limiter';

export const ENDPOINT_EVENTS = ['registered', 'moved', 'loggedOut', 'deadTokenRefused'] as const;
export type EndpointEvent = (typeof ENDPOINT_EVENTS)[number];

export interface EndpointSettings {
	/** The app id of calls that name none. */
	appId?: string;
	/** What a logout does to the token: anonymous again, or removed. */
	logoutMode: ClearMode;
	maxBodyBytes: number;
	/** Registrations in one batch call. */
	maxBatch: number;
}
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
export const MAX_BATCH = 500;
/**
 * Batches give the event loop a turn after this long. On SQLite every statement is synchronous
 * and every await of the rules resolves at once, so without it a batch (and fifty batches at
 * once) ran as one chain of microtasks: n8n answered nothing else, and its database ping timed
 * out ("Database is not ready!", 503 to every call) while fifty batches of 500 ran.
 */
const SLICE_MS = 10;
let sliceStart = performance.now();
let nextTurn: Promise<void> | null = null;

/**
 * Waits for the event loop's next turn once the batches running now have had SLICE_MS. Every
 * batch waits for the same turn: each waiting for a turn of its own would run one slice per
 * batch in the same turn (fifty batches, half a second without I/O).
 */
async function shareTheEventLoop(): Promise<void> {
	if (performance.now() - sliceStart < SLICE_MS) return;
	nextTurn ??= turnOfTheEventLoop().then(() => {
		sliceStart = performance.now();
		nextTurn = null;
	});
	await nextTurn;
}

export interface Call {
	route: string;
	body: unknown;
	/** The body's size as received. */
	bytes: number;
	appKey?: string;
	/** The client's address, as n8n read it (N8N_PROXY_HOPS). */
	client: string;
}

export interface Answer {
	status: number;
	body: Record<string, unknown>;
	headers?: Record<string, string>;
	/** What happened that a workflow may run on (each one item). */
	events: Array<{ event: EndpointEvent } & Record<string, unknown>>;
}

interface Context {
	store: TokenStore;
	auth: EndpointAuth;
	limiter: CallLimiter | null;
	settings: EndpointSettings;
	events: Answer['events'];
}
type Handler = (body: Record<string, unknown>, ctx: Context) => Promise<{ status: number; body: Record<string, unknown> }>;

/** A call answered before the store: its status and words. */
class Stop extends Error {
	constructor(
		readonly status: number,
		message: string,
		readonly headers?: Record<string, string>,
	) {
		super(message);
	}
}

export class AppEndpoint {
	constructor(
		private readonly store: TokenStore,
		private readonly auth: EndpointAuth,
		private readonly limiter: CallLimiter | null,
		private readonly settings: EndpointSettings,
	) {}

	static readonly routes = (): string[] => Object.keys(ROUTES);

	async handle(call: Call): Promise<Answer> {
		const events: Answer['events'] = [];
		try {
			const handler = Object.hasOwn(ROUTES, call.route) ? ROUTES[call.route as keyof typeof ROUTES] : undefined;
			if (!handler) throw new Stop(404, `no route "${call.route}": use ${AppEndpoint.routes().join(', ')}`);
			if (call.bytes > this.settings.maxBodyBytes) throw new Stop(413, `the body is ${call.bytes} bytes, over the ${this.settings.maxBodyBytes}-byte limit`);
			this.auth.checkAppKey(call.appKey);
			await limit(this.limiter, 'client', call.client);
			const body = record(call.body, 'the body');
			const { status, body: answer } = await handler(body, { store: this.store, auth: this.auth, limiter: this.limiter, settings: this.settings, events });
			return { status, body: answer, events };
		} catch (error) {
			return { ...failure(error), events: [] };
		}
	}
}

/** Past a rate limit: 429 with Retry-After. */
async function limit(limiter: CallLimiter | null, kind: 'client' | 'device', key: string): Promise<void> {
	const wait = await limiter?.take(kind, key);
	if (wait) throw new Stop(429, `too many calls ${kind === 'client' ? 'from this client' : 'about this device'}: try again in ${wait} s`, { 'Retry-After': String(wait) });
}

/** An error as an answer: the one place statuses are chosen. */
function failure(error: unknown): Omit<Answer, 'events'> {
	if (error instanceof Stop) return { status: error.status, body: { error: error.message }, ...(error.headers ? { headers: error.headers } : {}) };
	if (error instanceof Refused) return { status: error.status, body: { error: error.message } };
	if (error instanceof ValidationError) return { status: 400, body: { error: error.detail } };
	if (error instanceof ForbiddenError) return { status: 403, body: { error: error.message } };
	if (error instanceof NotFoundError) return { status: 404, body: { error: 'no device of this app has that token or device id' } };
	// A driver's words may name hosts or users: the caller learns only that the store is away.
	return { status: 503, body: { error: 'the token store is unreachable; nothing was changed, try again' }, headers: { 'Retry-After': '5' } };
}

function record(value: unknown, what: string): Record<string, unknown> {
	if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ValidationError('call', [{ field: '', message: `expected ${what} to be a JSON object` }]);
	return value as Record<string, unknown>;
}

/** The user a call names, proven (or taken at its word with verification none); null when it names none. */
async function caller(body: Record<string, unknown>, ctx: Context, required: boolean): Promise<Caller> {
	const userId = body.userId;
	if (userId === undefined || userId === null || userId === '') {
		if (required) throw new ValidationError('call', [{ field: 'userId', message: 'expected a user id' }]);
		return { userId: null };
	}
	if (typeof userId !== 'string') throw new ValidationError('call', [{ field: 'userId', message: 'expected a user id as a string' }]);
	await ctx.auth.proveUser(userId.trim(), body.userProof);
	return { userId: userId.trim() };
}

const deviceLimit = (body: Record<string, unknown>, ctx: Context) => limit(ctx.limiter, 'device', JSON.stringify([body.appId ?? ctx.settings.appId, body.token ?? null, body.deviceId ?? null]));

/** The record the store reads: the panel's app id unless the call names one; the proof is not the store's. */
const withApp = (body: Record<string, unknown>, ctx: Context): Record<string, unknown> => ({ ...body, appId: body.appId ?? ctx.settings.appId, userProof: undefined });

/** What a register answers: the caller's own device, and its user only when proven. */
function registered(input: Record<string, unknown>, result: RegisterResult, proven: Caller, events: Answer['events']): { status: number; body: Record<string, unknown> } {
	if (result.action === 'refused') {
		events.push({ event: 'deadTokenRefused', appId: input.appId, platform: input.platform, token: input.token, deviceId: input.deviceId, reason: result.reason });
		return { status: 409, body: { action: 'refused', error: result.reason } };
	}
	const d = result.device;
	const device = { appId: d.appId, platform: d.platform, provider: d.provider, token: d.token, tokenKind: d.tokenKind, deviceId: d.deviceId };
	if (result.action === 'registered') events.push({ event: 'registered', ...device, userId: result.userId });
	if (result.movedFromUserId !== null) events.push({ event: 'moved', ...device, userId: result.userId, fromUserId: result.movedFromUserId });
	return { status: 200, body: { action: result.action, ...device, ...(proven.userId ? { userId: proven.userId } : {}), changed: result.changed } };
}

/** One app open: the caller's user proven (when it names one), then the store's rule. */
async function registerOne(body: Record<string, unknown>, ctx: Context) {
	const proven = await caller(body, ctx, false);
	const input = withApp(body, ctx);
	return registered(input, await ctx.store.register(input, proven), proven, ctx.events);
}

const ROUTES = {
	async register(body, ctx) {
		await deviceLimit(body, ctx);
		return registerOne(body, ctx);
	},

	async identify(body, ctx) {
		await deviceLimit(body, ctx);
		const proven = await caller(body, ctx, true);
		const result = await ctx.store.identify(withApp(body, ctx), proven);
		const d = result.device;
		const device = { appId: d.appId, platform: d.platform, provider: d.provider, token: d.token, tokenKind: d.tokenKind, deviceId: d.deviceId };
		if (result.fromUserId !== null) ctx.events.push({ event: 'moved', ...device, userId: result.userId, fromUserId: result.fromUserId, fromProfile: result.fromProfile });
		return { status: 200, body: { action: result.action, ...device, userId: result.userId, statusReset: result.statusReset } };
	},

	async logout(body, ctx) {
		await deviceLimit(body, ctx);
		const proven = await caller(body, ctx, false);
		const result = await ctx.store.clearIdentify({ ...withApp(body, ctx), mode: ctx.settings.logoutMode }, proven);
		const d = result.device;
		if (result.action !== 'unchanged') ctx.events.push({ event: 'loggedOut', appId: d.appId, platform: d.platform, provider: d.provider, token: d.token, deviceId: d.deviceId, fromUserId: result.fromUserId, action: result.action });
		return { status: 200, body: { action: result.action } };
	},

	/**
	 * A push opened (the app read `push_send_id` from its data): counted once per device in the
	 * send's report. An unknown send id or device, or a second open, is answered 200 with the
	 * reason it was not counted: an open is a statistic, never worth a retry. No proof of a user:
	 * it changes no device, and counts only a device the send reached, once.
	 */
	async opened(body, ctx) {
		await deviceLimit(body, ctx);
		const result = await ctx.store.recordOpen(withApp(body, ctx));
		return { status: 200, body: { ...result } };
	},

	/** Many app opens in one call (an app backend forwarding them): each answered as register would, in order. */
	async batch(body, ctx) {
		const list = body.registrations;
		if (!Array.isArray(list) || list.length === 0 || list.length > ctx.settings.maxBatch) {
			throw new ValidationError('call', [{ field: 'registrations', message: `expected an array of 1 to ${ctx.settings.maxBatch} registrations` }]);
		}
		const results: Array<Record<string, unknown>> = [];
		for (const [i, item] of list.entries()) {
			await shareTheEventLoop();
			try {
				const { status, body: answer } = await registerOne(record(item, `registration ${i + 1}`), ctx);
				results.push({ status, ...answer });
			} catch (error) {
				const { status, body: answer } = failure(error);
				if (status === 503) throw error;
				results.push({ status, ...answer });
			}
		}
		return { status: 200, body: { results } };
	},
} satisfies Record<string, Handler>;
