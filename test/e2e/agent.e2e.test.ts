/**
 * n8n's AI Agent calling our nodes as tools, in a real n8n 2.x: Chat Trigger → AI Agent, with an
 * OpenAI Chat Model whose credential's Base URL is a fake model on 127.0.0.1 (test/fakes/chat-model.ts,
 * scripted: it calls one of the tools the request offers, then answers with the tool's result),
 * and our nodes attached as tools (Send Push Tool, Push Token Identity Tool) with $fromAI()
 * parameters. The pushes go through the real libraries to the fake providers, as in send.e2e.
 *
 * One n8n for the file: the workflow is published once, each test is one chat message.
 */
import { randomUUID } from 'node:crypto';
import { API_KEY, FakeChatModel, MODEL, textOf, type ChatRequest, type Reply } from '../fakes/chat-model';
import { startFakes, type Fakes } from '../fakes/providers';
import { tokens } from '../support/stores';
import { example, N8nHarness, PACKAGE, PROVIDER_CREDENTIALS, type Json } from './harness';

const APP = 'com.example.app';
/** An app whose campaign the agent may send (its tool allows it). */
const CAMPAIGN_APP = 'com.example.campaign';
const KIM_PHONE = tokens.apns(1);
const SAM_PHONE = tokens.apns(2);
const CAMPAIGN_PHONE = tokens.apns(3);
/** The example's OpenAI credential, imported with the fake model's URL. */
const OPENAI = { id: 'openAiAccount001', name: 'OpenAI account' };

/** The tool names the model sees: n8n makes them from the node names (spaces to underscores). */
const TOOL = { sendToUser: 'Send_Push_to_a_User', campaign: 'Send_Campaign', allowedCampaign: 'Send_Allowed_Campaign', profile: 'Get_Profile', history: 'Get_Token_History' };

type Node = Json & { name: string; type: string; parameters: Json; credentials?: Json; webhookId?: string };
type Workflow = Json & { nodes: Node[]; connections: Record<string, Json> };

/**
 * The shipped example (examples/agent-tools.json: Chat Trigger → AI Agent, its OpenAI Chat Model
 * and our nodes as its tools), pointed at the fakes, plus one tool for this test: a campaign
 * whose panel allows the agent to send it.
 */
function agentWorkflow(folder: string): Workflow {
	const workflow = example('agent-tools', folder) as Workflow;
	const byName = (name: string) => workflow.nodes.find((n) => n.name === name)!;
	const model = byName('OpenAI Chat Model');
	model.parameters = { ...model.parameters, model: { __rl: true, mode: 'id', value: MODEL }, options: { maxRetries: 0 } };
	model.credentials = { openAiApi: OPENAI }; // (example() gives every node with credentials the store's)
	const campaign = byName('Send Campaign');
	workflow.nodes.push({
		...campaign,
		id: randomUUID(),
		name: 'Send Allowed Campaign',
		parameters: { ...campaign.parameters, appId: CAMPAIGN_APP, title: 'News', body: 'A new version is out', allowAudienceAsTool: true },
	});
	workflow.connections['Send Allowed Campaign'] = workflow.connections['Send Campaign'];
	for (const n of workflow.nodes) if (n.type === `${PACKAGE}.sendPushTool`) n.credentials = { ...n.credentials, ...PROVIDER_CREDENTIALS };
	return workflow;
}

/** The user's message of this conversation. */
const userText = (request: ChatRequest) => textOf([...request.messages].reverse().find((m) => m.role === 'user'));

/**
 * The model's script: each chat message names what it wants; the model calls the matching tool
 * once, then, given the tool's result, answers with it.
 */
function script(request: ChatRequest): Reply {
	const last = request.messages[request.messages.length - 1];
	if (last.role === 'tool') return { text: `Here is what the tool answered: ${textOf(last)}` };
	const asked = userText(request);
	if (/reminder/i.test(asked)) return { call: { tool: TOOL.sendToUser, arguments: { userId: 'kim', title: 'Reminder', body: 'Your appointment is tomorrow at 10:00' } } };
	if (/what devices/i.test(asked)) return { call: { tool: TOOL.profile, arguments: { userId: 'kim' } } };
	if (/everyone/i.test(asked)) return { call: { tool: TOOL.campaign, arguments: {} } };
	if (/release news/i.test(asked)) return { call: { tool: TOOL.allowedCampaign, arguments: {} } };
	return { text: 'I can send pushes and read profiles.' };
}

