/**
 * What a device tells us (its time zone and language) and the cap on devices per user, on each
 * engine's real store (a SQLite file, a PostgreSQL database). Test names start with the engine.
 */
import { TokenStore, ValidationError, type StoreConfig } from '../../nodes/core';
import { checkStore } from '../support/replay';
import { ENGINES, freshConfig, openTestStore, TestClock, tokens, type EngineName, type TestStore } from '../support/stores';

const APP = 'com.example.app';

describe.each(ENGINES)('[%s] a device\'s time zone and language', (engine) => {
	let t: TestStore;
	let store: TokenStore;
	beforeEach(async () => {
		t = await openTestStore(engine);
		store = t.store;
	});
	afterEach(() => t.close());

	it('are stored in their canonical form and shown by Get Profile', async () => {
		const result = await store.register({ appId: APP, platform: 'ios', token: tokens.apns(1), userId: 'kim', timeZone: ' europe/paris ', language: 'fr-ca' });
		expect(result).toMatchObject({ action: 'registered', device: { timeZone: 'Europe/Paris', language: 'fr-CA' } });
		expect((await store.getProfile({ userId: 'kim' }))!.push_tokens).toEqual([expect.objectContaining({ token: tokens.apns(1), time_zone: 'Europe/Paris', language: 'fr-CA' })]);
		// unknown until the app says
		await store.register({ appId: APP, platform: 'android', token: tokens.fcm(2) });
		expect(await store.getDevice(APP, tokens.fcm(2))).toMatchObject({ timeZone: null, language: null });
	});

	it.each([
		[{ timeZone: 'Mars/Olympus' }, 'field "timeZone": expected timeZone as an IANA time zone name such as Europe/Paris, got "Mars/Olympus"'],
		[{ timeZone: '+05:00' }, 'field "timeZone": expected timeZone as an IANA time zone name such as Europe/Paris, got "+05:00"'],
		[{ timeZone: 540 }, 'field "timeZone": expected timeZone as an IANA time zone name such as Europe/Paris'],
		[{ language: 'en_US' }, 'field "language": expected language as a BCP 47 language tag such as fr or pt-BR, got "en_US"'],
		[{ language: '' }, 'field "language": expected language as a BCP 47 language tag such as fr or pt-BR, got an empty string'],
		// a private-use tag may be any length: not stored
		[{ language: `en-x-${'abcdefgh-'.repeat(10)}a` }, 'field "language": expected language as a BCP 47 language tag such as fr or pt-BR, got a 96-character string'],
	])('refuses %j with an error naming the field and writes nothing', async (bad, message) => {
		const error = await store.register({ appId: APP, platform: 'android', token: tokens.fcm(1), ...bad }).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(ValidationError);
		expect((error as ValidationError).detail).toBe(message);
		expect(await store.getDevice(APP, tokens.fcm(1))).toBeNull();
	});

	it('a change on app open is recorded like any other; an open that does not say keeps them', async () => {
		await store.register({ appId: APP, platform: 'android', token: tokens.fcm(1), timeZone: 'Europe/Paris', language: 'fr' });
		const kept = await store.register({ appId: APP, platform: 'android', token: tokens.fcm(1) });
		expect(kept).toMatchObject({ action: 'refreshed', changed: [], device: { timeZone: 'Europe/Paris', language: 'fr' } });
		const moved = await store.register({ appId: APP, platform: 'android', token: tokens.fcm(1), timeZone: 'Asia/Tokyo', language: 'ja' });
		expect(moved).toMatchObject({ changed: ['timeZone', 'language'], device: { timeZone: 'Asia/Tokyo', language: 'ja' } });
		// the same values in another spelling are no change
		await store.register({ appId: APP, platform: 'android', token: tokens.fcm(1), timeZone: 'asia/tokyo', language: 'JA' });
		expect((await store.changelog({ appId: APP, token: tokens.fcm(1) })).map((e) => [e.type, e.reason])).toEqual([
			['registered', null],
			['refreshed', 'app open: time_zone Europe/Paris → Asia/Tokyo, language fr → ja'],
		]);
	});

	it('an import stores them from its rows, and counts a row with a bad one invalid, naming the field', async () => {
		const summary = await store.importTokens([
			{ appId: APP, platform: 'android', token: tokens.fcm(1), timeZone: 'America/New_York', language: 'en-us' },
			{ appId: APP, platform: 'android', token: tokens.fcm(2), userId: 'kim', timeZone: 'Asia/Tokyo' },
			{ appId: APP, platform: 'android', token: tokens.fcm(3), timeZone: 'Mars/Olympus' },
		]);
		expect(summary).toMatchObject({ imported: 2, invalid: 1, invalidRows: [{ row: 3, issues: [{ field: 'timeZone', message: expect.stringContaining('got "Mars/Olympus"') }] }] });
		expect(await store.getDevice(APP, tokens.fcm(1))).toMatchObject({ timeZone: 'America/New_York', language: 'en-US' });
		expect((await store.getProfile({ userId: 'kim' }))!.push_tokens).toEqual([expect.objectContaining({ time_zone: 'Asia/Tokyo', language: null })]);
	});
});

