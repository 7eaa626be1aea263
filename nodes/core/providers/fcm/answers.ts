/**
 * FCM's answers: FCM v1 ErrorCode and firebase-admin's codes (registration tokens and
 * installation ids alike), plus the legacy names Braze lists.
 */
import { answerTable } from '../provider';

/** FCM's INVALID_ARGUMENT is about the address only when its message says so; otherwise the message is wrong. */
const ADDRESS_MESSAGE = /registration token|installation id|not a valid fcm|not a valid fid/i;

export const fcmAnswers = answerTable(
	{
		'invalid-token': [
			'UNREGISTERED',
			'UNREGISTERED_FID',
			'messaging/registration-token-not-registered',
			'messaging/installation-id-not-registered',
			'SENDER_ID_MISMATCH',
			'messaging/mismatched-credential',
			'messaging/invalid-registration-token',
			// legacy HTTP API names (Braze's list)
			'NotRegistered',
			'InvalidRegistration',
			'MismatchSenderId',
		],
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
	},
	(lower, code, message) => {
		if (lower !== 'invalid_argument' && lower !== 'messaging/invalid-argument') return null;
		return ADDRESS_MESSAGE.test(message ?? '')
			? { outcome: 'invalid-token', reason: `${code}: ${message}` }
			: { outcome: 'config-error', reason: `${code}: the message was refused${message ? ` (${message})` : ''}` };
	},
);
