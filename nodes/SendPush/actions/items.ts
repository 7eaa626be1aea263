/**
 * Send To = A User or One Device Token: the items of an execution sent together. Each item's
 * message and devices are read for that item (every field may be an expression of it); then
 * every item's pushes go to the sender at once, which sends them with the same bounded
 * concurrency per provider as an audience. Output: one item per device, in input order, each
 * paired with its input item; a bad item is an error item (Continue On Fail) or stops the node
 * after the items before it were sent, as when items went one by one.
 */
import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import type { DeviceResult, DeviceView, PushMessage, Sender, SendOptions } from '../../core';
import { errorItem, toJson, toNodeError } from '../../shared/items';
import { sizeError } from '../message';

/** What one item sends: its message to its devices, or, when it reaches none, what it outputs instead. */
export type ItemPlan = { message: PushMessage; send: SendOptions; devices: DeviceView[] } | { output: IDataObject };

export async function sendItems(context: IExecuteFunctions, sender: Sender, plans: Array<ItemPlan | Error>): Promise<INodeExecutionData[]> {
	for (let i = 0; i < plans.length; i++) {
		const plan = plans[i];
		if (plan instanceof Error || !('devices' in plan)) continue;
		try {
			sizeError(context, i, plan.message, plan.devices.map((d) => d.provider));
		} catch (error) {
			plans[i] = error as Error;
		}
	}
	// Without Continue On Fail the first bad item stops the node: the items before it are sent.
	const stop = context.continueOnFail() ? -1 : plans.findIndex((p) => p instanceof Error);
	const sendable = stop < 0 ? plans : plans.slice(0, stop);

	const results = new Map<number, DeviceResult[]>();
	// Items with the same send options go in one call (usually all of them).
	const groups = new Map<string, number[]>();
	sendable.forEach((plan, i) => {
		if (plan instanceof Error || !('devices' in plan)) return;
		const key = JSON.stringify(plan.send);
		groups.set(key, [...(groups.get(key) ?? []), i]);
	});
	for (const indexes of groups.values()) {
		const pushes = indexes.flatMap((i) => {
			const plan = plans[i] as Extract<ItemPlan, { devices: DeviceView[] }>;
			return plan.devices.map((device) => ({ device, message: plan.message, item: i }));
		});
		let sent: DeviceResult[];
		try {
			sent = await sender.send(
				pushes.map((p) => p.device),
				pushes.map((p) => p.message),
				(plans[indexes[0]] as Extract<ItemPlan, { send: SendOptions }>).send,
			);
		} catch (error) {
			for (const i of indexes) plans[i] = error as Error;
			continue;
		}
		sent.forEach((result, k) => {
			const item = pushes[k].item;
			results.set(item, [...(results.get(item) ?? []), result]);
		});
	}

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
			if (sent.length > 0 && sent.every((r) => r.outcome === 'config-error')) {
				throw new NodeOperationError(context.getNode(), `Item ${i + 1}: ${sent[0].reason}`, { itemIndex: i, description: 'No device was sent to: check the provider credential and the topic/bundle ID' });
			}
			for (const r of sent) out.push({ json: toJson(r), pairedItem: { item: i } });
		} catch (error) {
			out.push(errorItem(context, error, i));
		}
	}
	return out;
}

/** `plan` for every input item; an error becomes that item's. */
export async function planItems<T>(context: IExecuteFunctions, plan: (i: number) => T | Promise<T>): Promise<Array<T | Error>> {
	const plans: Array<T | Error> = [];
	for (let i = 0; i < context.getInputData().length; i++) {
		try {
			plans.push(await plan(i));
		} catch (error) {
			plans.push(error as Error);
		}
	}
	return plans;
}
