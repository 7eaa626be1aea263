// Imports one file in a small heap, for the memory test (test/reliability/import-memory.test.ts).
// Usage: node --max-old-space-size=128 import-memory-worker.js <file.csv | file.jsonl>
// Streams the file in 64 KB chunks into a fresh SQLite store, as the Import node does, and prints
// one JSON line: the import summary and the peak RSS growth over the store-open baseline, in MB.
const { createReadStream, mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { TokenStore, readCsv, readJson, toImportRow } = require('../../dist/nodes/core');

async function main() {
	const [file] = process.argv.slice(2);
	const dir = mkdtempSync(join(tmpdir(), 'push-tokens-memory-'));
	try {
		const store = await TokenStore.open({ engine: 'sqlite', path: join(dir, 'store.sqlite') });
		try {
			const baseline = process.memoryUsage().rss;
			const stream = createReadStream(file, { highWaterMark: 64 * 1024 });
			const read = file.endsWith('.csv') ? readCsv : readJson;
			// The Import node's mapping and options (anonymous mode, no defaults).
			const rows = (async function* () {
				for await (const row of read(stream)) yield toImportRow(row, { appId: '', platform: '' });
			})();
			const summary = await store.importTokens(rows, { anonymousOnly: true });
			const peakRssMb = process.resourceUsage().maxRSS / 1024 - baseline / 1024 / 1024;
			process.stdout.write(JSON.stringify({ summary, peakRssMb: Math.round(peakRssMb * 10) / 10 }) + '\n');
		} finally {
			await store.close();
		}
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
