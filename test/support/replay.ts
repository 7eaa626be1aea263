/**
 * Replays a store's changelog (token_events, in id order) and compares the result with the
 * store's tables: who owns each token, which device id it is on, its last_status and bounce
 * count, which tokens are gone, which are tombstoned. Problems are returned as sentences, so a
 * test asserts `problems` is empty and a failure says exactly what went wrong.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../nodes/core/store/schema';

type Status = 'unused' | 'sent' | 'bounced' | 'suppressed';

export interface ReplayedToken {
	appId: string;
	token: string;
	present: boolean;
	owner: string | null;
	deviceId: string | null;
	status: Status;
	bounces: number;
	/** Removed as invalid: must be tombstoned and never come back. */
	dead: boolean;
}

export interface EventRow {
	id: number | string;
	type: string;
	app_id: string;
	token: string;
	device_id: string | null;
	from_profile_id: string | null;
	to_profile_id: string | null;
	reason: string | null;
}

export interface Replay {
	tokens: Map<string, ReplayedToken>;
	/** Events by type, and by "type:reason kind" (moved:identify, moved:register, refreshed:identify, refreshed:register). */
	counts: Record<string, number>;
	problems: string[];
}

const key = (appId: string, token: string) => `${appId}\u0000${token}`;
const short = (token: string) => (token.length > 24 ? `${token.slice(0, 14)}…` : token);

/** Which rule logged an event, from its reason (identify and register both log moves and refreshes). */
function origin(event: EventRow): string {
	const reason = event.reason ?? '';
	if (reason.startsWith('identify')) return 'identify';
	if (reason.startsWith('registered with a user id') || reason.startsWith('app open')) return 'register';
	return 'other';
}

export function replayEvents(events: EventRow[]): Replay {
	const tokens = new Map<string, ReplayedToken>();
	const counts: Record<string, number> = {};
	const problems: string[] = [];
	const count = (name: string) => (counts[name] = (counts[name] ?? 0) + 1);

	for (const event of events) {
		const k = key(event.app_id, event.token);
		const where = `event ${event.id} (${event.type} of ${short(event.token)})`;
		let state = tokens.get(k);
		count(event.type);
		if (event.type === 'moved' || event.type === 'refreshed') count(`${event.type}:${origin(event)}`);

		if (event.type === 'registered' || event.type === 'imported') {
			if (state?.present) problems.push(`${where}: the token was already present`);
			if (state?.dead) problems.push(`${where}: the token was tombstoned and came back`);
			state = { appId: event.app_id, token: event.token, present: true, owner: event.to_profile_id, deviceId: event.device_id, status: 'unused', bounces: 0, dead: false };
			tokens.set(k, state);
			continue;
		}
		if (!state?.present) {
			problems.push(`${where}: the token was not present`);
			continue;
		}
		const expectFrom = () => {
			if (event.from_profile_id !== state!.owner) problems.push(`${where}: from ${event.from_profile_id}, but the owner was ${state!.owner}`);
		};
		const expectTo = () => {
			if (event.to_profile_id !== state!.owner) problems.push(`${where}: to ${event.to_profile_id}, but the owner was ${state!.owner}`);
		};
		const clearStatus = () => {
			if (state!.status === 'bounced' || state!.status === 'suppressed') {
				state!.status = 'unused';
				state!.bounces = 0;
			}
		};
		switch (event.type) {
			case 'refreshed':
				expectTo();
				state.deviceId = event.device_id;
				if ((event.reason ?? '').includes('status cleared')) clearStatus();
				break;
			case 'moved':
				expectFrom();
				if (event.to_profile_id === state.owner) problems.push(`${where}: a move to the owner it already had`);
				state.owner = event.to_profile_id;
				state.deviceId = event.device_id;
				clearStatus(); // a login (identify, or register with a user id) clears bounced/suppressed
				break;
			case 'cleared':
				expectFrom();
				if (event.to_profile_id === null) state.present = false;
				else state.owner = event.to_profile_id;
				break;
			case 'superseded':
				expectFrom();
				state.present = false;
				break;
			case 'removed':
				expectFrom();
				state.present = false;
				state.dead = true;
				break;
			case 'sent':
				expectTo();
				state.status = 'sent';
				state.bounces = 0;
				break;
			case 'bounced':
			case 'suppressed': {
				expectTo();
				state.bounces++;
				const status = state.bounces >= 2 ? 'suppressed' : 'bounced';
				if (status !== event.type) problems.push(`${where}: bounce ${state.bounces} in a row should be ${status}`);
				state.status = status;
				break;
			}
			default:
				problems.push(`${where}: unexpected event type`);
		}
	}
	return { tokens, counts, problems };
}

export interface StoreCheck extends Replay {
	devices: number;
	profiles: number;
	events: number;
	dead: Set<string>;
}

/**
 * Reads the store's tables, replays its changelog, and compares: every token at most once,
 * every device id at most once per app, the replayed owner/device id/status/bounces equal the
 * row's, tokens the changelog removed are gone and tombstoned, tombstoned tokens are gone,
 * last_status agrees with consecutive_bounces, and no anonymous profile is left without a token.
 * `dead` is the set of tombstoned tokens (app\0token keys).
 */
