/** APNs through apns2 (JWT from the .p8 key, headers, reasons), one client per environment, its requests on our HTTP/2 connections. */
import { ApnsClient, Host, Notification, type ApnsError } from 'apns2';
import type { z } from 'zod/v4';
import type { DeviceView } from '../../types';
import { Http2Origin } from '../http2';
import { answered, networkFailure, perMessage, type Delivery, type Network, type Transport } from '../provider';
import { apnsAnswers } from './answers';
import { ApnsConfig, environmentOf, keyFor, type ApnsEnvironment } from './config';
import { onOurConnections } from './internals';
import { apnsPayload, type ApnsMessageInput } from './payload';

/** HTTP/2 connections per APNs environment: a connection lost takes only its own requests in flight with it. */
const APNS_CONNECTIONS = 4;

export class ApnsTransport implements Transport {
	readonly provider = 'apns';
	private readonly config: z.output<typeof ApnsConfig>;
	private readonly clients = new Map<ApnsEnvironment, ApnsClient>();

	constructor(
		config: z.input<typeof ApnsConfig>,
		private readonly network: Network = {},
	) {
		this.config = ApnsConfig.parse(config);
	}

	/** The environment's client, signing with the environment's key; null when the credential has no key for it. */
	private client(environment: ApnsEnvironment): ApnsClient | null {
		let client = this.clients.get(environment);
		if (!client) {
			const key = keyFor(this.config, environment);
			if (!key) return null;
			const host = environment === 'sandbox' ? Host.development : Host.production;
			client = new ApnsClient({ team: this.config.teamId, keyId: key.keyId, signingKey: key.signingKey, defaultTopic: this.config.bundleId, host, keepAlive: false });
			onOurConnections(client, new Http2Origin(`https://${host}:443`, APNS_CONNECTIONS, this.network.env), this.config.requestTimeoutMs);
			client.on('error', () => undefined); // errors are answered per notification below
			this.clients.set(environment, client);
		}
		return client;
	}

	async send(devices: DeviceView[], messages: readonly ApnsMessageInput[]): Promise<Delivery[]> {
		const payload = perMessage((message: ApnsMessageInput) => {
			const built = apnsPayload(message);
			const { aps, ...data } = built.payload;
			return { ...built, aps, data };
		});
		return Promise.all(
			devices.map(async (device, i) => {
				const built = payload(messages[i]);
				const notification = new Notification(device.token, {
					aps: built.aps,
					data: built.data,
					type: built.pushType,
					priority: built.priority,
					collapseId: built.collapseId,
					expiration: built.expiration,
				});
				const environment = environmentOf(device.data) ?? this.config.defaultEnvironment;
				const client = this.client(environment);
				if (!client) return { outcome: 'config-error' as const, reason: `the APNs credential has no key for the ${environment} environment: its key is limited to ${this.config.keyEnvironment}; add a second key for ${environment}` };
				try {
					await client.send(notification);
					return { outcome: 'delivered' as const, reason: 'accepted', statusCode: 200 };
				} catch (error) {
					const apnsError = error as ApnsError;
					if (typeof apnsError.statusCode === 'number') return answered('apns', apnsAnswers, apnsError.reason, apnsError.statusCode);
					return networkFailure(error);
				}
			}),
		);
	}

	async close(): Promise<void> {
		await Promise.all([...this.clients.values()].map((c) => c.close()));
		this.clients.clear();
	}
}
