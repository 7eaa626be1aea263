/** A SQLite store's config, and how a credential's fields make one. */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod/v4';
import { storeRules } from '../engine';

export const SqliteConfig = z.object({
	...storeRules,
	engine: z.literal('sqlite'),
	path: z.string().trim().min(1, 'expected the path of the SQLite file'),
	busyTimeoutMs: z.number().int().min(0).default(10_000),
});

/** "~" in a SQLite path is the n8n user folder: N8N_USER_FOLDER when set, else the home folder (as n8n does). */
export function expandHome(path: string): string {
	if (path !== '~' && !path.startsWith('~/')) return path;
	return join(process.env.N8N_USER_FOLDER || homedir(), path.slice(1));
}

/** The n8n credential's fields (a plain record) as a config. */
export function sqliteCredentialConfig(data: Record<string, unknown>): z.input<typeof SqliteConfig> {
	return { engine: 'sqlite', path: expandHome(String(data.path || '~/.n8n/push-tokens.sqlite')) };
}