export async function checkStore(db: Kysely<Database>): Promise<StoreCheck> {
	const events = (await db.selectFrom('token_events').selectAll().orderBy('id').execute()) as EventRow[];
	const devices = await db.selectFrom('devices').selectAll().execute();
	const deadRows = await db.selectFrom('dead_tokens').select(['app_id', 'token']).execute();
	const profiles = await db.selectFrom('profiles').select(['id', 'kind', 'external_id']).execute();
	const result = replayEvents(events);
	const { problems, tokens } = result;
	const dead = new Set(deadRows.map((r) => key(r.app_id, r.token)));

	const seenTokens = new Set<string>();
	const seenDevices = new Set<string>();
	for (const row of devices) {
		const k = key(row.app_id, row.token);
		const name = short(row.token);
		if (seenTokens.has(k)) problems.push(`token ${name} has more than one row (owner)`);
		seenTokens.add(k);
		if (row.device_id !== null) {
			const d = key(row.app_id, row.device_id);
			if (seenDevices.has(d)) problems.push(`device ${row.device_id} holds more than one token`);
			seenDevices.add(d);
		}
		if (dead.has(k)) problems.push(`token ${name} is tombstoned but still registered`);
		const expected = row.consecutive_bounces >= 2 ? ['suppressed'] : row.consecutive_bounces === 1 ? ['bounced'] : ['unused', 'sent'];
		if (!expected.includes(row.last_status)) problems.push(`token ${name}: last_status ${row.last_status} with ${row.consecutive_bounces} bounces in a row`);
		const replayed = tokens.get(k);
		if (!replayed?.present) {
			problems.push(`token ${name} is registered but its changelog says it is not`);
			continue;
		}
		const actual = { owner: row.profile_id, deviceId: row.device_id, status: row.last_status, bounces: row.consecutive_bounces };
		const fromLog = { owner: replayed.owner, deviceId: replayed.deviceId, status: replayed.status, bounces: replayed.bounces };
		if (JSON.stringify(actual) !== JSON.stringify(fromLog)) problems.push(`token ${name}: the store has ${JSON.stringify(actual)}, the changelog replays to ${JSON.stringify(fromLog)}`);
	}
	for (const [k, replayed] of tokens) {
		if (replayed.present && !seenTokens.has(k)) problems.push(`token ${short(replayed.token)}: the changelog says it is registered, the store has no row`);
		if (replayed.dead && !replayed.present && !dead.has(k)) problems.push(`token ${short(replayed.token)} was removed as invalid but is not tombstoned`);
	}
	const owners = new Set(devices.map((d) => d.profile_id));
	const emptyAnonymous = profiles.filter((p) => p.kind === 'anonymous' && !owners.has(p.id));
	if (emptyAnonymous.length > 0) problems.push(`${emptyAnonymous.length} anonymous profiles hold no token`);
	return { ...result, devices: devices.length, profiles: profiles.length, events: events.length, dead };
}

/** Sums the per-worker result counts ({ "identify:moved": 3, … }). */
export function sumCounts(reports: Array<Record<string, number>>): Record<string, number> {
	const total: Record<string, number> = {};
	for (const report of reports) for (const [name, n] of Object.entries(report)) total[name] = (total[name] ?? 0) + n;
	return total;
}

/**
 * What the callers were told, against what the changelog logged: each reported result that
 * changes a token must be exactly one event of the matching kind (an operation lost or logged
 * twice shows here). An app open, an identify or a delivery that changes nothing logs no event,
 * so those are at most one event each (the replay to the final state shows a change lost).
 * Returns problems as sentences.
 */
export function compareCounts(reported: Record<string, number>, logged: Record<string, number>): string[] {
	const r = (name: string) => reported[name] ?? 0;
	const l = (name: string) => logged[name] ?? 0;
	const pairs: Array<[string, number, '=' | '<=', number]> = [
		['registered events = registers that answered registered', l('registered'), '=', r('register:registered')],
		['register moves + register refreshes <= registers that answered refreshed', l('moved:register') + l('refreshed:register'), '<=', r('register:refreshed')],
		['superseded events = registers that answered with a superseded token', l('superseded'), '=', r('register:superseded')],
		['identify moves logged = identify moves reported', l('moved:identify'), '=', r('identify:moved')],
		['identify refreshes logged = identify unchanged reported with a status reset', l('refreshed:identify'), '=', r('identify:status-reset')],
		['cleared events = logouts that anonymized or removed', l('cleared'), '=', r('clear:anonymized') + r('clear:removed')],
		['sent events <= deliveries that answered sent', l('sent'), '<=', r('outcome:sent')],
		['bounced events = bounces that answered bounced', l('bounced'), '=', r('outcome:bounced')],
		['suppressed events = bounces that answered suppressed', l('suppressed'), '=', r('outcome:suppressed')],
		['removed events = invalid-token answers that removed a device', l('removed'), '=', r('outcome:removed')],
	];
	const problems = pairs.filter(([, a, rel, b]) => (rel === '=' ? a !== b : a > b)).map(([what, a, , b]) => `${what}: ${a} logged, ${b} reported`);
	if (r('register:moved-from-user') > l('moved:register')) problems.push(`registers reported ${r('register:moved-from-user')} moves from a user, only ${l('moved:register')} logged`);
	return problems;
}
