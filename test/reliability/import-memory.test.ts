/**
 * Bounded memory for the import readers: a CSV record, a JSON array element or a JSON line longer
 * than MAX_RECORD_CHARS is skipped as one unreadable row (named by the line it starts on), and
 * the rows after it are read as before. Then a child process with a 128 MB heap imports files
 * with a 100 MB line into a real SQLite store; its RSS may grow by 80 MB at most: holding the
 * line would take 100 MB more (its usual growth is 15 to 30 MB; the collector's timing on a busy
 * machine once made it 61).
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_RECORD_CHARS, readCsv, readJson, UnreadableRow } from '../../nodes/core/import/sources';

const ROOT = join(__dirname, '../..');
const tooLong = (line: number) => new UnreadableRow(`line ${line}: the row is longer than 65,536 characters (a Web Push subscription is under 1 KB); skipped`);

/** The text as UTF-8 bytes cut every 64 KB, as a file stream gives it (characters cut too). */
function fileChunks(text: string): Buffer[] {
	const bytes = Buffer.from(text);
	const out: Buffer[] = [];
	for (let i = 0; i < bytes.length; i += 64 * 1024) out.push(bytes.subarray(i, i + 64 * 1024));
	return out;
}

async function collect<T>(rows: AsyncIterable<T>): Promise<T[]> {
	const out: T[] = [];
	for await (const row of rows) out.push(row);
	return out;
}

describe('CSV reader: a record over MAX_RECORD_CHARS', () => {
	// Line 3: an unquoted field over the cap, with a quote in it after the cap (a literal, as in any
	// unquoted field) and a quoted field after it whose newline must not end the record.
	// Line 6: a quoted field over the cap, with "" escapes and 1,999 newlines (the record ends on line 2,005).
	const quoted = Array.from({ length: 2000 }, (_, i) => `part ${i}, ""quoted"", ✓ and more text here`).join('\n');
	const csv = [
		'app_id,token,note',
		'app,t1,first',
		`app,${'x'.repeat(MAX_RECORD_CHARS + 10)}"y,"two\nlines"`,
		'app,t2,"after ""big"""',
		`app,"${quoted}",n`,
		'app,t3,"three\nlines\nhere"',
		'app,t4',
		'app,t5,last',
	].join('\n');

	const expected = [
		{ app_id: 'app', token: 't1', note: 'first' },
		tooLong(3),
		{ app_id: 'app', token: 't2', note: 'after "big"' },
		tooLong(6),
		{ app_id: 'app', token: 't3', note: 'three\nlines\nhere' },
		new UnreadableRow('line 2009: expected 3 fields as in the header, got 2'),
		{ app_id: 'app', token: 't5', note: 'last' },
	];

	it('skips the record to its end and reads the rows after it with their line numbers, in one string', async () => {
		expect(quoted.length).toBeGreaterThan(MAX_RECORD_CHARS);
		expect(await collect(readCsv([csv]))).toEqual(expected);
	});

	it('does the same from 64 KB chunks of bytes', async () => {
		expect(await collect(readCsv(fileChunks(csv)))).toEqual(expected);
	});

	it('counts the commas: a row of empty fields over the cap is skipped too', async () => {
		expect(await collect(readCsv([`a,b\n${','.repeat(MAX_RECORD_CHARS + 1)}\n1,2`]))).toEqual([tooLong(2), { a: '1', b: '2' }]);
	});

	it('reads a record of exactly MAX_RECORD_CHARS, and skips one more', async () => {
		const exact = 'x'.repeat(MAX_RECORD_CHARS);
		expect(await collect(readCsv([`token\n${exact}\n${exact}x\n"${exact}"\nlast`]))).toEqual([{ token: exact }, tooLong(3), { token: exact }, { token: 'last' }]);
		// Two fields: their text and the comma together.
		const half = 'y'.repeat(MAX_RECORD_CHARS / 2);
		expect(await collect(readCsv([`a,b\n${half},${half.slice(1)}\n${half},${half}\n`]))).toEqual([{ a: half, b: half.slice(1) }, tooLong(3)]);
	});

	it('reports the last record over the cap without a newline, or an unclosed quote in it', async () => {
		expect(await collect(readCsv([`token\nt1\n${'x'.repeat(MAX_RECORD_CHARS + 1)}`]))).toEqual([{ token: 't1' }, tooLong(3)]);
		expect(await collect(readCsv([`token\n"${'x'.repeat(MAX_RECORD_CHARS + 1)}`]))).toEqual([new UnreadableRow('line 2: a quoted field is not closed before the end of the file')]);
	});

	it('stops at a header over the cap: the file cannot be read', async () => {
		const rows = await collect(readCsv([`${'h'.repeat(MAX_RECORD_CHARS + 1)}\nt1\nt2\n`]));
		expect(rows).toEqual([new UnreadableRow('line 1: the header is longer than 65,536 characters; the file cannot be read')]);
	});
});