describe('[sqlite] an AI Agent in a real n8n calls our nodes as tools', () => {
	let fakes: Fakes;
	let model: FakeChatModel;
	let n8n: N8nHarness;
	let base: string;
	let chatWebhook: string;
	let shipped: Workflow;

	/** Posts a chat message to the published Chat Trigger; resolves with the agent's answer. */
	async function chat(chatInput: string): Promise<string> {
		const { status, text } = await n8n.postWhenLive(base, `${chatWebhook}/chat`, { action: 'sendMessage', sessionId: randomUUID(), chatInput });
		if (status !== 200) throw new Error(`the chat answered ${status}: ${text.slice(0, 500)}\n${n8n.serverLog().slice(-3000)}`);
		return (JSON.parse(text) as { output: string }).output;
	}

	beforeAll(async () => {
		[fakes, model] = await Promise.all([startFakes(), FakeChatModel.start(script)]);
		n8n = await N8nHarness.withFakeProviders(fakes, [{ ...OPENAI, type: 'openAiApi', data: { apiKey: API_KEY, url: model.url } }]);
		await n8n.store.register({ appId: APP, platform: 'ios', token: KIM_PHONE, userId: 'kim', deviceId: 'kims-iphone' });
		await n8n.store.register({ appId: APP, platform: 'ios', token: SAM_PHONE, userId: 'sam' });
		await n8n.store.register({ appId: CAMPAIGN_APP, platform: 'ios', token: CAMPAIGN_PHONE, userId: 'lee' });
		const workflow = agentWorkflow(n8n.folder);
		shipped = example('agent-tools', n8n.folder) as Workflow;
		chatWebhook = workflow.nodes.find((n) => n.type === '@n8n/n8n-nodes-langchain.chatTrigger')!.webhookId!;
		await n8n.importWorkflow(workflow, true);
		base = await n8n.start();
	}, 15 * 60_000);
	afterAll(async () => {
		await n8n?.dispose();
		await Promise.all([fakes?.close(), model?.close()]);
	});
	beforeEach(() => {
		fakes.reset();
		model.reset();
	});
	afterEach(() => {
		// a refused request (a tool not offered, streaming) is a broken test, whatever it asserted
		expect(model.refused.map((r) => r.why)).toEqual([]);
	});

	it('"send Kim a reminder": the tool call reaches Send Push, APNs gets exactly one push for Kim\'s phone, and the outcome goes back to the model', async () => {
		const answer = await chat('Please send Kim a reminder about her appointment tomorrow');

		expect(fakes.apns.received.map((r) => r.token)).toEqual([KIM_PHONE]);
		expect(fakes.apns.received[0].body).toMatchObject({ aps: { alert: { title: 'Reminder', body: 'Your appointment is tomorrow at 10:00' } } });
		expect(fakes.fcm.received).toHaveLength(0);
		// the model saw our tools, with what it needs to call them
		const [first] = model.requests;
		const offered = Object.fromEntries((first.tools ?? []).map((t) => [t.function.name, t.function]));
		expect(Object.keys(offered).sort()).toEqual(Object.values(TOOL).sort());
		expect(offered[TOOL.sendToUser].parameters?.required?.sort()).toEqual(['body', 'title', 'userId']);
		expect(offered[TOOL.sendToUser].parameters?.properties?.userId.description).toMatch(/user ID/);
		// each tool's Description, as the example sets it
		const described = (name: string) => shipped.nodes.find((n) => n.name === name)!.parameters.toolDescription;
		expect(offered[TOOL.sendToUser].description).toBe(described('Send Push to a User'));
		expect(offered[TOOL.profile].description).toBe(described('Get Profile'));
		expect(offered[TOOL.history].description).toBe(described('Get Token History'));
		// a tool left with its default description: the node's
		expect(offered[TOOL.campaign].description).toBe('Send a push notification through FCM, APNs or Web Push to a user, a device or an audience');
		// Send Push's answer (one result per device) went back to the model, and into its answer
		const results = model.toolResults();
		expect(results.map((r) => r.tool)).toEqual([TOOL.sendToUser]);
		expect(results[0].content).toContain(KIM_PHONE);
		expect(results[0].content).toContain('delivered');
		expect(answer).toContain('delivered');
		expect((await n8n.store.getDevice(APP, SAM_PHONE))!.lastStatus).toBe('unused');
	}, 180_000);

	it('"what devices does Kim have": Get Profile\'s answer, with Kim\'s phone, goes back to the model; nothing is sent', async () => {
		const answer = await chat('What devices does Kim have?');

		const results = model.toolResults();
		expect(results.map((r) => r.tool)).toEqual([TOOL.profile]);
		const profile = results[0].content;
		expect(profile).toContain(KIM_PHONE);
		expect(profile).toContain('kims-iphone');
		expect(profile).toContain(APP);
		expect(profile).toContain('pushTokens');
		expect(profile).not.toContain(SAM_PHONE);
		expect(answer).toContain(KIM_PHONE);
		expect(fakes.apns.received).toHaveLength(0);
	}, 180_000);

	it('guard rail: a tool call for an audience send is refused with a clear message unless the panel allows it; nothing is sent', async () => {
		const sendLog = () => n8n.store.engine.db.selectFrom('send_log').selectAll().execute();
		const logged = (await sendLog()).length;
		const refused = await chat('Send everyone the sale');

		const [result] = model.toolResults();
		expect(result.tool).toBe(TOOL.campaign);
		expect(result.content).toMatch(/Refused: this Send Push tool may not send to an audience/);
		expect(result.content).toMatch(/Nothing was sent/);
		expect(refused).toMatch(/Refused/);
		expect(fakes.apns.received).toHaveLength(0);
		expect(await sendLog()).toHaveLength(logged);

		// the same call to a campaign whose panel allows it is sent
		model.reset();
		await chat('Send the release news');
		expect(model.toolResults().map((r) => r.tool)).toEqual([TOOL.allowedCampaign]);
		expect(model.toolResults()[0].content).toMatch(/"delivered":1/);
		expect(fakes.apns.received.map((r) => r.token)).toEqual([CAMPAIGN_PHONE]);
	}, 180_000);
});
