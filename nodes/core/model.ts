/**
 * The push-token domain model: zod schemas for everything that crosses the core's boundary,
 * and the types derived from them. Nothing here knows about n8n.
 */
import { z } from 'zod/v4';
import { ownerOf, PROVIDERS, providerModule, type Provider, type PROVIDER_MODULES } from './providers';
import { cleanText, codePoint, CONTROL, describe, INVISIBLE, LONE_SURROGATE, oneOf } from './text';
import { LanguageTag, TimeZoneName } from './locale';
import { OUTCOMES, PLATFORMS, type DeviceView as DeviceViewOf, type Platform, type ProviderData } from './types';

export { PROVIDERS, type Provider } from './providers';
export { cleanText, describe, oneOf } from './text';
export * from './types';

/** A device of one of the registry's providers. */
export type DeviceView = DeviceViewOf<Provider>;

/** The provider a platform uses unless told otherwise (iOS apps may also go through FCM), and those it may use: from the registry. */
const byPlatform = <T>(value: (platform: Platform) => T) => Object.fromEntries(PLATFORMS.map((p) => [p, value(p)])) as unknown as Record<Platform, T>;
export const DEFAULT_PROVIDER = byPlatform((p) => PROVIDERS.find((id) => providerModule(id).defaultFor.includes(p))!);
const ALLOWED_PROVIDERS = byPlatform((p) => [DEFAULT_PROVIDER[p], ...PROVIDERS.filter((id) => id !== DEFAULT_PROVIDER[p] && providerModule(id).platforms.includes(p))]);

/**
 * Both engines index every key: PostgreSQL's btree refuses an entry over 2,704 bytes, and the
 * largest, (app_id, token), holds an id of at most 255 UTF-16 units (765 bytes of UTF-8) and a
 * token of at most MAX_TOKEN_LENGTH bytes (each provider states its own): with 1024, about
 * 1,800 bytes with the headers, a third below the limit.
 */
export const MAX_TOKEN_LENGTH = Math.max(...PROVIDERS.map((id) => providerModule(id).maxTokenLength));

/** Text that names something: trimmed, not empty, without control characters, well-formed. */
const key = (what: string) =>
	z
		.string({ error: `expected ${what} as a string` })
		.trim()
		.min(1, `expected ${what}, got an empty string`)
		.refine((s) => !CONTROL.test(s), `expected ${what} without control characters (such as NUL)`)
		.refine((s) => !LONE_SURROGATE.test(s), `expected ${what} of well-formed Unicode, got a lone surrogate`);

/** An id (app, user, device, send, profile): shown in panels and logs, so nothing in it is invisible. */
const nonEmpty = (what: string) =>
	key(what)
		.max(255, `expected ${what} of at most 255 characters`)
		.superRefine((s, ctx) => {
			const found = INVISIBLE.exec(s);
			if (found) ctx.addIssue({ code: 'custom', message: `expected ${what} without invisible characters (zero-width, soft hyphen, bidirectional controls), got ${codePoint(found[0])}` });
		});

export const AppId = nonEmpty('an app id');
export const UserId = nonEmpty('a user id');
export const DeviceId = nonEmpty('a device id');
/** The send log keys a send by it (see Sender). */
export const SendId = nonEmpty('a send id');
export const SendOptionsKeys = z.object({ sendId: SendId.optional() });

/**
 * A token in the one form it is stored, looked up and tombstoned in, whoever gives it (register,
 * import, identify, an outcome, a lookup): in the form of the provider whose shape it has.
 */
export function canonicalToken(raw: string): string {
	const token = raw.trim();
	for (const id of PROVIDERS) {
		const canonical = providerModule(id).canonical?.(token);
		if (canonical) return canonical;
	}
	return token;
}

/** A token given to find something by (a lookup, an outcome): of any provider, so no longer than the longest any stores. */
export const TokenRef = key('a token')
	.transform(canonicalToken)
	// Measured as the index holds it: stored form (an endpoint's escapes lengthen it), in bytes.
	.refine((token) => Buffer.byteLength(token) <= MAX_TOKEN_LENGTH, `expected a token of at most ${MAX_TOKEN_LENGTH} bytes as stored`);