/**
 * PUSH_TOKENS_MUTATION=no-user-locks: the store's transactions without their user key locks, to
 * show that the concurrent logins below catch their loss (on PostgreSQL: SQLite has one writer).
 */
function mutate(store: TokenStore): void {
	if (process.env.PUSH_TOKENS_MUTATION !== 'no-user-locks') return;
	const transaction = store.engine.transaction;
	store.engine.transaction = (fn, options) => transaction(fn, { ...options, lock: options?.lock?.filter((key) => !key.startsWith('user\u0000')) });
}

/** A store with a cap on devices per user, on a clock the test moves. */
async function cappedStore(engine: EngineName, maxDevicesPerUser: number): Promise<TestStore> {
	const { config, dispose } = await freshConfig(engine);
	const clock = new TestClock();
	const capped: StoreConfig = { ...config, maxDevicesPerUser };
	const store = await TokenStore.open(capped, { clock: clock.read });
	mutate(store);
	return { store, config: capped, clock, close: () => store.close().then(dispose) };
}

const REASON = `over the 2 devices per user of app "${APP}": least recently active detached`;

describe.each(ENGINES)('[%s] devices per user', (engine) => {
	let t: TestStore;
	let store: TokenStore;
	afterEach(() => t.close());

	/** kim's devices of APP, by token. */
	const kims = async () => (await store.getProfile({ userId: 'kim' }))!.push_tokens.filter((d) => d.app_id === APP).map((d) => d.token).sort();

	it('a register that would leave a user over the cap detaches the least recently active device, whose token stays registered and sendable', async () => {
		t = await cappedStore(engine, 2);
		store = t.store;
		for (const n of [1, 2]) {
			await store.register({ appId: APP, platform: 'android', token: tokens.fcm(n), userId: 'kim' });
			t.clock.advance(1000);
		}
		await store.register({ appId: 'other.app', platform: 'android', token: tokens.fcm(9), userId: 'kim' }); // another app: not counted
		await store.register({ appId: APP, platform: 'android', token: tokens.fcm(1) }); // device 1 opens again: device 2 is the least recently active
		t.clock.advance(1000);
		const third = await store.register({ appId: APP, platform: 'android', token: tokens.fcm(3), userId: 'kim' });
		expect(third).toMatchObject({ action: 'registered', userId: 'kim' });
		expect(await kims()).toEqual([tokens.fcm(1), tokens.fcm(3)].sort());
		expect((await store.getProfile({ userId: 'kim' }))!.push_tokens).toHaveLength(3);

		const detached = await store.getDevice(APP, tokens.fcm(2));
		expect(detached).toMatchObject({ lastStatus: 'unused' });
		expect(await store.getProfile({ profileId: detached!.profileId })).toMatchObject({ kind: 'anonymous', userId: null });
		const last = (await store.changelog({ appId: APP, token: tokens.fcm(2) })).at(-1);
		expect(last).toMatchObject({ type: 'moved', fromUserId: 'kim', toUserId: null, toProfileId: detached!.profileId, reason: REASON });
		const audience = [];
		for await (const page of store.audience({ appId: APP, includeAnonymous: true })) audience.push(...page.map((d) => d.token));
		expect(audience).toContain(tokens.fcm(2));
		expect((await checkStore(store.engine.db)).problems).toEqual([]);
	});

	it('an identify that would exceed it detaches the least recently active, an imported token (never active) first', async () => {
		t = await cappedStore(engine, 2);
		store = t.store;
		await store.importTokens([{ appId: APP, platform: 'android', token: tokens.fcm(1), userId: 'kim' }]);
		t.clock.advance(1000);
		await store.register({ appId: APP, platform: 'android', token: tokens.fcm(2), userId: 'kim' });
		await store.register({ appId: APP, platform: 'android', token: tokens.fcm(3) });
		const login = await store.identify({ appId: APP, token: tokens.fcm(3), userId: 'kim' });
		expect(login).toMatchObject({ action: 'moved', userId: 'kim' });
		expect(await kims()).toEqual([tokens.fcm(2), tokens.fcm(3)].sort());
		expect((await store.changelog({ appId: APP, token: tokens.fcm(1) })).at(-1)).toMatchObject({ type: 'moved', fromUserId: 'kim', reason: REASON });
		// a login on a device the user holds already detaches nothing
		await store.identify({ appId: APP, token: tokens.fcm(2), userId: 'kim' });
		expect(await kims()).toEqual([tokens.fcm(2), tokens.fcm(3)].sort());
	});

	it('an import with user ids is not capped; the user\'s next new device brings them back to it', async () => {
		t = await cappedStore(engine, 2);
		store = t.store;
		await store.importTokens([1, 2, 3, 4].map((n) => ({ appId: APP, platform: 'android', token: tokens.fcm(n), userId: 'kim' })));
		expect(await kims()).toHaveLength(4);
		t.clock.advance(1000);
		await store.register({ appId: APP, platform: 'android', token: tokens.fcm(5), userId: 'kim' });
		expect(await kims()).toHaveLength(2);
		expect((await store.changelog({ userId: 'kim' }, 1000)).filter((e) => e.reason === REASON)).toHaveLength(3);
	});

	it('0, the default, is no cap', async () => {
		t = await openTestStore(engine);
		store = t.store;
		for (let n = 1; n <= 5; n++) await store.register({ appId: APP, platform: 'android', token: tokens.fcm(n), userId: 'kim' });
		expect(await kims()).toHaveLength(5);
	});

	it('refuses a cap that is no whole number of 0 or more', async () => {
		const { config, dispose } = await freshConfig(engine);
		try {
			await expect(TokenStore.open({ ...config, maxDevicesPerUser: -1 })).rejects.toThrow('store config: field "maxDevicesPerUser": expected maxDevicesPerUser of 0 (no cap) or more');
			await expect(TokenStore.open({ ...config, maxDevicesPerUser: 1.5 })).rejects.toThrow('expected maxDevicesPerUser as a whole number');
		} finally {
			await dispose();
		}
	});

	it('logins of one user on many new devices at once leave the user at the cap', async () => {
		t = await cappedStore(engine, 2);
		store = t.store;
		for (let n = 1; n <= 12; n++) await store.register({ appId: APP, platform: 'android', token: tokens.fcm(n), userId: n <= 2 ? 'kim' : undefined });
		// 10 logins on 10 devices, at once (each waits for the one before on the user's key lock)
		const logins = await Promise.all(Array.from({ length: 10 }, (_, i) => store.identify({ appId: APP, token: tokens.fcm(i + 3), userId: 'kim' })));
		expect(logins.every((l) => l.action === 'moved')).toBe(true);
		expect(await kims()).toHaveLength(2);
		const detached = (await store.changelog({ userId: 'kim' }, 1000)).filter((e) => e.reason === REASON);
		expect(detached).toHaveLength(10);
		expect((await checkStore(store.engine.db)).problems).toEqual([]);
	});
});
