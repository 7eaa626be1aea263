/**
 * One table per provider turning its answer (error code, reason, HTTP status) into one outcome:
 *   delivered | invalid-token (remove + tombstone) | bounced | retry | config-error (fail, keep tokens)
 * Sources: FCM v1 ErrorCode and firebase-admin codes (plus the legacy names Braze lists), APNs
 * reasons, Web Push (RFC 8030) statuses. Codes are matched case-insensitively.
 */
import { OUTCOMES, type Outcome, type Provider } from '../model';

export interface ProviderAnswer {
	provider?: Provider | string;
	/** An error code or reason (e.g. UNREGISTERED, messaging/registration-token-not-registered, BadDeviceToken), an outcome, or an event (uninstall). */
	code?: string | null;
	statusCode?: number | null;
	/** The provider's message; FCM's INVALID_ARGUMENT names a dead token only in its message. */
	message?: string | null;
}

export interface Classification {
	outcome: Outcome | null;
	/** Why, in words that name the provider's own code. */
	reason: string;
}

const table = (entries: Record<Outcome, string[]>) =>
	new Map(Object.entries(entries).flatMap(([outcome, codes]) => codes.map((c) => [c.toLowerCase(), outcome as Outcome] as const)));

const FCM = table({
	delivered: [],
	'invalid-token': [
		'UNREGISTERED',
		'messaging/registration-token-not-registered',
		'SENDER_ID_MISMATCH',
		'messaging/mismatched-credential',
		'messaging/invalid-registration-token',
		// legacy HTTP API names (Braze's list)
		'NotRegistered',
		'InvalidRegistration',
		'MismatchSenderId',
	],
	bounced: [],
	retry: [
		'QUOTA_EXCEEDED',
		'messaging/message-rate-exceeded',
		'messaging/device-message-rate-exceeded',
		'UNAVAILABLE',
		'messaging/server-unavailable',
		'INTERNAL',
		'messaging/internal-error',
		'Unavailable',
		'InternalServerError',
		'DeviceMessageRateExceeded',
	],
	'config-error': [
		'THIRD_PARTY_AUTH_ERROR',
		'messaging/third-party-auth-error',
		'PERMISSION_DENIED',
		'UNAUTHENTICATED',
		'messaging/authentication-error',
		'messaging/invalid-credential',
		'app/invalid-credential', // the token endpoint refused the service account
		'messaging/payload-size-limit-exceeded',
		'MessageTooBig',
		'InvalidPackageName',
	],
});

const APNS = table({
	delivered: [],
	'invalid-token': ['Unregistered', 'ExpiredToken', 'BadDeviceToken'],
	bounced: [],
	// ExpiredProviderToken: the JWT must be signed again, then the same push retried.
	retry: ['TooManyRequests', 'TooManyProviderTokenUpdates', 'InternalServerError', 'ServiceUnavailable', 'Shutdown', 'IdleTimeout', 'ExpiredProviderToken'],
	'config-error': [
		'DeviceTokenNotForTopic',
		'TopicDisallowed',
		'BadTopic',
		'MissingTopic',
		'InvalidProviderToken',
		'MissingProviderToken',
		'BadCertificate',
		'BadCertificateEnvironment',
		'Forbidden',
		'PayloadTooLarge',
		'PayloadEmpty',
		'BadPriority',
		'BadExpirationDate',
		'BadMessageId',
		'BadCollapseId',
		'BadPath',
		'MethodNotAllowed',
		'MissingDeviceToken',
		'InvalidPushType',
	],
});

/** Events a webhook may report about a token, whatever the provider. */
const EVENTS = table({
	delivered: ['delivered', 'sent', 'success'],
	'invalid-token': ['uninstall', 'uninstalled', 'unregistered', 'token-expired'],
	bounced: ['bounce', 'bounced'],
	retry: [],
	'config-error': [],
});

/** Web Push (RFC 8030) answers only by status; FCM and APNs statuses back up their codes. */
function byStatus(statusCode: number): Outcome | null {
	if (statusCode >= 200 && statusCode < 300) return 'delivered';
	if (statusCode === 404 || statusCode === 410) return 'invalid-token';
	if (statusCode === 408 || statusCode === 429 || statusCode >= 500) return 'retry';
	if (statusCode === 400 || statusCode === 401 || statusCode === 403 || statusCode === 413) return 'config-error';
	return null;
}

/** FCM's INVALID_ARGUMENT is about the token only when its message says so; otherwise the message is wrong. */
const FCM_TOKEN_MESSAGE = /registration token|not a valid fcm/i;

export function classifyAnswer(answer: ProviderAnswer): Classification {
	// A three-digit code is an HTTP status (Web Push answers by status only; Send Push writes it as the code).
	const status = /^\d{3}$/.test(answer.code?.trim() ?? '') ? Number(answer.code) : undefined;
	if (status !== undefined) return classifyAnswer({ ...answer, code: undefined, statusCode: status });
	const code = answer.code?.trim() ?? '';
	const provider = String(answer.provider ?? '').toLowerCase();
	const lower = code.toLowerCase();

	if ((OUTCOMES as readonly string[]).includes(lower)) return { outcome: lower as Outcome, reason: code };
	const event = EVENTS.get(lower);
	if (event) return { outcome: event, reason: code };

	if (code) {
		if (provider === 'fcm' && (lower === 'invalid_argument' || lower === 'messaging/invalid-argument')) {
			return FCM_TOKEN_MESSAGE.test(answer.message ?? '')
				? { outcome: 'invalid-token', reason: `${code}: ${answer.message}` }
				: { outcome: 'config-error', reason: `${code}: the message was refused${answer.message ? ` (${answer.message})` : ''}` };
		}
		const known = (provider === 'apns' ? APNS : provider === 'fcm' ? FCM : undefined)?.get(lower) ?? (provider ? undefined : (FCM.get(lower) ?? APNS.get(lower)));
		if (known) return { outcome: known, reason: code };
	}
	if (answer.statusCode) {
		const outcome = byStatus(answer.statusCode);
		if (outcome) return { outcome, reason: code ? `${code} (HTTP ${answer.statusCode})` : `HTTP ${answer.statusCode}` };
	}
	return { outcome: null, reason: code || answer.statusCode ? `unknown answer ${code || `HTTP ${answer.statusCode}`}${provider ? ` from ${provider}` : ''}` : 'no answer given' };
}