/**
 * A token given to find a device by, as an app or a user has it: the token, or a Web Push
 * subscription (an object or its JSON text), which is found by its endpoint.
 */
export const TokenOrSubscription = z.unknown().transform((value, ctx) => {
	const found = PROVIDERS.map((id) => providerModule(id).lookupToken?.(value)).find((t) => t !== undefined);
	const token = found === undefined ? value : found;
	if (typeof token !== 'string' || token.trim() === '') {
		ctx.addIssue({ code: 'custom', message: `expected a token string or a subscription with an endpoint, got ${describe(value)}` });
		return z.NEVER;
	}
	const ref = TokenRef.safeParse(token);
	if (!ref.success) {
		for (const issue of ref.error.issues) ctx.addIssue({ code: 'custom', message: issue.message });
		return z.NEVER;
	}
	return ref.data;
});

/** Fields of their own that provider modules read from a record (APNs: environment), checked on every record, as the others; typed from the registry's modules. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- a module without fields adds none
type FieldsOf<M> = M extends { recordFields: infer F extends z.ZodRawShape } ? F : {};
type Together<U> = (U extends unknown ? (all: U) => void : never) extends (all: infer I) => void ? I : never;
type ProviderFields = Together<FieldsOf<(typeof PROVIDER_MODULES)[Provider]>>;
const PROVIDER_FIELDS = Object.assign({}, ...PROVIDERS.map((id) => providerModule(id).recordFields ?? {})) as ProviderFields;

/**
 * Fields every token-bearing record shares (register and import), and the providers' own. `token` is the provider's
 * token; for Web Push it is the subscription (object or JSON text), stored by its endpoint.
 */
const TokenFields = z.object({
	appId: AppId,
	platform: z.enum(PLATFORMS, { error: `expected platform to be one of ${PLATFORMS.join(', ')}` }),
	provider: z.enum(PROVIDERS, { error: `expected provider to be one of ${PROVIDERS.join(', ')}` }).optional(),
	token: z.unknown(),
	/** The kind of address the token is (FCM: a registration token or an installation id); told from its shape when absent. */
	tokenKind: z.string({ error: 'expected tokenKind as text' }).optional(),
	deviceId: DeviceId.optional(),
	userId: UserId.optional(),
	/** Where the device is (an IANA name) and its language (BCP 47), as the app reports them; stored canonical. */
	timeZone: TimeZoneName('timeZone').optional(),
	language: LanguageTag('language').optional(),
}).extend(PROVIDER_FIELDS);

/** What the store keeps of a token once its shape is checked. */
export interface NormalizedToken {
	provider: Provider;
	token: string;
	tokenKind: string;
	/** The provider's own data of the device (its module's `address`). */
	data: ProviderData | null;
}

/** Checks a token's shape for its provider (the provider module's rule) and returns it in the form the store keeps. */
function normalizeToken(record: { platform: Platform; provider?: Provider; token: unknown; tokenKind?: string }, ctx: z.RefinementCtx): NormalizedToken | undefined {
	// No provider named: the one allowed for the platform whose shape the token has, else the platform's default.
	const owner = ownerOf(record.token);
	const provider = record.provider ?? (owner && ALLOWED_PROVIDERS[record.platform].includes(owner) ? owner : DEFAULT_PROVIDER[record.platform]);
	if (!ALLOWED_PROVIDERS[record.platform].includes(provider)) {
		ctx.addIssue({
			code: 'custom',
			path: ['provider'],
			message: `expected provider ${oneOf(ALLOWED_PROVIDERS[record.platform])} for platform ${record.platform}, got ${provider}`,
		});
		return undefined;
	}
	const module = providerModule(provider);
	if (record.tokenKind !== undefined && !module.tokenKinds.includes(record.tokenKind)) {
		ctx.addIssue({ code: 'custom', path: ['tokenKind'], message: `expected tokenKind ${oneOf(module.tokenKinds)} for provider ${provider}, got ${describe(record.tokenKind)}` });
		return undefined;
	}
	const address = module.address(record.token, record.tokenKind, record);
	if (Array.isArray(address)) {
		for (const issue of address) ctx.addIssue({ code: 'custom', path: [issue.field ?? 'token', ...issue.path], message: issue.message });
		return undefined;
	}
	return { provider, token: address.token, tokenKind: address.kind, data: address.data };
}

