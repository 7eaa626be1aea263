// n8n's community-node lint setup (as @n8n/node-cli generates it), for a self-hosted package.
import js from '@eslint/js';
import { n8nCommunityNodesPlugin } from '@n8n/eslint-plugin-community-nodes';
import n8nNodesBase from 'eslint-plugin-n8n-nodes-base';
import tseslint from 'typescript-eslint';

const community = n8nCommunityNodesPlugin.configs.recommended;
// This package is for self-hosted n8n: the token store needs better-sqlite3 and pg (and the
// core kysely and zod) at runtime, which n8n Cloud's verification forbids. Only that rule is off.
const selfHosted = { '@n8n/community-nodes/no-runtime-dependencies': 'off' };

export default tseslint.config(
	{ ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bench/.build/**', '.test-tmp/**'] },
	// The tests and their helpers: the general TypeScript rules (n8n's rules are for the package).
	{
		files: ['test/**/*.ts'],
		extends: [js.configs.recommended, tseslint.configs.recommended],
		rules: { '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }] },
	},
	{
		files: ['nodes/**/*.ts', 'credentials/**/*.ts'],
		extends: [js.configs.recommended, tseslint.configs.recommended, community],
		rules: { ...selfHosted, 'prefer-spread': 'off', 'no-console': 'error' },
	},
	{
		// The domain core is where those runtime dependencies (and node:fs, timers) are used; the
		// nodes and credentials above import only n8n-workflow and the core, and keep the rules.
		files: ['nodes/core/**/*.ts'],
		// It imports nothing from n8n either: its errors become NodeOperationErrors in nodes/shared/items.ts.
		rules: {
			'@n8n/community-nodes/no-restricted-imports': 'off',
			'@n8n/community-nodes/no-restricted-globals': 'off',
			'@n8n/community-nodes/require-node-api-error': 'off',
		},
	},
	{
		files: ['package.json'],
		extends: [community],
		plugins: { 'n8n-nodes-base': n8nNodesBase },
		rules: { ...n8nNodesBase.configs.community.rules, ...selfHosted },
		languageOptions: { parser: tseslint.parser, parserOptions: { extraFileExtensions: ['.json'] } },
	},
	{
		files: ['credentials/**/*.ts'],
		plugins: { 'n8n-nodes-base': n8nNodesBase },
		rules: {
			...n8nNodesBase.configs.credentials.rules,
			'n8n-nodes-base/cred-class-field-documentation-url-miscased': 'off',
			'n8n-nodes-base/cred-class-field-type-options-password-missing': 'off',
		},
	},
	{
		// The provider panels live in the core (no n8n import) but are what the editor shows: same rules.
		files: ['nodes/**/*.ts'],
		ignores: ['nodes/core/**/!(panel).ts'],
		plugins: { 'n8n-nodes-base': n8nNodesBase },
		rules: {
			...n8nNodesBase.configs.nodes.rules,
			'n8n-nodes-base/node-class-description-inputs-wrong-regular-node': 'off',
			'n8n-nodes-base/node-class-description-outputs-wrong': 'off',
			'n8n-nodes-base/node-param-type-options-max-value-present': 'off',
		},
	},
);
