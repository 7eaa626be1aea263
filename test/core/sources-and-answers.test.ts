/**
 * Import file readers (CSV, JSON array, JSON Lines) fed in awkward chunks, and the provider
 * answer tables, code by code.
 */
import { classifyAnswer, packageLayout, readCsv, readJson, reader, UnreadableRow } from '../../nodes/core';

/** Splits text into chunks of `size` characters, to cut rows, quotes and escapes anywhere. */
function chunks(text: string, size: number): string[] {
	const out: string[] = [];
	for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
	return out;
}

async function collect<T>(rows: AsyncIterable<T>): Promise<T[]> {
	const out: T[] = [];
	for await (const row of rows) out.push(row);
	return out;
}

describe('CSV reader', () => {
	const csv = '\uFEFFapp_id,token,note\r\napp,"a,b","said ""hi"""\r\n\r\napp,t2,"two\nlines"\napp,t3\n"open,x,y';
	it.each([1, 2, 3, 7, 1000])('reads quotes, escaped quotes, CRLF, blank lines and newlines in fields, in chunks of %i', async (size) => {
		const rows = await collect(readCsv(chunks(csv, size)));
		expect(rows.slice(0, 2)).toEqual([
			{ app_id: 'app', token: 'a,b', note: 'said "hi"' },
			{ app_id: 'app', token: 't2', note: 'two\nlines' },
		]);
		expect(rows[2]).toEqual(new UnreadableRow('line 6: expected 3 fields as in the header, got 2'));
		expect(rows[3]).toEqual(new UnreadableRow('line 7: a quoted field is not closed before the end of the file'));
		expect(rows).toHaveLength(4);
	});

	it('reads bytes, and a last row without a newline', async () => {
		expect(await collect(readCsv([Buffer.from('token\nx\ny')]))).toEqual([{ token: 'x' }, { token: 'y' }]);
	});

	it('reads a line split at once exactly as character by character: 3,000 random files of commas, quotes and newlines (seed 19)', async () => {
		// mulberry32: a fixed seed, the same files every run
		let seed = 19;
		const random = () => {
			seed = (seed + 0x6d2b79f5) | 0;
			let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
			t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
			return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
		};
		const alphabet = ['a', 'b', ',', ',', '"', '"', '\n', ' '];
		for (let file = 0; file < 3000; file++) {
			const text = 'x,y,z\n' + Array.from({ length: 1 + Math.floor(random() * 40) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
			const whole = await collect(readCsv([text])); // lines in one chunk: split at once where they can be
			const byCharacter = await collect(readCsv(chunks(text, 1))); // never a whole line in a chunk
			expect({ text, rows: whole }).toEqual({ text, rows: byCharacter });
		}
	});
});

describe('JSON reader', () => {
	const array = '[{"token":"a,]","n":[1,2]}, {"token":"b\\"}"} ,\n{"token":"c"}]';
	it.each([1, 3, 1000])('splits an array into its elements, in chunks of %i', async (size) => {
		expect(await collect(readJson(chunks(array, size)))).toEqual([{ token: 'a,]', n: [1, 2] }, { token: 'b"}' }, { token: 'c' }]);
	});

	it('reads JSON Lines, reporting a broken line by number and going on', async () => {
		const rows = await collect(readJson(chunks('{"token":"a"}\n{"token":\n{"token":"c"}\n', 4)));
		expect(rows[0]).toEqual({ token: 'a' });
		expect(rows[1]).toBeInstanceOf(UnreadableRow);
		expect((rows[1] as UnreadableRow).reason).toMatch(/^line 2: invalid JSON/);
		expect(rows[2]).toEqual({ token: 'c' });
	});

	it.each([1, 3, 1000])('reads pretty-printed objects, one or several, between JSON lines (chunks of %i)', async (size) => {
		const pretty = (value: object) => JSON.stringify(value, null, 2);
		const text = `${pretty({ ok: true, channel: { push_address: 'x{', tags: ['}'] } })}\n${pretty({ token: 'b' })}\n{"token":"c"}\n${pretty({ token: 'd' })}`;
		expect(await collect(readJson(chunks(text, size)))).toEqual([{ ok: true, channel: { push_address: 'x{', tags: ['}'] } }, { token: 'b' }, { token: 'c' }, { token: 'd' }]);
		const rows = await collect(readJson(chunks(`${pretty({ token: 'a' })}\n{\n  "token": "b",\n`, size)));
		expect(rows[0]).toEqual({ token: 'a' });
		expect(rows[1]).toEqual(new UnreadableRow('the object starting at line 4: not closed'));
	});
});

describe("this package's layout", () => {
	const read = (record: unknown, defaults: { appId?: string; platform?: string }) => [...reader(packageLayout, defaults)(record)];
	it('maps snake_case and camelCase columns, drops empty cells, fills defaults', () => {
		expect(read({ push_token: 'x', 'Device-ID': 'd', external_id: '', os: 'ios' }, { appId: 'app', platform: 'android' })).toEqual([{
			token: 'x',
			deviceId: 'd',
			platform: 'ios',
			appId: 'app',
		}]);
		expect(read({ appId: 'mine', userId: 'u', token: 't' }, { appId: 'default' })).toEqual([{ appId: 'mine', userId: 'u', token: 't' }]);
	});
});

describe('provider answer tables', () => {
	it.each([
		// FCM v1 and firebase-admin codes, and the legacy names Braze lists
		['fcm', 'UNREGISTERED', undefined, 'invalid-token'],
		['fcm', 'messaging/registration-token-not-registered', undefined, 'invalid-token'],
		['fcm', 'SENDER_ID_MISMATCH', undefined, 'invalid-token'],
		['fcm', 'messaging/mismatched-credential', undefined, 'invalid-token'],
		['fcm', 'MismatchSenderId', undefined, 'invalid-token'],
		['fcm', 'InvalidRegistration', undefined, 'invalid-token'],
		['fcm', 'NotRegistered', undefined, 'invalid-token'],
		['fcm', 'QUOTA_EXCEEDED', 429, 'retry'],
		['fcm', 'messaging/message-rate-exceeded', undefined, 'retry'],
		['fcm', 'UNAVAILABLE', 503, 'retry'],
		['fcm', 'messaging/server-unavailable', undefined, 'retry'],
		['fcm', 'INTERNAL', 500, 'retry'],
		['fcm', 'messaging/internal-error', undefined, 'retry'],
		['fcm', 'THIRD_PARTY_AUTH_ERROR', 401, 'config-error'],
		['fcm', 'app/invalid-credential', 0, 'config-error'],
		['fcm', 'PERMISSION_DENIED', 403, 'config-error'],
		// APNs reasons
		['apns', 'Unregistered', 410, 'invalid-token'],
		['apns', 'ExpiredToken', 410, 'invalid-token'],
		['apns', 'BadDeviceToken', 400, 'invalid-token'],
		['apns', 'DeviceTokenNotForTopic', 400, 'config-error'],
		['apns', 'TopicDisallowed', 400, 'config-error'],
		['apns', 'InvalidProviderToken', 403, 'config-error'],
		['apns', 'ExpiredProviderToken', 403, 'retry'],
		['apns', 'PayloadTooLarge', 413, 'config-error'],
		['apns', 'TooManyRequests', 429, 'retry'],
		['apns', 'InternalServerError', 500, 'retry'],
		['apns', 'ServiceUnavailable', 503, 'retry'],
		['apns', 'Shutdown', 503, 'retry'],
		// Web Push answers by status (RFC 8030)
		['webpush', undefined, 201, 'delivered'],
		['webpush', undefined, 404, 'invalid-token'],
		['webpush', undefined, 410, 'invalid-token'],
		['webpush', undefined, 413, 'config-error'],
		['webpush', undefined, 429, 'retry'],
		['webpush', undefined, 500, 'retry'],
		['webpush', undefined, 401, 'config-error'],
		// outcomes and events, whatever the provider
		[undefined, 'delivered', undefined, 'delivered'],
		[undefined, 'invalid-token', undefined, 'invalid-token'],
		[undefined, 'uninstall', undefined, 'invalid-token'],
		[undefined, 'bounced', undefined, 'bounced'],
		['apns', 'retry', undefined, 'retry'],
	])('%s %s %s → %s', (provider, code, statusCode, outcome) => {
		expect(classifyAnswer({ provider, code, statusCode }).outcome).toBe(outcome);
	});

	it("reads FCM's INVALID_ARGUMENT as a dead token only when the message says the token is not valid", () => {
		expect(classifyAnswer({ provider: 'fcm', code: 'INVALID_ARGUMENT', message: 'The registration token is not a valid FCM registration token' }).outcome).toBe('invalid-token');
		expect(classifyAnswer({ provider: 'fcm', code: 'messaging/invalid-argument', message: 'Invalid value at message.android.ttl' }).outcome).toBe('config-error');
	});

	it('leaves an unknown answer unclassified, saying so', () => {
		expect(classifyAnswer({ provider: 'apns', code: 'SomethingNew' })).toEqual({ outcome: null, reason: 'unknown answer SomethingNew from apns' });
		expect(classifyAnswer({})).toEqual({ outcome: null, reason: 'no answer given' });
	});
});

describe('decoding', () => {
	it('keeps a UTF-8 character cut between two chunks whole', async () => {
		const bytes = Buffer.from('token,note\nx,café ✓\n');
		const cut = bytes.indexOf(Buffer.from('✓')) + 1;
		expect(await collect(readCsv([bytes.subarray(0, cut), bytes.subarray(cut)]))).toEqual([{ token: 'x', note: 'café ✓' }]);
	});
});