const withToken = <T extends typeof TokenFields>(schema: T) =>
	schema.transform((record, ctx) => {
		const normalized = normalizeToken(record, ctx);
		if (!normalized) return z.NEVER;
		return { ...record, ...normalized };
	});

/** An app open / SDK registration. */
export const RegisterInput = withToken(
	TokenFields.extend({
		/** Foreground tokens may show visible pushes; background-only ones get silent pushes. New: true. */
		foreground: z.boolean({ error: 'expected foreground to be true or false' }).optional(),
		/** The OS-level opt-in as the app saw it (a lagging indicator; unknown when absent). */
		pushEnabled: z.boolean({ error: 'expected pushEnabled to be true or false' }).optional(),
		/** iOS provisional authorization (quiet delivery to the notification center). New: false. */
		provisional: z.boolean({ error: 'expected provisional to be true or false' }).optional(),
	}),
);
export type RegisterInput = z.input<typeof RegisterInput>;

/** One row of a push_token_import. */
export const ImportRow = withToken(TokenFields);
export type ImportRow = z.input<typeof ImportRow>;

/** Finds a device by its token or, failing that, by its device id. */
const DeviceRef = z
	.object({
		appId: AppId,
		// No token (null or empty too): the device is found by its id.
		token: z.preprocess((token) => (token === null || token === '' ? undefined : token), TokenOrSubscription.optional()),
		deviceId: DeviceId.optional(),
	})
	.refine((ref) => ref.token !== undefined || ref.deviceId !== undefined, { path: ['token'], message: 'expected a token or a deviceId to find the device' });
export type DeviceRef = z.output<typeof DeviceRef>;

export const IdentifyInput = z.intersection(DeviceRef, z.object({ userId: UserId }));

/** When something happened, as the caller says it: epoch milliseconds or an ISO 8601 date-time. */
const Instant = (what: string) =>
	z.union([z.number().int().min(0), z.iso.datetime({ offset: true }).transform((s) => Date.parse(s))], { error: `expected ${what} as epoch milliseconds or an ISO 8601 date-time` });

/** The app reports a push opened: the send id it carried (push_send_id), the device, and when (default: now). */
export const OpenInput = z.intersection(DeviceRef, z.object({ sendId: SendId, openedAt: Instant('openedAt').optional() }));
export type OpenInput = z.input<typeof OpenInput>;

/** Which reports List Sends reads: started between two instants, newest first. */
export const ReportRange = z.object({
	from: Instant('from').optional(),
	to: Instant('to').optional(),
	limit: z.number({ error: 'expected limit as a number' }).int().min(1, 'expected a limit of 1 or more').max(10_000, 'expected a limit of at most 10000').default(100),
});
export type ReportRange = z.input<typeof ReportRange>;
export type IdentifyInput = z.input<typeof IdentifyInput>;

export const CLEAR_MODES = ['anonymous', 'remove'] as const;
export type ClearMode = (typeof CLEAR_MODES)[number];
export const ClearIdentifyInput = z.intersection(
	DeviceRef,
	z.object({
		mode: z.enum(CLEAR_MODES, { error: `expected mode to be one of ${CLEAR_MODES.join(', ')}` }).default('anonymous'),
	}),
);
export type ClearIdentifyInput = z.input<typeof ClearIdentifyInput>;

