/**
 * Expo's answers: the `details.error` of a ticket or a receipt, and the `code` of an error of a
 * whole request (docs.expo.dev/push-notifications/sending-notifications, "Errors").
 */
import { answerTable } from '../provider';

export const expoAnswers = answerTable({
	'invalid-token': ['DeviceNotRegistered'],
	// ExpoError, ProviderError: Expo's own or APNs'/FCM's passing failure.
	retry: ['MessageRateExceeded', 'TOO_MANY_REQUESTS', 'ExpoError', 'ProviderError'],
	// MismatchSenderId: the FCM credential uploaded to Expo is not the app's; the token is fine.
	'config-error': ['MessageTooBig', 'InvalidCredentials', 'MismatchSenderId', 'DeveloperError', 'PUSH_TOO_MANY_EXPERIENCE_IDS', 'PUSH_TOO_MANY_NOTIFICATIONS', 'PUSH_TOO_MANY_RECEIPTS', 'VALIDATION_ERROR', 'UNAUTHORIZED'],
});
