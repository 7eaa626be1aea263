/**
 * The nodes run by n8n's own engine, in this process: workflow JSON → n8n-workflow's Workflow →
 * n8n-core's WorkflowExecute, the classes `n8n execute` and the editor run. Faster than the
 * real-n8n suite (test/e2e: no n8n process, no database, no package install), more faithful than
 * the hand-made context (test/nodes/context.ts): n8n applies the parameter defaults, evaluates
 * the expressions, builds the execution contexts, pairs items and routes outputs.
 *
 * n8n-core is not a dependency of this package: it is loaded from the n8n that
 * scripts/install-n8n.sh installs (once per machine), and so is the n8n-workflow it uses. The
 * nodes' own `import 'n8n-workflow'` is pointed at that same instance (jest.doMock), as in
 * production, where n8n puts its own node_modules on NODE_PATH and a community package's peer
 * n8n-workflow is n8n's: one set of error classes.
 *
 * So a test file using this harness must not import node files itself (they would get this
 * package's n8n-workflow, and the harness would get those same modules from jest's registry):
 * the harness loads the nodes, by type name. nodes/core imports nothing from n8n: importing it
 * (TokenStore, closeAllStores) is fine, and shares the nodes' store cache.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type * as N8nWorkflow from 'n8n-workflow';
import type {
	ICredentialDataDecryptedObject,
	IConnections,
	IDataObject,
	IExecuteFunctions,
	INode,
	INodeExecutionData,
	INodeType,
	INodeTypes,
	IRun,
	ITaskData,
	IVersionedNodeType,
	IWorkflowBase,
	IWorkflowExecuteAdditionalData,
	Workflow,
	WorkflowExecuteMode,
} from 'n8n-workflow';
import type { StoreConfig } from '../../nodes/core';

/** The checkout: the nearest folder above with a package.json. */
const ROOT = (function packageRoot(dir: string): string {
	return existsSync(join(dir, 'package.json')) ? dir : packageRoot(dirname(dir));
})(__dirname);
export const PACKAGE = 'n8n-nodes-push-tokens';