describe('JSON reader: an element or a line over MAX_RECORD_CHARS', () => {
	// A string with the array's own delimiters and escaped quotes: only the parser's state tells they are inside it.
	const big = '{"token":"' + 'a,]}[{\\"x\\"'.repeat(MAX_RECORD_CHARS / 8) + '","n":[1,{"m":2}]}';

	it('skips an array element to its top-level comma and reads the elements after it', async () => {
		const array = `[\n{"token":"a"},\n  ${big} ,\n{"token":"b,]"},{"token":"c"},\n{"token":\n}]`;
		const expected = [{ token: 'a' }, tooLong(3), { token: 'b,]' }, { token: 'c' }];
		for (const chunks of [[array], fileChunks(array)]) {
			const rows = await collect(readJson(chunks));
			expect(rows.slice(0, 4)).toEqual(expected);
			expect((rows[4] as UnreadableRow).reason).toMatch(/^element ending at line 6: invalid JSON/);
			expect(rows).toHaveLength(5);
		}
	});

	it('skips an element over the cap that ends the array, or one whose array is not closed', async () => {
		expect(await collect(readJson([`[{"token":"a"},${big}]\n{"token":"after"}\n`]))).toEqual([{ token: 'a' }, tooLong(1), { token: 'after' }]);
		expect(await collect(readJson([`[{"token":"a"},\n${big}`]))).toEqual([{ token: 'a' }, tooLong(2)]);
	});

	it('skips a JSON line over the cap and reads the lines after it', async () => {
		const lines = `\n{"token":"a"}\n${big}\n{"token":"b"}\n{"token":\n{"token":"c"}`;
		for (const chunks of [[lines], fileChunks(lines)]) {
			const rows = await collect(readJson(chunks));
			expect(rows.slice(0, 3)).toEqual([{ token: 'a' }, tooLong(3), { token: 'b' }]);
			expect((rows[3] as UnreadableRow).reason).toMatch(/^line 5: invalid JSON/);
			expect(rows[4]).toEqual({ token: 'c' });
			expect(rows).toHaveLength(5);
		}
	});

	it('reads an element and a line of exactly MAX_RECORD_CHARS, and skips one more', async () => {
		const token = (extra: number) => 'x'.repeat(MAX_RECORD_CHARS - '{"token":""}'.length + extra);
		const exact = `{"token":"${token(0)}"}`;
		expect(exact).toHaveLength(MAX_RECORD_CHARS);
		expect(await collect(readJson([`[${exact}, {"token":"${token(1)}"}]`]))).toEqual([{ token: token(0) }, tooLong(1)]);
		expect(await collect(readJson([`${exact}\n{"token":"${token(1)}"}\n`]))).toEqual([{ token: token(0) }, tooLong(2)]);
	});
});

describe('memory: a 100 MB line imported in a 128 MB heap', () => {
	const MB = 1024 * 1024;
	let dir: string;
	beforeAll(() => {
		dir = mkdtempSync(join(tmpdir(), 'push-tokens-memory-test-'));
		// The child runs the compiled package: it must hold the cap.
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		if (require(join(ROOT, 'dist/nodes/core/import/sources')).MAX_RECORD_CHARS !== MAX_RECORD_CHARS) throw new Error('dist/ is older than nodes/core/import/sources.ts: compile it (npx tsc -p tsconfig.json)');
	});
	afterAll(() => rmSync(dir, { recursive: true, force: true }));

	/** 10 good rows, one row whose token is one 100 MB line, 10 good rows; written in pieces. */
	function writeFile(name: string, good: (i: number) => string, header: string, bigStart: string, bigEnd: string): string {
		const path = join(dir, name);
		const fd = openSync(path, 'w');
		try {
			writeSync(fd, header);
			for (let i = 0; i < 10; i++) writeSync(fd, good(i));
			writeSync(fd, bigStart);
			const piece = Buffer.alloc(MB, 'x');
			for (let i = 0; i < 100; i++) writeSync(fd, piece);
			writeSync(fd, bigEnd);
			for (let i = 10; i < 20; i++) writeSync(fd, good(i));
		} finally {
			closeSync(fd);
		}
		return path;
	}

	function importInChild(file: string): Promise<{ code: number | null; output: string }> {
		const child = spawn(process.execPath, ['--expose-gc', '--max-old-space-size=128', join(ROOT, 'test/support/import-memory-worker.js'), file], { stdio: ['ignore', 'pipe', 'pipe'] });
		let output = '';
		child.stdout.on('data', (c) => (output += c));
		child.stderr.on('data', (c) => (output += c));
		return new Promise((done) => child.on('exit', (code) => done({ code, output })));
	}

	const token = (i: number) => `fcm-mem-${i}:APA91b${'x'.repeat(20)}`;
	it.each([
		['CSV', 'big.csv', (i: number) => `com.example.memory,android,${token(i)}\n`, 'app_id,platform,token\n', 'com.example.memory,android,', '\n', 12],
		['JSON Lines', 'big.jsonl', (i: number) => JSON.stringify({ app_id: 'com.example.memory', platform: 'android', token: token(i) }) + '\n', '', '{"app_id":"com.example.memory","platform":"android","token":"', '"}\n', 11],
	])(
		'%s: imports the 20 good rows, counts the big one invalid, RSS grows by 80 MB at most',
		async (format, name, good, header, bigStart, bigEnd, line) => {
			const file = writeFile(name, good, header, bigStart, bigEnd);
			try {
				const { code, output } = await importInChild(file);
				expect({ code, output: code === 0 ? '' : output }).toEqual({ code: 0, output: '' });
				const { summary, peakRssMb } = JSON.parse(output.trim().split('\n').pop()!);
				expect(summary).toMatchObject({ rows: 21, imported: 20, invalid: 1, invalidRows: [{ row: 11, issues: [{ field: '', message: tooLong(line).reason }] }] });
				process.stdout.write(`IMPORT_MEMORY ${JSON.stringify({ format, peakRssMb })}\n`);
				expect(peakRssMb).toBeLessThanOrEqual(80);
			} finally {
				rmSync(file, { force: true });
			}
		},
		60_000,
	);
});
