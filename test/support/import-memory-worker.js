// Imports one file in a small heap, for the memory test (test/reliability/import-memory.test.ts).
// Usage: node --expose-gc --max-old-space-size=128 import-memory-worker.js <file.csv | file.jsonl>
// Streams the file in 64 KB chunks into a fresh SQLite store, as the Import node does, and prints
// one JSON line: the import summary and the peak RSS during the import over the RSS before it, in
// MB (sampled: the process's own lifetime peak would count the start-up's, before the baseline).
const { createReadStream, mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { TokenStore, readCsv, readJson, reader, packageLayout } = require('../../dist/nodes/core');

async function main() {
	const [file] = process.argv.slice(2);
	const dir = mkdtempSync(join(tmpdir(), 'push-tokens-memory-'));
	try {
		const store = await TokenStore.open({ engine: 'sqlite', path: join(dir, 'store.sqlite') });
		try {
			global.gc?.();
			const baseline = process.memoryUsage.rss();
			let peak = baseline;
			const sample = () => (peak = Math.max(peak, process.memoryUsage.rss()));
			const sampler = setInterval(sample, 2);
			const stream = createReadStream(file, { highWaterMark: 64 * 1024 });
			const read = file.endsWith('.csv') ? readCsv : readJson;
			// The Import node's reading and options (this package's layout, anonymous mode, no defaults).
			const summary = await store.importTokens(read(stream), { anonymousOnly: true, read: reader(packageLayout, {}) });
			clearInterval(sampler);
			sample();
			const peakRssMb = (peak - baseline) / 1024 / 1024;
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
