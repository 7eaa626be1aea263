/**
 * A send report as one self-contained HTML page: the figures, a bar chart of the outcomes and the
 * timeline of sends and opens, both inline SVG. No script, no remote asset (an email client or a
 * browser shows it offline), and every value from the store escaped.
 */
import type { SendReport } from '../lifecycle/reports';

const escape = (value: unknown): string =>
	String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const percent = (rate: number) => `${(rate * 100).toFixed(1)}%`;

/** Horizontal bars, one per label, scaled to the largest. */
function barChart(bars: Array<[string, number, string]>): string {
	const width = 560;
	const label = 170;
	const row = 26;
	const max = Math.max(1, ...bars.map(([, n]) => n));
	const rows = bars.map(([name, n, color], i) => {
		const w = Math.round(((width - label - 60) * n) / max);
		const y = i * row;
		return `<text x="0" y="${y + 17}">${escape(name)}</text><rect x="${label}" y="${y + 4}" width="${w}" height="18" fill="${color}"/><text x="${label + w + 6}" y="${y + 17}">${n}</text>`;
	});
	return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Outcomes" width="${width}" height="${bars.length * row}" font-family="sans-serif" font-size="13">${rows.join('')}</svg>`;
}

/** Sends and opens per minute from the start, as two series of columns. */
function timelineChart(report: SendReport): string {
	if (report.timeline.length === 0) return '<p>No sends or opens recorded yet.</p>';
	const width = 560;
	const height = 160;
	const start = report.startedAt.getTime();
	const last = Math.max(...report.timeline.map((m) => (m.minute.getTime() - start) / 60_000));
	const span = last + 1;
	const max = Math.max(1, ...report.timeline.flatMap((m) => [m.sent, m.opened]));
	const step = (width - 40) / span;
	const bar = Math.max(1, step / 2 - 0.5);
	const columns = report.timeline.map((m) => {
		const x = 40 + ((m.minute.getTime() - start) / 60_000) * step;
		const hs = ((height - 30) * m.sent) / max;
		const ho = ((height - 30) * m.opened) / max;
		const when = m.minute.toISOString().slice(0, 16).replace('T', ' ');
		return `<rect x="${x.toFixed(2)}" y="${(height - 20 - hs).toFixed(2)}" width="${bar.toFixed(2)}" height="${hs.toFixed(2)}" fill="#2f6fde"><title>${escape(when)}: ${m.sent} sent</title></rect>` +
			`<rect x="${(x + bar).toFixed(2)}" y="${(height - 20 - ho).toFixed(2)}" width="${bar.toFixed(2)}" height="${ho.toFixed(2)}" fill="#f0a020"><title>${escape(when)}: ${m.opened} opened</title></rect>`;
	});
	const axis = `<line x1="40" y1="${height - 20}" x2="${width}" y2="${height - 20}" stroke="#888"/><text x="40" y="${height - 4}">0 min</text><text x="${width}" y="${height - 4}" text-anchor="end">${span} min</text><text x="0" y="14">${max}</text>`;
	return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Timeline" width="${width}" height="${height}" font-family="sans-serif" font-size="12">${axis}${columns.join('')}</svg><p><span style="color:#2f6fde">&#9632;</span> sent <span style="color:#f0a020">&#9632;</span> opened (per minute)</p>`;
}

const table = (rows: Array<[string, unknown]>) => (rows.length === 0 ? '<p>None.</p>' : `<table>${rows.map(([k, v]) => `<tr><th>${escape(k)}</th><td>${escape(v)}</td></tr>`).join('')}</table>`);

export function reportHtml(report: SendReport): string {
	const outcomes: Array<[string, number, string]> = [
		['sent', report.sent, '#2e9e5b'],
		['delivery unknown', report.deliveryUnknown, '#b0b0b0'],
		...Object.entries(report.failedByOutcome).map(([o, n]): [string, number, string] => [`failed: ${o}`, n ?? 0, '#d64545']),
		['opened', report.opened, '#f0a020'],
	];
	const codes = Object.entries(report.failedByCode).flatMap(([provider, byCode]) => Object.entries(byCode ?? {}).map(([code, n]): [string, unknown] => [`${provider} ${code}`, n]));
	const breakdown = (by: Record<string, { targeted: number; sent: number; deliveryUnknown: number; failed: number } | undefined>) =>
		Object.entries(by).map(([k, b]): [string, unknown] => [k, `${b!.targeted} targeted, ${b!.sent} sent, ${b!.deliveryUnknown} unknown, ${b!.failed} failed`]);
	return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Send report: ${escape(report.sendId)}</title>
<style>body{font-family:sans-serif;max-width:640px;margin:24px auto;color:#222}table{border-collapse:collapse}th,td{text-align:left;padding:2px 12px 2px 0}th{font-weight:normal;color:#555}</style></head>
<body>
<h1>${escape(report.title ?? report.sendId)}</h1>
<p>Send ID <code>${escape(report.sendId)}</code>, ${escape(report.startedAt.toISOString())} to ${escape(report.endedAt.toISOString())}</p>
${table([
	['Targeted', report.targeted],
	['Sent', report.sent],
	['Delivery unknown', report.deliveryUnknown],
	['Failed', report.failed],
	['Removed as dead', report.removed],
	['Opened', `${report.opened} (${percent(report.openRate)} of sent)`],
])}
<h2>Outcomes</h2>
${barChart(outcomes)}
<h2>Timeline</h2>
${timelineChart(report)}
<h2>Failures by provider code</h2>
${table(codes)}
<h2>Skipped</h2>
${table(Object.entries(report.skipped))}
<h2>By provider</h2>
${table(breakdown(report.byProvider))}
<h2>By platform</h2>
${table(breakdown(report.byPlatform))}
</body></html>
`;
}
