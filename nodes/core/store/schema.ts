/**
 * The tables, as Kysely sees them. Both engines store booleans as 0/1 integers and times as
 * epoch milliseconds, so one set of queries serves SQLite and PostgreSQL alike.
 */
import type { Generated, Kysely } from 'kysely';
import type { Provider } from '../providers';
import type { LastStatus, Platform, ProfileKind, TokenEventType } from '../types';

type Flag = 0 | 1;

export interface ProfilesTable {
	id: string;
	external_id: string | null;
	kind: ProfileKind;
	unsubscribed: Flag;
	created_at: number;
	updated_at: number;
}

export interface DevicesTable {
	id: string;
	app_id: string;
	token: string;
	device_id: string | null;
	platform: Platform;
	provider: Provider;
	/** The provider module's kind of address (fcm: registration-token or fid). */
	token_kind: string;
	/** The provider's own data of the device (APNs its environment, Web Push the subscription's keys) as JSON; null when it keeps none. */
	address_data: string | null;
	profile_id: string;
	foreground: Flag;
	push_enabled: Flag | null;
	provisional: Flag;
	last_status: LastStatus;
	consecutive_bounces: number;
	registered_at: number;
	last_seen_at: number;
	last_active_at: number | null;
	/** IANA time zone name (Europe/Paris), as the app reported it. */
	time_zone: string | null;
	/** BCP 47 language tag (fr-CA), canonical. */
	language: string | null;
	/** The times of the device's latest marketing pushes (see lifecycle/caps.ts), newest last. */
	marketing_sent: string | null;
}

export interface TokenEventsTable {
	id: Generated<number>;
	at: number;
	type: TokenEventType;
	app_id: string;
	token: string;
	device_id: string | null;
	from_profile_id: string | null;
	to_profile_id: string | null;
	from_external_id: string | null;
	to_external_id: string | null;
	reason: string | null;
}

export interface DeadTokensTable {
	app_id: string;
	token: string;
	reason: string;
	at: number;
}

/** A send id: its devices are in send_log under its integer id. */
export interface SendsTable {
	id: Generated<number>;
	send_id: string;
	/** When it was first used: the retention counts from here. */
	at: number;
}

/** Devices a send id already reached (or claimed): a rerun of the same send skips them. */
export interface SendLogTable {
	send: number;
	/** sendLogKey(app id, token): 53 bits of its SHA-256. */
	device_key: number;
	/** A device the send certainly did not reach: the report metrics its failure added (newline-separated), taken back when a rerun claims it again. Null: reached, possibly reached, or in flight. */
	failure: string | null;
	/** 1 once the app reported this push opened (counted once per device). */
	opened: Generated<Flag>;
}

/** A send id's report: one row, and its counts in send_report_counts (see lifecycle/reports.ts). */
export interface SendReportsTable {
	send_id: string;
	title: string | null;
	started_at: number;
	ended_at: number;
}

/** One figure of a report (`sent`, `outcome:retry`, `minute:12:opened`, …): the sum of its shards. */
export interface SendReportCountsTable {
	send_id: string;
	metric: string;
	/** Opens, counted by many callers at once, spread over OPEN_SHARDS rows (one row would queue every open on its lock). */
	shard: number;
	count: number;
}

/** The receipt a provider that answers later (lifecycle/receipts.ts) owes for a device's latest push. */
export interface ReceiptsTable {
	app_id: string;
	token: string;
	provider: Provider;
	receipt_id: string;
	sent_at: number;
}

export interface Database {
	profiles: ProfilesTable;
	devices: DevicesTable;
	token_events: TokenEventsTable;
	dead_tokens: DeadTokensTable;
	sends: SendsTable;
	send_log: SendLogTable;
	send_reports: SendReportsTable;
	send_report_counts: SendReportCountsTable;
	receipts: ReceiptsTable;
}

/** A connection or transaction over the store's tables: what every rule is handed. */
export type Tx = Kysely<Database>;
