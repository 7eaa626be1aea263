/**
 * Our nodes as AI Agent tools, in n8n's engine (fast; the real agent, model and chat are
 * test/e2e/agent.e2e.test.ts): the tool variants n8n makes of them (n8n's own
 * convertNodeToAiTool), what a model is told about them, and Send Push's guard rail: run as a
 * tool, it refuses an audience send unless its panel allows it.
 */
import type { INodeProperties, INodeTypeDescription } from 'n8n-workflow';
import { closeAllStores, Sender, TokenStore, type StoreConfig } from '../../nodes/core';
import { freshConfig, tokens } from '../support/stores';
import { line, loadEngine, node, nodeTypes, PACKAGE, run, type NodeSpec } from './engine';

const APP = 'com.example.app';
let store: StoreConfig;
let dispose: () => Promise<void>;
let direct: TokenStore;

beforeAll(() => {
	loadEngine();
});
beforeEach(async () => {
	({ config: store, dispose } = await freshConfig('sqlite'));
	direct = await TokenStore.open(store);
	await direct.register({ appId: APP, platform: 'ios', token: tokens.apns(1), userId: 'kim' });
});
afterEach(async () => {
	jest.restoreAllMocks();
	await direct.close();
	await closeAllStores();
	await dispose();
});

const description = (type: string, version = 2): INodeTypeDescription => nodeTypes.getByNameAndVersion(type, version).description;
const property = (d: INodeTypeDescription, name: string): INodeProperties => {
	const found = d.properties.find((p) => p.name === name);
	if (!found) throw new Error(`${d.name} has no parameter ${name}`);
	return found;
};
const shown = (d: INodeTypeDescription, name: string, values: Record<string, unknown>, typeVersion = 2) =>
	loadEngine().workflow.NodeHelpers.displayParameter(values as never, property(d, name), { typeVersion }, d);

const sendPushTool = (name: string, parameters: Record<string, unknown>): NodeSpec => ({ name, type: `${PACKAGE}.sendPushTool`, typeVersion: 2, parameters });

describe("n8n's tool variants of our nodes", () => {
	it('Send Push Tool and Push Token Identity Tool: named as n8n names tools, described for a model', () => {
		const send = description(`${PACKAGE}.sendPushTool`);
		expect([send.name, send.displayName]).toEqual(['sendPushTool', 'Send Push Tool']);
		// what the model is told by default: the node's description
		expect(property(send, 'toolDescription').default).toBe(description(`${PACKAGE}.sendPush`).description);
		expect(send.description).toMatch(/^Send a push notification .* to a user, a device or an audience$/);

		const identity = description(`${PACKAGE}.pushTokenIdentityTool`);
		expect([identity.name, identity.displayName]).toEqual(['pushTokenIdentityTool', 'Push Token Identity Tool']);
		expect(property(identity, 'descriptionType').default).toBe('auto');
	});

	it("what n8n tells the model a tool does: the node's description, unless the tool's Description is set (an operation's action is used only by nodes with a Resource)", () => {
		const { NodeHelpers } = loadEngine().workflow;
		const told = (type: string, parameters: Record<string, unknown>) => NodeHelpers.getToolDescriptionForNode({ parameters } as never, nodeTypes.getByNameAndVersion(type, 2));
		const identity = `${PACKAGE}.pushTokenIdentityTool`;
		const nodeDescription = description(identity).description;
		expect(nodeDescription).toMatch(/read a profile or its token history/);
		// Get Profile and Get Token History say the same by default: the README says to describe each
		expect(told(identity, { operation: 'getProfile', descriptionType: 'auto' })).toBe(nodeDescription);
		expect(told(identity, { operation: 'getTokenHistory', descriptionType: 'auto' })).toBe(nodeDescription);
		expect(told(identity, { operation: 'getProfile', descriptionType: 'manual', toolDescription: "Get a user's devices" })).toBe("Get a user's devices");
		const send = `${PACKAGE}.sendPushTool`;
		expect(told(send, { target: 'user', toolDescription: property(description(send), 'toolDescription').default })).toBe(description(send).description);
	});

	it("the guard rail's option is on the tool only, only with Send To = An Audience, and off by default", () => {
		const tool = description(`${PACKAGE}.sendPushTool`);
		expect(property(tool, 'allowAudienceAsTool').default).toBe(false);
		expect(shown(tool, 'allowAudienceAsTool', { target: 'audience' })).toBe(true);
		expect(shown(tool, 'allowAudienceAsTool', { target: 'audience' }, 1)).toBe(true);
		expect(shown(tool, 'allowAudienceAsTool', { target: 'user' })).toBe(false);
		// the node on a workflow's main line never shows it
		expect(shown(description(`${PACKAGE}.sendPush`), 'allowAudienceAsTool', { target: 'audience' })).toBe(false);
	});
});

describe('Send Push run as a tool', () => {
	it('refuses an audience send with a message that says why and how to allow it; the sender is never called', async () => {
		const audience = jest.spyOn(Sender.prototype, 'sendAudience');
		const result = await run(line(node.manual(), sendPushTool('Send Campaign', { target: 'audience', appId: APP, title: 'Sale' })), { store });
		expect(result.error?.message).toMatch(/^Refused: this Send Push tool may not send to an audience .* Nothing was sent\.$/);
		expect(result.error?.description).toMatch(/turn on 'Allow an AI Agent to Send This Campaign'/);
		expect(audience).not.toHaveBeenCalled();
		expect(await direct.engine.db.selectFrom('send_log').selectAll().execute()).toEqual([]);
	});

	it('sends the audience when the panel allows it', async () => {
		const audience = jest.spyOn(Sender.prototype, 'sendAudience');
		// (an app with no device: its campaign is handed to the sender, and sent to nobody)
		const result = await run(line(node.manual(), sendPushTool('Send Campaign', { target: 'audience', appId: 'com.example.empty', title: 'Sale', allowAudienceAsTool: true })), { store });
		result.assertSuccess();
		expect(audience).toHaveBeenCalledTimes(1);
		expect(result.json('Send Campaign')).toEqual([expect.objectContaining({ devices: 0, delivered: 0 })]);
	});

	it('the option does nothing on the node itself (not a tool): an audience send goes as before', async () => {
		const audience = jest.spyOn(Sender.prototype, 'sendAudience');
		const result = await run(line(node.manual(), node.sendPush('Send Campaign', { target: 'audience', appId: 'com.example.empty', title: 'Sale' })), { store });
		result.assertSuccess();
		expect(audience).toHaveBeenCalledTimes(1);
	});

	it("a user send as a tool is not held back: the model's arguments are the item's, one result per device", async () => {
		// (no provider credential: the device's result names the one to add; the point is that it was tried)
		const result = await run(line(node.manual(), sendPushTool('Send Push', { target: 'user', userId: 'kim', title: 'Reminder' })), { store });
		expect(result.error?.message ?? '').not.toMatch(/Refused/);
		expect(result.error?.message).toMatch(/no APNs .*credential is set/);
	});
});
