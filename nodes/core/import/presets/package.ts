/** This package's own layout: app_id, platform, token, device_id, user_id, time_zone, language… in snake_case or camelCase, with a few aliases. */
import { columnKey, present, type ImportPreset } from './preset';

const COLUMN_ALIASES: Record<string, string[]> = {
	appId: ['app_id', 'appid', 'app'],
	platform: ['platform', 'os'],
	provider: ['provider'],
	tokenKind: ['token_kind', 'tokenkind', 'kind'],
	token: ['token', 'push_token', 'device_token', 'registration_token', 'subscription'],
	deviceId: ['device_id', 'deviceid'],
	userId: ['user_id', 'userid', 'external_id', 'externalid'],
	environment: ['environment', 'apns_environment'],
	timeZone: ['time_zone', 'timezone'],
	language: ['language'],
};
const FIELD_OF_COLUMN = new Map(Object.entries(COLUMN_ALIASES).flatMap(([field, names]) => names.map((n) => [n, field] as const)));
const fieldOf = (column: string) => FIELD_OF_COLUMN.get(columnKey(column)) ?? FIELD_OF_COLUMN.get(column.toLowerCase());

export const packageLayout: ImportPreset = {
	id: 'package',
	name: "This Package's Layout",
	description: 'Columns app_id, platform, token, device_id, user_id, provider, environment, time_zone, language (snake_case or camelCase)',
	detect: (keys) => keys.some((k) => fieldOf(k) === 'token'),
	read(record, defaults) {
		const row: Record<string, unknown> = {};
		for (const column in record) {
			const field = fieldOf(column);
			if (field && present(record[column])) row[field] = record[column];
		}
		row.appId ??= defaults.appId || undefined;
		row.platform ??= defaults.platform || undefined;
		return [row];
	},
};
