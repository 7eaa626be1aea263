/**
 * Customer.io: people as its App API gives their attributes ({ customer: { … } }, or the customer
 * alone), one per line, each with the devices its SDK or Track API added. An iOS device's token
 * is an APNs token, or an FCM one when the app sends through Firebase.
 * https://docs.customer.io/integrations/api/app/tag/customers/getPersonAttributes/, https://customer.io/docs/device-management/
 */
import { describe } from '../../text';
import { UnreadableRow } from '../sources';
import { candidate, each, flag, given, hasColumns, isObject, lowerText, SourceSkip, type ImportPreset } from './preset';

const APNS_TOKEN = /^[0-9a-f]{64}$/i;

/** A device's last push status (`_last_status` in the API; in its attributes too, as some exports nest it). */
function lastStatus(device: Record<string, unknown>): string | undefined {
	const attributes = isObject(device.attributes) ? device.attributes : {};
	return lowerText(device._last_status ?? device.last_status ?? attributes._last_status ?? attributes.last_status);
}

export const customerIo: ImportPreset = {
	id: 'customerio',
	name: 'Customer.io Customers',
	description: 'People with their devices as JSON ({ customer: { identifiers, devices: id, platform } } or the customer alone)',
	detect: (keys) => hasColumns(keys, 'customer') || hasColumns(keys, 'devices', 'identifiers'),
	*read(record, defaults) {
		if (Object.hasOwn(record, 'customer') && !isObject(record.customer)) {
			yield new UnreadableRow(`customer: expected an object, got ${describe(record.customer)}`);
			return;
		}
		const customer = isObject(record.customer) ? record.customer : record;
		const identifiers = isObject(customer.identifiers) ? customer.identifiers : {};
		const userId = given(identifiers.id) ?? given(customer.id);
		// Attributes come as text ("true"); the top-level flag as a boolean.
		const unsubscribed = flag(customer.unsubscribed) === true || (isObject(customer.attributes) && flag(customer.attributes.unsubscribed) === true);
		for (const device of each(customer, 'devices')) {
			if (device instanceof UnreadableRow) {
				yield device;
				continue;
			}
			const platform = lowerText(device.platform);
			if (platform === undefined) {
				yield new UnreadableRow(`devices: expected each device's platform, got ${describe(device.platform)}`);
				continue;
			}
			if (platform !== 'ios' && platform !== 'android') {
				yield new SourceSkip(`unsupported Customer.io platform ${describe(device.platform)}`);
				continue;
			}
			const provider = platform === 'ios' && typeof device.id === 'string' && !APNS_TOKEN.test(device.id.trim()) ? 'fcm' : undefined;
			// suppressed: its last two pushes bounced, and Customer.io stopped sending to it. A bounced one may still be good.
			if (lastStatus(device) === 'suppressed') yield new SourceSkip('device suppressed (its last two pushes bounced)', platform, provider);
			else if (unsubscribed) yield new SourceSkip('customer unsubscribed', platform, provider);
			else yield candidate(defaults, { platform, provider, token: device.id, userId });
		}
	},
};