/** A provider's answer for one token, already normalised to an outcome. */
export const OutcomeInput = z.object({
	appId: AppId,
	token: TokenRef,
	outcome: z.enum(OUTCOMES, { error: `expected outcome to be one of ${OUTCOMES.join(', ')}` }),
	/** The provider's words: kept, cut to what the changelog holds. */
	reason: z.string({ error: 'expected reason as text' }).transform((s) => cleanText(s, 500)).optional(),
	/** A test send never changes a token (providers do not invalidate on test pushes either). */
	test: z.boolean().default(false),
});
export type OutcomeInput = z.input<typeof OutcomeInput>;

export const SubscriptionInput = z.object({
	userId: UserId,
	unsubscribed: z.boolean({ error: 'expected unsubscribed to be true or false' }),
});
export type SubscriptionInput = z.input<typeof SubscriptionInput>;

/**
 * One of two shapes, told apart by whether the value has `key`: unlike z.union, whose error only
 * says that no shape fit, the error names the field that is wrong.
 */
export function keyedUnion<A extends z.ZodType, B extends z.ZodType>(key: string, withKey: A, without: B) {
	return z.unknown().transform((value, ctx): z.output<A> | z.output<B> => {
		const schema = typeof value === 'object' && value !== null && key in value ? withKey : without;
		const parsed = schema.safeParse(value);
		if (parsed.success) return parsed.data;
		for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', path: issue.path as string[], message: issue.message });
		return z.NEVER;
	});
}

export const ProfileRef = keyedUnion('userId', z.object({ userId: UserId }), z.object({ profileId: nonEmpty('a profile id') }));
export type ProfileRef = { userId: string } | { profileId: string };

/** A profile asked for by its user id (Get Profile): the error names the field. */
export const ProfileByUserId = z.object({ userId: UserId });

/** A count or an id, checked here: the databases refuse 2.5 with raw errors of their own. */
const wholeNumber = () => {
	const error = (issue: { input?: unknown }) => `expected a whole number of at least 1, got ${typeof issue.input === 'number' ? issue.input : describe(issue.input)}`;
	return z.number({ error }).int({ error }).min(1, { error });
};

/** A page of a changelog: oldest first, or newest first from before an event id (the last page's last). */
export const ChangelogPage = z.object({
	limit: wholeNumber(),
	newestFirst: z.boolean().optional(),
	before: wholeNumber().optional(),
});
export type ChangelogPage = z.input<typeof ChangelogPage>;

export const AudienceQuery = z.object({
	appId: AppId,
	platform: z.enum(PLATFORMS).optional(),
	/** Transactional sends reach unsubscribed users too. */
	transactional: z.boolean().default(false),
	/** One device per user: the one active most recently. */
	lastActiveOnly: z.boolean().default(false),
	/** Temporary profiles made by push_token_import (the reason to import is to message them). */
	includeImported: z.boolean().default(true),
	/** Devices nobody has identified on. */
	includeAnonymous: z.boolean().default(false),
	/** Visible pushes skip background-only tokens; silent pushes reach them. */
	visible: z.boolean().default(true),
	pageSize: z.number().int().min(1).max(10_000).default(1000),
});
export type AudienceQuery = z.input<typeof AudienceQuery>;

export const DEFAULT_SEND_LOG_DAYS = 30;
export const DEFAULT_CHANGELOG_DAYS = 400;

export const CleanupOptions = z.object({
	/** Prune devices not seen for this many days; 0 or absent disables pruning. FCM's guidance is 270. */
	staleAfterDays: z.number().int().min(0).optional(),
	/** Send-log rows older than this many days are deleted: a send id protects against a second push this long. 0 keeps them. */
	sendLogDays: z.number().int().min(0).default(DEFAULT_SEND_LOG_DAYS),
	/** Changelog rows older than this many days are deleted; 0 keeps them forever. (Tombstones are kept: a dead token stays refused.) */
	changelogDays: z.number().int().min(0).default(DEFAULT_CHANGELOG_DAYS),
	/** How many deleted profile ids to list in the report (the counts are always complete). */
	reportLimit: z.number().int().min(0).max(100_000).default(1000),
	batchSize: z.number().int().min(1).max(10_000).default(1000),
});
export type CleanupOptions = z.input<typeof CleanupOptions>;

export const DEFAULT_STALE_AFTER_DAYS = 270;
