/**
 * Import fixtures (`test/fixtures/import/<preset>.<csv|json|jsonl>`): an export as its provider
 * writes it, under a header of `#` lines citing the documentation it was written from. The
 * header is not part of the export: `exportOf` gives the bytes an import reads.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const FIXTURES = join(__dirname, '../fixtures/import');

export interface Fixture {
	/** The file name, e.g. `onesignal.csv`. */
	name: string;
	format: 'csv' | 'json';
	/** The header's lines, without their `#`. */
	header: string[];
	/** The export itself. */
	body: Buffer;
}

export function readFixture(name: string): Fixture {
	const lines = readFileSync(join(FIXTURES, name), 'utf8').split('\n');
	const header: string[] = [];
	while (lines.length > 0 && lines[0].startsWith('#')) header.push(lines.shift()!.replace(/^#\s?/, ''));
	return { name, format: name.endsWith('.csv') ? 'csv' : 'json', header, body: Buffer.from(lines.join('\n')) };
}

export const fixtureNames = (): string[] => readdirSync(FIXTURES).filter((f) => !f.startsWith('.')).sort();
