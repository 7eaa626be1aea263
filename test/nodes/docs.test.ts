/** Every documentation link the editor shows (node codex, credential) lands on a README section that exists. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');
const HOME = 'https://github.com/n8n-nodes-push-tokens/n8n-nodes-push-tokens#';

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
const anchor = (heading: string) =>
	heading
		.trim()
		.toLowerCase()
		.replace(/[^\p{L}\p{N} _-]/gu, '')
		.replace(/ /g, '-');

it('codex and credential documentation URLs point at README headings', () => {
	const anchors = new Set([...readFileSync(join(ROOT, 'README.md'), 'utf8').matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchor(m[1])));
	const links: string[] = [];
	for (const dir of readdirSync(join(ROOT, 'nodes'))) {
		for (const file of readdirSync(join(ROOT, 'nodes', dir)).filter((f) => f.endsWith('.node.json'))) {
			const codex = JSON.parse(readFileSync(join(ROOT, 'nodes', dir, file), 'utf8')) as { resources: { primaryDocumentation: Array<{ url: string }> } };
			links.push(...codex.resources.primaryDocumentation.map((d) => d.url));
		}
	}
	for (const file of readdirSync(join(ROOT, 'credentials'))) links.push(...[...readFileSync(join(ROOT, 'credentials', file), 'utf8').matchAll(/documentationUrl = '([^']+)'/g)].map((m) => m[1]));
	const ours = links.filter((url) => url.startsWith(HOME));
	expect(ours.length).toBeGreaterThanOrEqual(7); // six nodes and the store credential
	expect(ours.filter((url) => !anchors.has(url.slice(HOME.length)))).toEqual([]);
});
