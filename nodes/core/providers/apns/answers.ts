/** APNs reasons (Apple's "Handling notification responses from APNs"). */
import { answerTable } from '../provider';

export const apnsAnswers = answerTable({
	'invalid-token': ['Unregistered', 'ExpiredToken', 'BadDeviceToken'],
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
