/**
 * Expo's push service through expo-server-sdk: messages in requests of 100 (Expo's limit, the
 * SDK's chunks), six at once (the SDK's limit), answered by tickets; the receipts come later
 * (`receipts`). Its HTTP client (undici) connects through ours: HTTPS_PROXY is honoured as
 * by the other providers, and every request has a deadline.
 */
import type { TLSSocket } from 'node:tls';
import { Expo, type ExpoPushMessage, type ExpoPushReceipt, type ExpoPushTicket } from 'expo-server-sdk';
import { Agent } from 'undici';
import type { DeviceView } from '../../types';
import { connectTls, proxyFor } from '../../net/proxy';
import { answered, networkFailure, perMessage, type Delivery, type Network, type Receipts, type Transport } from '../provider';
import { expoAnswers } from './answers';
import { ExpoConfig, type ExpoConfigOutput } from './config';
import { expoMessage, type ExpoMessageInput } from './payload';

/** An error of the SDK: `statusCode` when Expo answered the request with an error, `code` its error code. */
interface SdkError {
	statusCode?: number;
	code?: string;
	message?: string;
	cause?: unknown;
}

export class ExpoTransport implements Transport {
	readonly provider = 'expo';
	private readonly config: ExpoConfigOutput;
	private readonly dispatcher: Agent;
	private readonly client: Expo;

	constructor(config: unknown, network: Network = {}) {
		this.config = ExpoConfig.parse(config);
		const timeout = this.config.requestTimeoutMs;
		this.dispatcher = new Agent({
			headersTimeout: timeout,
			bodyTimeout: timeout,
			connect: (options, callback) => {
				let socket: TLSSocket;
				try {
					const port = Number(options.port) || 443;
					socket = connectTls({ host: options.hostname, port, servername: options.servername ?? undefined, ALPNProtocols: ['http/1.1'] }, proxyFor(options.hostname, port, network.env));
				} catch (error) {
					callback(error as Error, null);
					return;
				}
				const deadline = setTimeout(() => socket.destroy(Object.assign(new Error(`no connection to ${options.hostname} within ${timeout} ms`), { code: 'UND_ERR_CONNECT_TIMEOUT' })), timeout);
				const failed = (error: Error) => {
					clearTimeout(deadline);
					callback(error, null);
				};
				socket.once('error', failed);
				socket.once('secureConnect', () => {
					clearTimeout(deadline);
					socket.off('error', failed);
					callback(null, socket);
				});
			},
		});
		this.client = new Expo({ accessToken: this.config.accessToken, httpAgent: this.dispatcher, retryMinTimeout: this.config.retryMinTimeoutMs });
	}

	async send(devices: DeviceView[], messages: readonly ExpoMessageInput[]): Promise<Delivery[]> {
		const message = perMessage(expoMessage);
		const all: ExpoPushMessage[] = devices.map((device, i) => ({ to: device.token, ...message(messages[i]) }));
		// Each message has one recipient: the chunks keep the devices' order, and their sizes say whose is which.
		let start = 0;
		const chunks = this.client.chunkPushNotifications(all).map((chunk) => ({ chunk, start: (start += chunk.length) - chunk.length }));
		const deliveries: Delivery[] = new Array(devices.length);
		await Promise.all(
			chunks.map(async ({ chunk, start }) => {
				let answers: Delivery[];
				try {
					const tickets = await this.client.sendPushNotificationsAsync(chunk);
					answers = tickets.map(ticketDelivery);
				} catch (error) {
					answers = chunk.map(() => requestFailure(error));
				}
				answers.forEach((delivery, k) => (deliveries[start + k] = delivery));
			}),
		);
		return deliveries;
	}

	/** Expo keeps a receipt about a day after its push; a ticket id left out of its answer has no receipt yet. */
	readonly receipts: Receipts = {
		keptHours: 24,
		check: async (ids) => {
			const answers = new Map<string, Delivery>();
			for (const chunk of this.client.chunkPushNotificationReceiptIds(ids)) {
				let receipts: Record<string, ExpoPushReceipt>;
				try {
					receipts = await this.client.getPushNotificationReceiptsAsync(chunk);
				} catch (error) {
					// (the receipts stay awaited: the next check asks again)
					throw new Error(`Expo receipts could not be fetched: ${requestFailure(error).reason}`);
				}
				for (const id of chunk) {
					const receipt = receipts[id];
					if (receipt) answers.set(id, ticketDelivery(receipt));
				}
			}
			return answers;
		},
	};

	async close(): Promise<void> {
		await this.dispatcher.close();
	}
}

/** A ticket (or a receipt, of the same shape): accepted, or refused with its code in `details.error`. */
function ticketDelivery(ticket: ExpoPushTicket | ExpoPushReceipt): Delivery {
	// A ticket's id is its receipt's: a dead token shows only there.
	if (ticket.status === 'ok') return 'id' in ticket ? { outcome: 'delivered', reason: 'accepted', messageId: ticket.id, receipt: ticket.id } : { outcome: 'delivered', reason: 'delivered' };
	const code = ticket.details?.error;
	if (!code) return { outcome: 'retry', reason: `Expo refused it without a code: ${String(ticket.message).slice(0, 200)}` };
	const delivery = answered('expo', expoAnswers, code, undefined, ticket.message);
	// The credential's side: Expo's message says what to fix (which credential, which limit).
	return delivery.outcome === 'config-error' && ticket.message ? { ...delivery, reason: `${delivery.reason}: ${String(ticket.message).slice(0, 200)}` } : delivery;
}

/** A request that failed as a whole: each of its messages gets this answer. */
function requestFailure(error: unknown): Delivery {
	const e = error as SdkError;
	// An error answer of Expo's (after the SDK's own retries of a 429); a 200 it could not read is no answer.
	if (typeof e.statusCode === 'number' && e.statusCode !== 200) {
		const delivery = answered('expo', expoAnswers, e.code, e.statusCode, e.message);
		return delivery.outcome === 'config-error' && e.message ? { ...delivery, reason: `${delivery.reason}: ${String(e.message).slice(0, 200)}` } : delivery;
	}
	// undici's fetch names the network's error as its cause ("fetch failed").
	return networkFailure(e.cause ?? error);
}
