/**
 * A campaign's delivery controls, on both engines, with the store's clock moved by the test:
 * local time delivery over hourly runs of one send id, quiet hours held and released, a frequency
 * cap counted across send ids (transactional exempt), the language fallback chain, and pacing's
 * spread measured at the fake provider.
 */
import '../fakes/network-edge.cjs';
import { ApnsTransport, DeliveryControls, PushMessage, Sender, type CampaignSummary } from '../../nodes/core';
import type { DeliveryControlsInput } from '../../nodes/core/send/controls';
import { startFakes, type Fakes } from '../fakes/providers';
import { ENGINES, openTestStore, tokens, type TestStore } from '../support/stores';

const APP = 'com.example.app';
const HOUR = 3_600_000;
let fakes: Fakes;
let apns: ApnsTransport;
const message = PushMessage.parse({ title: 'Good morning', body: 'Your daily digest' });

beforeAll(async () => {
	fakes = await startFakes();
	process.env.PUSH_TOKENS_FAKE_ROUTES = JSON.stringify(fakes.routes);
	apns = new ApnsTransport({ teamId: fakes.apns.teamId, keyId: fakes.apns.keyId, signingKey: fakes.apns.signingKey, bundleId: fakes.apns.bundleId });
});
afterAll(async () => {
	await apns.close();
	await fakes.close();
});

/** The alert titles a device received, in order. */
const titles = (token: string) => fakes.apns.received.filter((r) => r.token === token).map((r) => (r.body as { aps: { alert: { title?: string } } }).aps.alert.title);

