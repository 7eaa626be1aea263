/**
 * A fake OpenAI-compatible chat model on 127.0.0.1, for n8n's OpenAI Chat Model node (its Chat
 * Completions mode: Use Responses API off) with the credential's Base URL pointed at `url`.
 *
 *   POST /v1/chat/completions  answered by the test's script: a tool call (one of the tools the
 *                              request offers, else 400) or a text answer, as OpenAI answers
 *                              (non-streaming; a streaming request is refused with 400, so a
 *                              change in n8n that starts streaming fails loudly)
 *   GET  /v1/models            the model list the editor's model picker and credential test read
 *
 * Every request is recorded (`requests`), so a test can assert what the model saw: the tools
 * offered, their descriptions and parameters, and each tool's result sent back to it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const MODEL = 'fake-gpt';
export const API_KEY = 'sk-fake-chat-model';

/** A message of a Chat Completions request. */
export interface ChatMessage {
	role: 'system' | 'developer' | 'user' | 'assistant' | 'tool';
	content: string | null | Array<{ type: string; text?: string }>;
	tool_calls?: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }>;
	tool_call_id?: string;
}

/** A tool offered in a Chat Completions request. */
export interface OfferedTool {
	type: 'function';
	function: { name: string; description?: string; parameters?: { properties?: Record<string, { type?: string; description?: string }>; required?: string[] } };
}

export interface ChatRequest {
	model: string;
	messages: ChatMessage[];
	tools?: OfferedTool[];
	stream?: boolean;
	[key: string]: unknown;
}

/** What the model answers: a call of one offered tool (named by a test of its name), or text. */
export type Reply = { call: { tool: string | ((name: string) => boolean); arguments: Record<string, unknown> } } | { text: string };

export type Script = (request: ChatRequest, model: FakeChatModel) => Reply;

/** The text of a message (content as a string or as parts). */
export function textOf(message: ChatMessage | undefined): string {
	if (!message || message.content === null) return '';
	return typeof message.content === 'string' ? message.content : message.content.map((p) => p.text ?? '').join('');
}

export class FakeChatModel {
	/** Every Chat Completions request, in order. */
	readonly requests: ChatRequest[] = [];
	/** Requests the fake refused (a tool not offered, streaming), with why: a test asserts there are none. */
	readonly refused: Array<{ request: unknown; why: string }> = [];
	private calls = 0;

	private constructor(
		private readonly server: Server,
		public script: Script,
	) {}

	static async start(script: Script = () => ({ text: 'Hello.' })): Promise<FakeChatModel> {
		const server = createServer();
		const model = new FakeChatModel(server, script);
		server.on('request', (req: IncomingMessage, res: ServerResponse) => void model.handle(req, res));
		await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
		return model;
	}

	/** The credential's Base URL. */
	get url(): string {
		return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
	}

	reset(): void {
		this.requests.length = 0;
		this.refused.length = 0;
	}

	/** The requests whose last message is a tool's result: [the tool call's name, the result]. */
	toolResults(): Array<{ tool: string; content: string; request: ChatRequest }> {
		const out: Array<{ tool: string; content: string; request: ChatRequest }> = [];
		for (const request of this.requests) {
			const calls = new Map(request.messages.flatMap((m) => m.tool_calls ?? []).map((c) => [c.id, c.function.name]));
			const last = request.messages[request.messages.length - 1];
			if (last?.role === 'tool') out.push({ tool: calls.get(last.tool_call_id ?? '') ?? '?', content: textOf(last), request });
		}
		return out;
	}

	async close(): Promise<void> {
		this.server.closeAllConnections();
		await new Promise<void>((done) => this.server.close(() => done()));
	}

	private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
		const path = (req.url ?? '').split('?')[0];
		if (req.method === 'GET' && path === '/v1/models') {
			return json(res, 200, { object: 'list', data: [{ id: MODEL, object: 'model', created: 1_700_000_000, owned_by: 'fake' }] });
		}
		if (req.method !== 'POST' || path !== '/v1/chat/completions') return json(res, 404, { error: { message: `the fake chat model has no ${req.method} ${path}`, type: 'invalid_request_error' } });
		if (req.headers.authorization !== `Bearer ${API_KEY}`) return json(res, 401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } });
		const chunks: Buffer[] = [];
		for await (const chunk of req) chunks.push(chunk as Buffer);
		let request: ChatRequest;
		try {
			request = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatRequest;
		} catch {
			return this.refuse(res, chunks, 'the body is not JSON');
		}
		this.requests.push(request);
		if (request.stream) return this.refuse(res, request, 'the fake chat model does not stream: n8n asked for a streaming answer');
		let reply: Reply;
		try {
			reply = this.script(request, this);
		} catch (error) {
			return this.refuse(res, request, `the script failed: ${(error as Error).message}`);
		}
		const id = `chatcmpl-${this.requests.length}`;
		const base = { id, object: 'chat.completion', created: Math.floor(Date.now() / 1000), model: request.model ?? MODEL };
		const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };
		if ('text' in reply) {
			return json(res, 200, { ...base, choices: [{ index: 0, message: { role: 'assistant', content: reply.text }, finish_reason: 'stop' }], usage });
		}
		const offered = (request.tools ?? []).map((t) => t.function.name);
		const wanted = reply.call.tool;
		const name = offered.find((n) => (typeof wanted === 'string' ? n === wanted : wanted(n)));
		if (!name) return this.refuse(res, request, `the script calls a tool that the request does not offer (offered: ${offered.join(', ') || 'none'})`);
		const call = { id: `call_${++this.calls}`, type: 'function', function: { name, arguments: JSON.stringify(reply.call.arguments) } };
		return json(res, 200, { ...base, choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [call] }, finish_reason: 'tool_calls' }], usage });
	}

	private refuse(res: ServerResponse, request: unknown, why: string): void {
		this.refused.push({ request, why });
		json(res, 400, { error: { message: why, type: 'invalid_request_error' } });
	}
}

function json(res: ServerResponse, status: number, body: unknown): void {
	const text = JSON.stringify(body);
	res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
	res.end(text);
}
