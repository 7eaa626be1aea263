/**
 * A campaign's delivery controls: which devices a run sends to now, by each device's own clock
 * (local time delivery, quiet hours) and its latest marketing pushes (a frequency cap); and how
 * fast it sends (pacing). A device held back is not claimed under the send id, so a later run of
 * the same send id (an hourly Schedule Trigger) reaches it once its time comes, and never twice.
 * A transactional send (the audience query's) ignores quiet hours and caps, and is not counted by them.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod/v4';
import { MAX_FREQUENCY_CAP, pushesSince } from '../lifecycle/caps';
import { localMinutes, TimeZoneName } from '../locale';

const DAY_MINUTES = 24 * 60;

/** "HH:MM" → minutes after midnight. */
const TimeOfDay = (field: string) =>
	z
		.string({ error: `expected ${field} as a time of day, HH:MM` })
		.regex(/^([01]?\d|2[0-3]):[0-5]\d$/, `expected ${field} as a time of day from 00:00 to 23:59, HH:MM`)
		.transform((hhmm) => {
			const [h, m] = hhmm.split(':').map(Number);
			return h * 60 + m;
		});

export const DeliveryControls = z.object({
	/** Deliver when each device's local time reaches this (minutes after midnight) … */
	localTime: TimeOfDay('localTime').optional(),
	/** … up to this many minutes later (the interval of the schedule that reruns the send). */
	localTimeWindowMinutes: z.number().int().min(1, 'expected localTimeWindowMinutes of at least 1').max(DAY_MINUTES, `expected localTimeWindowMinutes of at most ${DAY_MINUTES}`).default(60),
	/** The zone of devices that reported none. */
	defaultTimeZone: TimeZoneName('defaultTimeZone').default('UTC'),
	/** No marketing push from `start` to `end`, local time (it may span midnight). */
	quietHours: z.object({ start: TimeOfDay('quietHours.start'), end: TimeOfDay('quietHours.end') }).optional(),
	/** At most `pushes` marketing pushes per device in any `hours`. */
	frequencyCap: z
		.object({
			pushes: z.number().int().min(1, 'expected frequencyCap.pushes of at least 1').max(MAX_FREQUENCY_CAP, `expected frequencyCap.pushes of at most ${MAX_FREQUENCY_CAP}`),
			hours: z.number().positive('expected frequencyCap.hours above 0').max(24 * 366, 'expected frequencyCap.hours of at most a year'),
		})
		.optional(),
	/** At most this many pushes a minute for this send, spread evenly. */
	pushesPerMinute: z.number().int().min(1, 'expected pushesPerMinute of at least 1').optional(),
});
export type DeliveryControls = z.output<typeof DeliveryControls>;
export type DeliveryControlsInput = z.input<typeof DeliveryControls>;

/** Why a run holds a device back. */
export const HOLDS = ['outsideLocalTime', 'quietHours', 'frequencyCapped'] as const;
export type Hold = (typeof HOLDS)[number];

export interface HeldDevice {
	timeZone: string | null;
	marketingSent: string | null;
}

/** Whether minute `m` of the day is in [from, from + length), across midnight. */
const within = (m: number, from: number, length: number) => length >= DAY_MINUTES || (m - from + DAY_MINUTES) % DAY_MINUTES < length;

/**
 * The rule for one moment (a page of an audience): a device → why it is held now, or null to
 * send. Null when the controls hold nothing. Each zone's local time is computed once.
 */
export function holdRule(controls: DeliveryControls, marketing: boolean, now: number): ((device: HeldDevice) => Hold | null) | null {
	const quiet = marketing ? controls.quietHours : undefined;
	const cap = marketing ? controls.frequencyCap : undefined;
	if (controls.localTime === undefined && !quiet && !cap) return null;
	const fallback = localMinutes(controls.defaultTimeZone, now)!;
	const minutes = new Map<string, number>();
	const localTime = (zone: string | null): number => {
		if (zone === null) return fallback;
		let m = minutes.get(zone);
		if (m === undefined) minutes.set(zone, (m = localMinutes(zone, now) ?? fallback));
		return m;
	};
	const capSince = cap ? now - cap.hours * 3_600_000 : 0;
	return (device) => {
		if (controls.localTime !== undefined && !within(localTime(device.timeZone), controls.localTime, controls.localTimeWindowMinutes)) return 'outsideLocalTime';
		if (quiet && within(localTime(device.timeZone), quiet.start, (quiet.end - quiet.start + DAY_MINUTES) % DAY_MINUTES)) return 'quietHours';
		if (cap && pushesSince(device.marketingSent, capSince) >= cap.pushes) return 'frequencyCapped';
		return null;
	};
}

/** Spreads a send's pushes evenly: each chunk waits for its turn at `perMinute` (shared by the providers and pages of a send). */
export class Pacer {
	private next = 0;

	constructor(
		readonly perMinute: number,
		private readonly wait: (ms: number) => Promise<unknown> = sleep,
	) {}

	/** Pushes per chunk: a second's worth at most, so the spread stays even. */
	chunk(limit: number): number {
		return Math.max(1, Math.min(limit, Math.floor(this.perMinute / 60)));
	}

	/** Waits until `count` pushes may leave. */
	async take(count: number): Promise<void> {
		const now = Date.now();
		const start = Math.max(now, this.next);
		this.next = start + (count * 60_000) / this.perMinute;
		if (start > now) await this.wait(start - now);
	}
}
