/**
 * The import presets, and Detect From Header: the first preset whose `detect` knows the first
 * record's keys reads the file. Provider presets come before this package's layout, whose
 * aliases are the loosest.
 */
import { ownerOf } from '../../providers';
import { UnreadableRow } from '../sources';
import { airship } from './airship';
import { braze } from './braze';
import { customerIo } from './customerio';
import { oneSignal } from './onesignal';
import { packageLayout } from './package';
import { SourceSkip, type ImportPreset, type PresetDefaults, type PresetOutput } from './preset';

export { mapColumns, MAPPABLE_FIELDS, type ColumnMap } from './map-columns';
export { packageLayout } from './package';
export { SourceSkip, type ImportPreset, type PresetDefaults, type PresetOutput } from './preset';

export const PRESETS: readonly ImportPreset[] = [oneSignal, airship, braze, customerIo, packageLayout];

export const presetById = (id: string): ImportPreset | undefined => PRESETS.find((p) => p.id === id);

/** A preset's reading of one record, with the rules every source shares. */
export function reader(preset: ImportPreset, defaults: PresetDefaults): (record: unknown) => Iterable<PresetOutput> {
	return function* (record) {
		if (typeof record !== 'object' || record === null || Array.isArray(record)) {
			yield record as PresetOutput; // the schema names what it expected
			return;
		}
		for (const row of preset.read(record as Record<string, unknown>, defaults)) {
			// A token of a provider's own shape (an Expo push token) goes to that provider, whatever the export guessed.
			const owner = row instanceof SourceSkip || row instanceof UnreadableRow ? undefined : ownerOf(row.token);
			yield owner ? { ...row, provider: owner } : row;
		}
	};
}

/** Thrown when no preset knows the file's columns. */
export class UnknownSourceError extends Error {
	override readonly name = 'UnknownSourceError';
}

/**
 * Detect From Header: reads the first record, picks its preset, and gives back the records with
 * that first one still in front. Unreadable records before it are passed on as they are.
 */
export async function detectPreset(records: AsyncIterable<unknown>): Promise<{ preset: ImportPreset; records: AsyncIterable<unknown> }> {
	const iterator = records[Symbol.asyncIterator]();
	const ahead: unknown[] = [];
	let first: IteratorResult<unknown>;
	while (!(first = await iterator.next()).done && !isRecord(first.value)) ahead.push(first.value);
	if (first.done) return { preset: packageLayout, records: replay(ahead, iterator) }; // nothing readable: the import reports it
	ahead.push(first.value);
	const keys = Object.keys(first.value as object);
	const preset = PRESETS.find((p) => p.detect(keys));
	if (!preset) {
		await iterator.return?.();
		throw new UnknownSourceError(`no import preset knows these columns: ${keys.slice(0, 20).join(', ')}${keys.length > 20 ? ', …' : ''}; choose the Source, or Map Columns`);
	}
	return { preset, records: replay(ahead, iterator) };
}

const isRecord = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof UnreadableRow);

async function* replay(ahead: unknown[], rest: AsyncIterator<unknown>): AsyncGenerator<unknown> {
	yield* ahead;
	for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}
