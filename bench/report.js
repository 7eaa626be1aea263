// Timing and reporting shared by the benchmarks: wall time, peak RSS, and the ratio of the
// raw ceiling's time to ours (1.0 = as fast as the ceiling), printed and appended as JSON.
const { appendFileSync, mkdirSync } = require('node:fs');
const { join } = require('node:path');

async function timed(fn) {
	const start = process.hrtime.bigint();
	await fn();
	return Number(process.hrtime.bigint() - start) / 1e6;
}

/** The p-th percentile of ascending numbers. */
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

function report(bench, rows) {
	// (times in ms unless a row names its unit: the store-size benchmark compares bytes)
	const out = rows.map((r) => ({
		bench,
		what: r.what,
		...(r.unit ? { unit: r.unit, ours: Math.round(r.ours), ceiling: Math.round(r.ceiling) } : { oursMs: Math.round(r.ours), ceilingMs: Math.round(r.ceiling) }),
		ratio: Number((r.ceiling / r.ours).toFixed(2)),
		target: r.target,
		...(r.extra ?? {}),
	}));
	for (const r of out) {
		const verdict = r.target == null ? '' : r.ratio >= r.target ? `  (target ≥ ${r.target}: met)` : `  (target ≥ ${r.target}: MISSED)`;
		const unit = r.unit ?? 'ms';
		console.log(`${r.what}: ${r.ours ?? r.oursMs} ${unit}; ceiling ${r.ceiling ?? r.ceilingMs} ${unit}; ratio ${r.ratio}${verdict}`);
	}
	mkdirSync(join(__dirname, 'results'), { recursive: true });
	appendFileSync(join(__dirname, 'results', 'latest.jsonl'), out.map((r) => JSON.stringify({ ...r, at: new Date().toISOString(), node: process.version })).join('\n') + '\n');
}

module.exports = { percentile, timed, report };
