/**
 * Braze: its user export (by segment or by identifier), one user per line, each with its
 * push_tokens. A token whose notifications are off (notifications_enabled false) is still imported:
 * the token is valid, and the app's next register says what the device allows now. The user's
 * time_zone (IANA) and language go to each of their tokens.
 * https://www.braze.com/docs/api/endpoints/export/user_data/post_users_segment, https://www.braze.com/docs/api/endpoints/export/user_data/post_users_identifier
 */
import { describe } from '../../text';
import { UnreadableRow } from '../sources';
import { candidate, each, given, hasColumns, locale, lowerText, SourceSkip, type ImportPreset } from './preset';

const PLATFORMS = new Map<string, 'ios' | 'android' | SourceSkip>([
	['ios', 'ios'],
	['android', 'android'],
	// A web token alone is no Web Push subscription: the export leaves out its keys.
	['web', new SourceSkip('web push token (the export has no subscription keys)', 'web')],
]);

export const braze: ImportPreset = {
	id: 'braze',
	name: 'Braze User Export',
	description: 'The user export as JSON (external_id or braze_id, push_subscribe, push_tokens: platform, token)',
	// A user without tokens has no push_tokens in the export, but its push_subscribe.
	detect: (keys) => hasColumns(keys, 'braze_id') || (hasColumns(keys, 'external_id') && (hasColumns(keys, 'push_tokens') || hasColumns(keys, 'push_subscribe'))),
	*read(user, defaults) {
		const unsubscribed = lowerText(user.push_subscribe) === 'unsubscribed';
		const where = locale(user.time_zone, user.language);
		for (const token of each(user, 'push_tokens')) {
			if (token instanceof UnreadableRow) {
				yield token;
				continue;
			}
			const name = lowerText(token.platform);
			const platform = name === undefined ? undefined : (PLATFORMS.get(name) ?? new SourceSkip(`unsupported Braze platform ${describe(token.platform)}`));
			if (platform === undefined) yield new UnreadableRow(`push_tokens: expected each token's platform, got ${describe(token.platform)}`);
			else if (platform instanceof SourceSkip) yield platform;
			else if (unsubscribed) yield new SourceSkip('user unsubscribed from push (push_subscribe unsubscribed)', platform);
			else yield candidate(defaults, { platform, token: token.token, userId: given(user.external_id), ...where });
		}
	},
};
