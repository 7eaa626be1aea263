/**
 * Send To = A User or One Device Token: the items of an execution sent together. Each item's
 * message and devices are read for that item (every field may be an expression of it), 100
 * items at a time with their devices read in one query; each chunk's pushes go to the sender
 * while the next chunks are read, as many chunks at once as keep each provider within the
 * concurrency of an audience send, so reading the items (n8n evaluates every expression of every
 * item) overlaps the providers' round trips. Output: one item per device, in input order, each
 * paired with its input item. A bad item is an error item (Continue On Fail), or stops the node
 * after the items before it were sent, as when items went one by one.
 */
import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import { PROVIDERS, providerModule, yieldToIo, type DeviceResult, type DeviceView, type Provider, type PushMessage, type Sender, type SendOptions } from '../../core';
import { errorItem, toJson, toNodeError } from '../../shared/items';
import { label } from '../../shared/providers';
import { collapsedBy, itemSendId, sizeError } from '../message';

/** What one item sends: its message to its devices, or, when it reaches none, what it outputs instead. */
export type ItemPlan = { message: PushMessage; send: SendOptions & { sendId?: string }; devices: DeviceView[]; sendId?: string } | { output: IDataObject };
/** An item to send, with its send id (see itemSendId). */
type Sending = Extract<ItemPlan, { devices: DeviceView[] }> & { sendId: string };

/** Plans the items [from, to). */
export type PlanChunk = (from: number, to: number) => Promise<Array<ItemPlan | Error>>;

const CHUNK = 100;

const perProvider = () => Object.fromEntries(PROVIDERS.map((p) => [p, 0])) as Record<Provider, number>;

export async function sendItems(context: IExecuteFunctions, sender: Sender, planChunk: PlanChunk): Promise<INodeExecutionData[]> {
	const items = context.getInputData();
	const count = items.length;
	const plans: Array<ItemPlan | Error> = [];
	const results = new Map<number, DeviceResult[]>();
	let stop = -1;
	const inFlight = perProvider();
	const running = new Set<Promise<void>>();
	for (let from = 0; from < count && stop < 0; from += CHUNK) {
		const chunk = await planChunk(from, Math.min(count, from + CHUNK));
		chunk.forEach((plan, k) => {
			if (plan instanceof Error || !('devices' in plan)) return;
			try {
				const sendId = itemSendId(context, plan.send.sendId, from + k);
				const message = plan.send.resendLostAnswers ? collapsedBy(plan.message, sendId) : plan.message;
				sizeError(context, from + k, message, plan.devices.map((d) => d.provider), sendId);
				chunk[k] = { ...plan, message, sendId };
			} catch (error) {
				chunk[k] = error as Error;
			}
		});
		plans.push(...chunk);
		// Without Continue On Fail the first bad item stops the node: the items before it are sent.
		const bad = context.continueOnFail() ? -1 : chunk.findIndex((p) => p instanceof Error);
		if (bad >= 0) stop = from + bad;
		const indexes = Array.from({ length: bad >= 0 ? bad : chunk.length }, (_, k) => from + k);
		const pushes = perProvider();
		for (const i of indexes) for (const d of (plans[i] as Partial<Sending>).devices ?? []) pushes[d.provider]++;
		const fits = () => (Object.keys(pushes) as Provider[]).every((p) => pushes[p] === 0 || inFlight[p] + pushes[p] <= providerModule(p).chunkSize);
		while (running.size > 0 && !fits()) await Promise.race(running);
		for (const p of Object.keys(pushes) as Provider[]) inFlight[p] += pushes[p];
		const sending: Promise<void> = send(sender, plans, indexes, results).finally(() => {
			for (const p of Object.keys(pushes) as Provider[]) inFlight[p] -= pushes[p];
			running.delete(sending);
		});
		running.add(sending);
		await yieldToIo(); // the chunk's requests go out while the next chunk is read
	}
	await Promise.all(running);

	const out: INodeExecutionData[] = [];
	for (let i = 0; i < plans.length; i++) {
		const plan = plans[i];
		if (i === stop) throw toNodeError(context, plan, i);
		try {
			if (plan instanceof Error) throw plan;
			if ('output' in plan) {
				out.push({ json: plan.output, pairedItem: { item: i } });
				continue;
			}
			const sent = results.get(i) ?? [];
			const missing = missingCredentials(context, sender, i, sent.map((r) => r.provider));
			if (missing) throw missing;
			if (sent.length > 0 && sent.every((r) => r.outcome === 'config-error')) {
				throw new NodeOperationError(context.getNode(), `Item ${i + 1}: ${sent[0].reason}`, { itemIndex: i, description: 'No device was sent to: check the provider credential and the topic/bundle ID' });
			}
			// Attempts carry through a Send Push → Handle Push Feedback → Wait → Send Push loop.
			const before = Number(items[i].json.attempts);
			for (const r of sent) out.push({ json: toJson(Number.isInteger(before) && before > 0 && r.attempts > 0 ? { ...r, attempts: r.attempts + before } : r), pairedItem: { item: i } });
		} catch (error) {
			out.push(errorItem(context, error, i));
		}
	}
	return out;
}

/**
 * When item i's devices are all of providers with no credential on the node (the sender says
 * only "no fcm credential", knowing no credential names): the error saying which to add.
 */
export function missingCredentials(context: IExecuteFunctions, sender: Sender, i: number, providers: Provider[]): NodeOperationError | null {
	const wanted = [...new Set(providers)];
	if (wanted.length === 0 || wanted.some((p) => sender.providers.includes(p))) return null;
	const what = wanted.map((p) => `no ${label(p)} credential is set: add one to the node to send to ${providerModule(p).name} devices`);
	return new NodeOperationError(context.getNode(), `Item ${i + 1}: ${what.join('; ')}`, { itemIndex: i });
}

/** Sends these items' pushes: one sender call per distinct send options (usually one); a call that fails fails its items. */
async function send(sender: Sender, plans: Array<ItemPlan | Error>, indexes: number[], results: Map<number, DeviceResult[]>): Promise<void> {
	const groups = new Map<string, number[]>();
	for (const i of indexes) {
		const plan = plans[i];
		if (plan instanceof Error || !('devices' in plan)) continue;
		const key = JSON.stringify({ ...plan.send, sendId: null });
		groups.set(key, [...(groups.get(key) ?? []), i]);
	}
	for (const group of groups.values()) {
		const pushes = group.flatMap((i) => (plans[i] as Sending).devices.map((device) => ({ device, item: plans[i] as Sending, index: i })));
		try {
			const sent = await sender.send(
				pushes.map((p) => p.device),
				pushes.map((p) => p.item.message),
				{ ...(plans[group[0]] as Sending).send, sendId: pushes.map((p) => p.item.sendId) },
			);
			sent.forEach((result, k) => results.set(pushes[k].index, [...(results.get(pushes[k].index) ?? []), result]));
		} catch (error) {
			for (const i of group) plans[i] = error as Error;
		}
	}
}

/** `plan` for each item of [from, to); an error becomes that item's. */
export async function eachItem<T>(from: number, to: number, plan: (i: number) => T | Promise<T>): Promise<Array<T | Error>> {
	const out: Array<T | Error> = [];
	for (let i = from; i < to; i++) {
		try {
			out.push(await plan(i));
		} catch (error) {
			out.push(error as Error);
		}
	}
	return out;
}