it('refuses bad controls naming the field', () => {
	expect(() => DeliveryControls.parse({ localTime: '9am' })).toThrow(/expected localTime as a time of day from 00:00 to 23:59, HH:MM/);
	expect(() => DeliveryControls.parse({ defaultTimeZone: 'Mars/Olympus' })).toThrow(/expected defaultTimeZone as an IANA time zone name such as Europe\/Paris, got \\?"Mars\/Olympus/);
	expect(() => DeliveryControls.parse({ frequencyCap: { pushes: 25, hours: 24 } })).toThrow(/expected frequencyCap.pushes of at most 24/);
	expect(() => PushMessage.parse({ title: 'x', localized: [{ language: 'fr', title: 'a' }, { language: 'FR', title: 'b' }] })).toThrow(/expected each language once, got fr again/);
});

describe.each(ENGINES)('[%s] delivery controls', (engine) => {
	let t: TestStore;
	let sender: Sender;
	beforeEach(async () => {
		fakes.reset();
		t = await openTestStore(engine);
		t.clock.now = Date.UTC(2026, 0, 5, 0, 0); // a Monday in January: New York is UTC−5, Paris UTC+1, London UTC+0
		sender = new Sender(t.store, { apns });
	});
	afterEach(() => t.close());

	/** An identified iOS device, in a zone and a language. */
	const device = async (i: number, timeZone?: string, language?: string) => {
		await t.store.register({ appId: APP, platform: 'ios', token: tokens.apns(i), userId: `user-${i}`, ...(timeZone ? { timeZone } : {}), ...(language ? { language } : {}) });
		return tokens.apns(i);
	};
	const campaign = (sendId: string, { transactional, ...controls }: DeliveryControlsInput & { transactional?: boolean }, msg = message): Promise<CampaignSummary> =>
		sender.sendAudience({ appId: APP, transactional }, msg, { sendId, record: true, maxAttempts: 1, controls: DeliveryControls.parse(controls) });

	it('local time: hourly runs of one send id reach Tokyo, London (the default zone) and New York each at 09:00 their time, once', async () => {
		const tokyo = await device(1, 'Asia/Tokyo');
		const london = await device(2);
		const newYork = await device(3, 'America/New_York');
		const runOf = new Map<string, number>();
		for (let run = 0; run < 24; run++) {
			const before = fakes.apns.received.length;
			const summary = await campaign('digest', { localTime: '09:00', defaultTimeZone: 'Europe/London' });
			for (const r of fakes.apns.received.slice(before)) runOf.set(r.token, run);
			expect(summary.devices).toBe(3);
			expect(summary.delivered + summary.skipped + summary.outsideLocalTime).toBe(3);
			t.clock.now += HOUR;
		}
		// 00:00 UTC is 09:00 in Tokyo, 09:00 UTC in London, 14:00 UTC 09:00 in New York.
		expect(Object.fromEntries(runOf)).toEqual({ [tokyo]: 0, [london]: 9, [newYork]: 14 });
		for (const token of [tokyo, london, newYork]) expect(fakes.apns.countFor(token)).toBe(1);
	});

	it('quiet hours hold marketing pushes and a later run of the send id releases them; a transactional push is exempt', async () => {
		const paris = await device(1, 'Europe/Paris');
		const tokyo = await device(2, 'Asia/Tokyo');
		t.clock.now = Date.UTC(2026, 0, 5, 6, 0); // Paris 07:00 (quiet), Tokyo 15:00
		const first = await campaign('sale', { quietHours: { start: '21:00', end: '08:00' } });
		expect(first).toMatchObject({ devices: 2, delivered: 1, quietHours: 1, skipped: 0 });
		expect(titles(paris)).toEqual([]);

		const urgent = await campaign('password-reset', { quietHours: { start: '21:00', end: '08:00' }, transactional: true });
		expect(urgent).toMatchObject({ delivered: 2, quietHours: 0 });

		t.clock.now = Date.UTC(2026, 0, 5, 7, 30); // Paris 08:30
		const second = await campaign('sale', { quietHours: { start: '21:00', end: '08:00' } });
		// Tokyo (now 16:30) was reached by the first run: skipped, not pushed again.
		expect(second).toMatchObject({ devices: 2, delivered: 1, skipped: 1, quietHours: 0 });
		expect(fakes.apns.countFor(paris)).toBe(2);
		expect(fakes.apns.countFor(tokyo)).toBe(2);
	});

	it('a frequency cap counts marketing pushes across send ids, not transactional ones, in a rolling window', async () => {
		const token = await device(1, 'Europe/Paris');
		const cap = { frequencyCap: { pushes: 2, hours: 24 } };
		expect((await campaign('a', cap)).delivered).toBe(1);
		t.clock.now += HOUR;
		expect((await campaign('b', cap)).delivered).toBe(1);
		t.clock.now += HOUR;
		expect(await campaign('c', cap)).toMatchObject({ delivered: 0, frequencyCapped: 1 });
		// A transactional push passes the cap and is not counted: a cap of 3 still lets one more through.
		expect((await campaign('receipt', { ...cap, transactional: true })).delivered).toBe(1);
		expect((await campaign('d', { frequencyCap: { pushes: 3, hours: 24 } })).delivered).toBe(1);
		expect(await campaign('e', { frequencyCap: { pushes: 3, hours: 24 } })).toMatchObject({ delivered: 0, frequencyCapped: 1 });
		// A day after 'a' and 'b', only 'd' is in the window.
		t.clock.now += 23 * HOUR + 60_000;
		expect((await campaign('f', { frequencyCap: { pushes: 2, hours: 24 } })).delivered).toBe(1);
		expect(fakes.apns.countFor(token)).toBe(5);
		// A capped device is not claimed: a rerun of 'c' once the window has room reaches it.
		t.clock.now += 24 * HOUR;
		expect((await campaign('c', cap)).delivered).toBe(1);
	});

	it('each device gets the text of its language, falling back from fr-CA to fr, then to the message as written', async () => {
		const quebec = await device(1, undefined, 'fr-ca');
		const france = await device(2, undefined, 'fr');
		const german = await device(3, undefined, 'de');
		const none = await device(4);
		const localized = PushMessage.parse({ ...message, localized: [{ language: 'fr', title: 'Bonjour', body: 'Votre résumé' }, { language: 'de-AT', title: 'Servus' }] });
		await campaign('hello', {}, localized);
		expect([titles(quebec), titles(france), titles(german), titles(none)]).toEqual([['Bonjour'], ['Bonjour'], ['Good morning'], ['Good morning']]);
	});

	it('pacing spreads the pushes evenly: 30 at 600 a minute arrive over about three seconds, in chunks a second apart', async () => {
		for (let i = 1; i <= 30; i++) await device(i);
		const started = Date.now();
		const summary = await campaign('paced', { pushesPerMinute: 600 });
		expect(summary.delivered).toBe(30);
		const times = fakes.apns.received.map((r) => r.at - started).sort((a, b) => a - b);
		// 10 a second: the first ten at once, the last ten about two seconds later (a margin for a busy machine).
		expect(times[9]).toBeLessThan(900);
		expect(times[10]).toBeGreaterThanOrEqual(950);
		expect(times[29]).toBeGreaterThanOrEqual(1950);
		expect(times[29]).toBeLessThan(15_000);
	}, 30_000);
});
