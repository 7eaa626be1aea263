/** Map Columns: any CSV or JSON, the user naming the column that holds each field. */
import { present, type ImportPreset } from './preset';

/** The import fields a column can be named for; a Web Push subscription may come as endpoint + keys in three columns. */
export const MAPPABLE_FIELDS = ['appId', 'platform', 'provider', 'token', 'deviceId', 'userId', 'environment', 'timeZone', 'language', 'webPushP256dh', 'webPushAuth'] as const;
export type ColumnMap = Partial<Record<(typeof MAPPABLE_FIELDS)[number], string>>;

export function mapColumns(columns: ColumnMap): ImportPreset {
	const named = MAPPABLE_FIELDS.flatMap((field) => (columns[field] ? [[field, columns[field]] as const] : []));
	return {
		id: 'mapColumns',
		name: 'Map Columns',
		description: 'Any CSV or JSON, read by the columns the node names',
		detect: () => false,
		read(record, defaults) {
			const row: Record<string, unknown> = {};
			for (const [field, column] of named) if (present(record[column])) row[field] = record[column];
			if (typeof row.platform === 'string') row.platform = row.platform.trim().toLowerCase();
			const { webPushP256dh: p256dh, webPushAuth: auth, ...fields } = row;
			if (p256dh !== undefined || auth !== undefined) fields.token = { endpoint: fields.token, keys: { p256dh, auth } };
			fields.appId ??= defaults.appId || undefined;
			fields.platform ??= defaults.platform || undefined;
			return [fields];
		},
	};
}