/** Where scripts/install-n8n.sh puts n8n (the same defaults, and the same overrides). */
function n8nHome(): string {
	const version = process.env.N8N_VERSION ?? '2.41.1';
	const home = process.env.PUSH_TOKENS_N8N_HOME ?? join(process.env.HOME ?? '', '.cache/n8n-nodes-push-tokens', `n8n-${version}`);
	if (!existsSync(join(home, '.installed'))) {
		// installs it (once per machine; minutes the first time; a second caller waits on its lock)
		execFileSync('bash', [join(ROOT, 'scripts/install-n8n.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
	}
	return home;
}

/** The part of n8n-core's API the harness uses (n8n-core is not a dependency: no types for it here). */
interface N8nCore {
	WorkflowExecute: new (additionalData: IWorkflowExecuteAdditionalData, mode: WorkflowExecuteMode) => { run(options: { workflow: Workflow }): Promise<IRun> };
	ExecutionLifecycleHooks: new (
		mode: WorkflowExecuteMode,
		executionId: string,
		workflowData: IWorkflowBase,
	) => { addHandler(hook: 'nodeExecuteAfter', handler: (nodeName: string) => void): void };
}

interface Engine {
	core: N8nCore;
	workflow: typeof N8nWorkflow;
	/** require() from n8n's own folder: its n8n-nodes-base, and whatever n8n-core needs. */
	requireFromN8n: NodeJS.Require;
}

let engine: Engine | undefined;

/**
 * n8n-core and n8n-workflow from the n8n install, loaded once. From here on, `n8n-workflow` in
 * this package's nodes is that instance (jest.doMock): call this before any node file is loaded
 * (the harness loads them itself, in packageNodeTypes()).
 */
export function loadEngine(): Engine {
	if (engine) return engine;
	const home = n8nHome();
	// n8n-core reads (or makes) its instance settings, an encryption key, on first use: not in
	// ~/.n8n but in one folder of its own, made here whole (renamed into place: parallel jest
	// workers never see half a file). The harness encrypts nothing.
	if (!process.env.N8N_USER_FOLDER) {
		const folder = join(tmpdir(), 'push-tokens-engine-n8n');
		const settings = join(folder, '.n8n', 'config');
		if (!existsSync(settings)) {
			mkdirSync(dirname(settings), { recursive: true });
			const partial = `${settings}.${process.pid}`;
			writeFileSync(partial, JSON.stringify({ encryptionKey: randomBytes(24).toString('base64') }), { mode: 0o600 });
			renameSync(partial, settings);
		}
		process.env.N8N_USER_FOLDER = folder;
	}
	// n8n's logger would print every node error (its error reporter logs them): N8N_LOG_LEVEL=info to see them.
	process.env.N8N_LOG_LEVEL ??= 'silent';
	const requireFromN8n = createRequire(join(home, 'package.json'));
	const workflow = requireFromN8n('n8n-workflow') as typeof N8nWorkflow;
	const core = requireFromN8n('n8n-core') as N8nCore;
	jest.doMock('n8n-workflow', () => workflow);
	engine = { core, workflow, requireFromN8n };
	return engine;
}

// ---------------------------------------------------------------------------------------------
// Node types: this package's (from package.json's n8n.nodes, the TypeScript sources) and
// n8n-nodes-base's (by name, from its known-nodes list, as n8n loads them), plus inline ones.

type AnyNodeType = INodeType | IVersionedNodeType;

let packageTypes: Map<string, AnyNodeType> | undefined;

/** This package's nodes, by their n8n type name (`n8n-nodes-push-tokens.registerPushToken`). */
export function packageNodeTypes(): Map<string, AnyNodeType> {
	if (packageTypes) return packageTypes;
	loadEngine(); // first: the nodes must get n8n's n8n-workflow
	const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { n8n: { nodes: string[] } };
	const types = new Map<string, AnyNodeType>();
	for (const compiled of pkg.n8n.nodes) {
		// dist/nodes/X/X.node.js → nodes/X/X.node.ts (ts-jest compiles it)
		const source = join(ROOT, compiled.replace(/^dist\//, '').replace(/\.js$/, '.ts'));
		let moduleExports: Record<string, unknown>;
		try {
			// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded here, after jest.doMock, on purpose
			moduleExports = require(source) as Record<string, unknown>;
		} catch (error) {
			throw new Error(`the engine harness could not load ${source}: ${(error as Error).message}`, { cause: error });
		}
		for (const value of Object.values(moduleExports)) {
			if (typeof value !== 'function') continue;
			let instance: AnyNodeType;
			try {
				instance = new (value as new () => AnyNodeType)();
			} catch {
				continue;
			}
			const name = (instance as { description?: { name?: string } }).description?.name;
			if (name) types.set(`${PACKAGE}.${name}`, instance);
		}
	}
	// (kept only once every node loaded: a node that fails to load fails every run, with its error)
	packageTypes = types;
	return types;
}

const baseTypes = new Map<string, AnyNodeType>();

/** One of n8n-nodes-base's nodes (`n8n-nodes-base.manualTrigger`), loaded on first use. */
function baseNodeType(type: string): AnyNodeType | undefined {
	if (!type.startsWith('n8n-nodes-base.')) return undefined;
	const cached = baseTypes.get(type);
	if (cached) return cached;
	const { requireFromN8n } = loadEngine();
	const known = requireFromN8n('n8n-nodes-base/dist/known/nodes.json') as Record<string, { className: string; sourcePath: string }>;
	const entry = known[type.slice('n8n-nodes-base.'.length)];
	if (!entry) return undefined;
	const base = dirname(requireFromN8n.resolve('n8n-nodes-base/package.json'));
	const moduleExports = requireFromN8n(join(base, entry.sourcePath)) as Record<string, new () => AnyNodeType>;
	const instance = new moduleExports[entry.className]();
	baseTypes.set(type, instance);
	return instance;
}

/** The node type the harness adds: outputs the items of its `items` parameter (json and binary), paired with its input. */
export const ITEMS_TYPE = 'test.items';
const itemsType: INodeType = {
	description: {
		displayName: 'Items',
		name: 'items',
		group: ['transform'],
		version: 1,
		description: 'Outputs the items given',
		defaults: { name: 'Items' },
		inputs: ['main'],
		outputs: ['main'],
		properties: [{ displayName: 'Items', name: 'items', type: 'json', default: '[]' }],
	},
	async execute(this: IExecuteFunctions) {
		const items = JSON.parse(this.getNodeParameter('items', 0) as string) as INodeExecutionData[];
		return [items.map((item) => ({ ...item, pairedItem: { item: 0 } }))];
	},
};

export const nodeTypes: INodeTypes = {
	getByName: (type) => resolveType(type),
	getByNameAndVersion: (type, version) => loadEngine().workflow.NodeHelpers.getVersionedNodeType(resolveType(type), version),
	getKnownTypes: () => ({}),
};

const toolTypes = new Map<string, INodeType>();

/**
 * The tool variant n8n makes of one of this package's nodes that has `usableAsTool`
 * (`n8n-nodes-push-tokens.sendPushTool`, "Send Push Tool"): made by n8n's own convertNodeToAiTool,
 * as n8n's NodeTypes makes it for a node attached to an AI Agent. Its description says its output
 * is ai_tool; the harness runs it as a node of a workflow's main line (its execute() is the
 * node's), which is enough for what the tool variant changes: its parameters (`@tool`), its type
 * name, and so what the node does when it runs as a tool.
 */
function packageToolType(type: string): INodeType | undefined {
	if (!type.startsWith(`${PACKAGE}.`) || !type.endsWith('Tool')) return undefined;
	const cached = toolTypes.get(type);
	if (cached) return cached;
	const base = packageNodeTypes().get(type.slice(0, -'Tool'.length)) as INodeType | undefined;
	if (!base?.description.usableAsTool) return undefined;
	const { requireFromN8n, workflow } = loadEngine();
	const { convertNodeToAiTool } = requireFromN8n('n8n/dist/tool-generation/ai-tools') as { convertNodeToAiTool: (item: { description: INodeType['description'] }) => unknown };
	const tool = Object.create(base, { description: { value: workflow.deepCopy(base.description), writable: true } }) as INodeType;
	convertNodeToAiTool(tool);
	// run on a main line by the harness (see above)
	tool.description.inputs = ['main'];
	tool.description.outputs = ['main'];
	toolTypes.set(type, tool);
	return tool;
}

function resolveType(type: string): AnyNodeType {
	const found = type === ITEMS_TYPE ? itemsType : (packageNodeTypes().get(type) ?? packageToolType(type) ?? baseNodeType(type));
	if (!found) throw new Error(`no node type "${type}" (this package has ${[...packageNodeTypes().keys()].join(', ')})`);
	return found;
}

// ---------------------------------------------------------------------------------------------
// Workflows

export type Json = Record<string, unknown>;

export interface NodeSpec {
	name: string;
	type: string;
	parameters?: Json;
	typeVersion?: number;
	continueOnFail?: boolean;
}

/** Node specs, the way the e2e harness names them (test/e2e/harness.ts). */
export const node = {
	register: (name: string, parameters: Json): NodeSpec => ({ name, type: `${PACKAGE}.registerPushToken`, parameters }),
	identity: (name: string, parameters: Json): NodeSpec => ({ name, type: `${PACKAGE}.pushTokenIdentity`, parameters }),
	importTokens: (name: string, parameters: Json): NodeSpec => ({ name, type: `${PACKAGE}.importPushTokens`, parameters }),
	feedback: (name: string, parameters: Json = {}): NodeSpec => ({ name, type: `${PACKAGE}.handlePushFeedback`, parameters }),
	sendPush: (name: string, parameters: Json): NodeSpec => ({ name, type: `${PACKAGE}.sendPush`, parameters }),
	reports: (name: string, parameters: Json): NodeSpec => ({ name, type: `${PACKAGE}.pushReports`, parameters }),
	manual: (name = 'Start'): NodeSpec => ({ name, type: 'n8n-nodes-base.manualTrigger' }),
	noOp: (name: string): NodeSpec => ({ name, type: 'n8n-nodes-base.noOp' }),
	/** Outputs these items: plain objects are an item's json; `{ json, binary }` are items as they are. */
	items: (name: string, items: Array<Json | INodeExecutionData>): NodeSpec => ({
		name,
		type: ITEMS_TYPE,
		parameters: { items: JSON.stringify(items.map((i) => (isItem(i) ? i : { json: i }))) },
	}),
};

function isItem(value: Json | INodeExecutionData): value is INodeExecutionData {
	return typeof value.json === 'object' && value.json !== null && Object.keys(value).every((k) => k === 'json' || k === 'binary');
}

/** A binary property holding `text` in memory (as n8n keeps small files), for node.items. */
export function binaryFile(text: string, fileName: string, mimeType = 'text/csv'): INodeExecutionData['binary'] & object {
	return { data: { data: Buffer.from(text).toString('base64'), mimeType, fileName, fileExtension: fileName.split('.').pop() } };
}

export interface WorkflowSpec {
	nodes: NodeSpec[];
	/** [from, to] or [from, to, output index of from]. */
	connections: Array<[string, string] | [string, string, number]>;
}

/** Nodes one after the other, each node's first output into the next. */
export function line(...nodes: NodeSpec[]): WorkflowSpec {
	return { nodes, connections: nodes.slice(0, -1).map((n, i) => [n.name, nodes[i + 1].name] as [string, string]) };
}

/** The workflow JSON n8n saves (nodes with ids and positions, connections by output). */
export function workflowJson(spec: WorkflowSpec, credentialIds: Record<string, string> = {}): { nodes: INode[]; connections: IConnections } {
	const connections: IConnections = {};
	for (const [from, to, output = 0] of spec.connections) {
		const main = ((connections[from] ??= { main: [] }).main ??= []);
		while (main.length <= output) main.push([]);
		(main[output] ??= []).push({ node: to, type: 'main', index: 0 });
	}
	const nodes = spec.nodes.map((n, i): INode => {
		// the credentials its type asks for, when the run has them
		const wanted = typeDescription(n).credentials?.map((c) => c.name).filter((c) => c in credentialIds) ?? [];
		return {
			id: `node-${i}`,
			name: n.name,
			type: n.type,
			typeVersion: n.typeVersion ?? 1,
			position: [i * 220, 0],
			parameters: (n.parameters ?? {}) as INode['parameters'],
			...(n.continueOnFail ? { continueOnFail: true } : {}),
			...(wanted.length ? { credentials: Object.fromEntries(wanted.map((c) => [c, { id: credentialIds[c], name: c }])) } : {}),
		};
	});
	return { nodes, connections };
}

function typeDescription(spec: NodeSpec) {
	return nodeTypes.getByNameAndVersion(spec.type, spec.typeVersion ?? 1).description;
}

// ---------------------------------------------------------------------------------------------
// Running

/** The Push Token Store credential's data for a store config (as the credential form saves it). */
export function storeCredential(store: StoreConfig): ICredentialDataDecryptedObject {
	return store.engine === 'sqlite' ? { engine: 'sqlite', path: store.path } : { engine: 'postgres', connection: 'url', url: store.connectionString ?? '' };
}

export interface RunOptions {
	/** The store the Push Token Store credential points at. */
	store?: StoreConfig;
	/** More credentials, by type: their decrypted data. */
	credentials?: Record<string, ICredentialDataDecryptedObject>;
}

export class EngineRun {
	constructor(
		readonly run: IRun,
		/** The nodes in the order they ran (one entry per run of a node). */
		readonly order: string[],
	) {}

	get status() {
		return this.run.status;
	}

	/** The workflow's error (the node that failed stops the workflow), or undefined. */
	get error(): { message: string; description?: string | null; node?: { name: string } } | undefined {
		return this.run.data.resultData.error as { message: string; description?: string | null; node?: { name: string } } | undefined;
	}

	task(nodeName: string, runIndex = 0): ITaskData {
		const task = this.run.data.resultData.runData[nodeName]?.[runIndex];
		if (!task) throw new Error(`node "${nodeName}" did not run (ran: ${this.order.join(', ')})${this.error ? `; the workflow failed: ${this.error.message}` : ''}`);
		return task;
	}

	/** The items on one output of a node (its first output by default). */
	items(nodeName: string, output = 0, runIndex = 0): INodeExecutionData[] {
		return this.task(nodeName, runIndex).data?.main[output] ?? [];
	}

	/** Every output of a node: the json of its items, output by output. */
	outputs(nodeName: string, runIndex = 0): IDataObject[][] {
		return (this.task(nodeName, runIndex).data?.main ?? []).map((items) => (items ?? []).map((i) => i.json));
	}

	json(nodeName: string, output = 0, runIndex = 0): IDataObject[] {
		return this.items(nodeName, output, runIndex).map((i) => i.json);
	}

	/** Throws the workflow's error, with the node that failed: for tests expecting success. */
	assertSuccess(): this {
		if (this.error || this.status !== 'success') throw new Error(`the workflow did not succeed (${this.status}): ${this.error?.node?.name ?? ''} ${this.error?.message ?? ''}`);
		return this;
	}
}

let executions = 0;

/** Runs the workflow from its Manual Trigger, as "Execute workflow" in the editor does. */
export async function run(spec: WorkflowSpec, options: RunOptions = {}): Promise<EngineRun> {
	const { core, workflow: n8nWorkflow } = loadEngine();
	const credentials: Record<string, ICredentialDataDecryptedObject> = {
		...(options.store ? { pushTokenStoreApi: storeCredential(options.store) } : {}),
		...options.credentials,
	};
	const ids = Object.fromEntries(Object.keys(credentials).map((type) => [type, `${type}-id`]));
	const { nodes, connections } = workflowJson(spec, ids);
	const executionId = String(++executions);
	const workflowData = { id: 'engine-test', name: 'engine test', active: false, activeVersionId: null, isArchived: false, nodes, connections, settings: { executionOrder: 'v1' as const }, createdAt: new Date(), updatedAt: new Date() };
	const workflow = new n8nWorkflow.Workflow({ id: workflowData.id, name: workflowData.name, nodes, connections, active: false, nodeTypes, settings: workflowData.settings });

	const hooks = new core.ExecutionLifecycleHooks('manual', executionId, workflowData);
	const order: string[] = [];
	hooks.addHandler('nodeExecuteAfter', (nodeName) => {
		order.push(nodeName);
	});

	const additionalData = {
		executionId,
		hooks,
		credentialsHelper: credentialsHelper(credentials),
		variables: {},
		currentNodeExecutionIndex: 0,
		restApiUrl: 'http://localhost:5678/rest',
		instanceBaseUrl: 'http://localhost:5678/',
		formBaseUrl: 'http://localhost:5678/form',
		formWaitingBaseUrl: 'http://localhost:5678/form-waiting',
		formTestBaseUrl: 'http://localhost:5678/form-test',
		webhookBaseUrl: 'http://localhost:5678/webhook',
		webhookWaitingBaseUrl: 'http://localhost:5678/webhook-waiting',
		webhookTestBaseUrl: 'http://localhost:5678/webhook-test',
		mcpBaseUrl: 'http://localhost:5678/mcp',
		mcpTestBaseUrl: 'http://localhost:5678/mcp-test',
		executeWorkflow: async () => {
			throw new Error('the engine harness runs no sub-workflows');
		},
		getRunExecutionData: async () => undefined,
		getRuntimeCredential: async () => undefined,
		logAiEvent: () => {},
		startRunnerTask: async () => {
			throw new Error('the engine harness has no task runner (no Code node)');
		},
	} as unknown as IWorkflowExecuteAdditionalData;

	const result = await new core.WorkflowExecute(additionalData, 'manual').run({ workflow });
	return new EngineRun(result, order);
}

/** n8n's credentials helper, with the credentials given (decrypted) and nothing else. */
function credentialsHelper(credentials: Record<string, ICredentialDataDecryptedObject>) {
	return {
		getParentTypes: () => [],
		isCredentialUsableByNode: () => true,
		authenticate: async (_data: unknown, _type: string, request: unknown) => request,
		preAuthentication: async () => undefined,
		runPreAuthentication: async () => undefined,
		getCredentials: async () => {
			throw new Error('the engine harness gives credentials decrypted only');
		},
		getDecrypted: async (_additionalData: unknown, _nodeCredentials: unknown, type: string) => {
			const data = credentials[type];
			if (!data) throw new Error(`the engine harness has no credential of type "${type}"`);
			return { ...data };
		},
		updateCredentials: async () => {},
		updateCredentialsOauthTokenData: async () => {},
		getCredentialsProperties: () => [],
	};
}
