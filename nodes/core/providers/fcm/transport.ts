/**
 * FCM through firebase-admin (its message validation, auth and error codes), one request per
 * message as its sendEach does, on our HTTP/2 connections (../http2) under our concurrency.
 */
import { createHash } from 'node:crypto';
import { constants, type ClientHttp2Stream, type OutgoingHttpHeaders } from 'node:http2';
import { deleteApp, initializeApp, type App } from 'firebase-admin/app';
import type { z } from 'zod/v4';
import type { DeviceView } from '../../types';
import { deliveryUnknown, Http2Origin, NoAnswer } from '../http2';
import { answered, networkFailure, perMessage, retryAfter, type Delivery, type Network, type Transport } from '../provider';
import { fcmAnswers } from './answers';
import { FcmConfig } from './config';
import { messagingOf, type Messaging } from './internals';
import { ServiceAccountToken } from './oauth';
import { fcmMessage, type FcmMessageInput } from './payload';

type FcmError = { code?: string; message?: string; cause?: { code?: string }; httpResponse?: { status?: number; headers?: Record<string, string>; data?: unknown } };

const FCM_HOST = 'fcm.googleapis.com';
/** Messages in flight at once per transport (firebase-admin's sendEach lets 100 streams share its connection). */
const FCM_CONCURRENCY = 100;
/** Connections they are spread over: a connection lost takes only its own requests in flight with it. */
const FCM_CONNECTIONS = 4;
/** firebase-admin gives up on an answer after 15 s; past that plus a margin, we settle the message ourselves. */
const FCM_DEADLINE_MS = 20_000;

/**
 * FCM v1's own code of an error answer (UNREGISTERED, QUOTA_EXCEEDED, …), which firebase-admin
 * renames (messaging/…); an unregistered installation id is UNREGISTERED_FID, as firebase-admin says.
 */
function fcmCode(error: FcmError | undefined, toFid: boolean): string | undefined {
	const body = error?.httpResponse?.data as { error?: { status?: string; details?: Array<{ errorCode?: string }> } } | undefined;
	const code = body?.error?.details?.find((d) => d.errorCode)?.errorCode ?? body?.error?.status ?? error?.code;
	return toFid && (code === 'UNREGISTERED' || code === 'NOT_FOUND') ? 'UNREGISTERED_FID' : code;
}

const fcmAnswer = (code: string | undefined, statusCode: number | undefined, message?: string, retry?: number) => answered('fcm', fcmAnswers, code, statusCode, message, retry);

export class FcmTransport implements Transport {
	readonly provider = 'fcm';
	private readonly app: App;
	private readonly origin: Http2Origin;
	private messaging?: Messaging;

	constructor(config: z.input<typeof FcmConfig>, network: Network = {}) {
		const c = FcmConfig.parse(config);
		// One firebase app per transport; the name hides the key.
		const name = `push-tokens-${createHash('sha256').update(c.clientEmail + c.privateKey).digest('hex').slice(0, 16)}-${Math.random().toString(36).slice(2)}`;
		this.app = initializeApp({ credential: new ServiceAccountToken(c, network.env), projectId: c.projectId }, name);
		this.origin = new Http2Origin(`https://${FCM_HOST}`, FCM_CONNECTIONS, network.env);
	}

	/** An access token for the service account (what the credential test checks). */
	async accessToken(): Promise<void> {
		await this.app.options.credential!.getAccessToken();
	}

	async send(devices: DeviceView[], messages: readonly FcmMessageInput[]): Promise<Delivery[]> {
		const base = perMessage(fcmMessage);
		const messaging = (this.messaging ??= messagingOf(this.app));
		let path: string;
		try {
			path = await messaging.getUrlPath();
		} catch (error) {
			const e = error as FcmError;
			return devices.map(() => fcmAnswer(e.code, undefined, e.message));
		}
		const out = new Array<Delivery>(devices.length);
		let next = 0;
		await Promise.all(
			Array.from({ length: Math.min(FCM_CONCURRENCY, devices.length) }, async () => {
				while (next < devices.length) {
					const i = next++;
					const target = devices[i].tokenKind === 'fid' ? { fid: devices[i].token } : { token: devices[i].token };
					out[i] = await this.sendOne(messaging, path, { ...base(messages[i]), ...target });
				}
			}),
		);
		return out;
	}

	/** One message; always settles: by its answer, by its stream closing unanswered, or at the deadline. */
	private sendOne(messaging: Messaging, path: string, message: object): Promise<Delivery> {
		const copy = structuredClone(message);
		const toFid = 'fid' in copy;
		try {
			messaging.validate(copy);
		} catch (error) {
			const e = error as FcmError;
			return Promise.resolve(fcmAnswer(e.code, undefined, e.message));
		}
		return this.origin.ready(FCM_DEADLINE_MS).then((ready) => new Promise<Delivery>((resolve) => {
			let stream: ClientHttp2Stream | undefined;
			let settled = false;
			const settle = (delivery: Delivery) => {
				if (settled) return;
				settled = true;
				clearTimeout(deadline);
				resolve(delivery);
			};
			const lost = (why: string, code?: string) => {
				const s = stream;
				if (s && !s.destroyed) s.close();
				settle(networkFailure(new NoAnswer(why, deliveryUnknown(s, { code }), code)));
			};
			const deadline = setTimeout(() => lost(`no answer within ${FCM_DEADLINE_MS} ms`, stream?.pending ? 'ERR_HTTP2_STREAM_CANCEL' : 'ETIMEDOUT'), FCM_DEADLINE_MS);
			const origin = this.origin;
			const session = {
				request(headers: OutgoingHttpHeaders) {
					const s = origin.open(headers, ready);
					stream = s;
					let answeredYet = false;
					s.once('response', () => (answeredYet = true));
					// firebase-admin never settles a request whose stream closes without an error: we do.
					s.once('close', () => setTimeout(() => !answeredYet && stream === s && lost(s.rstCode === constants.NGHTTP2_REFUSED_STREAM ? 'refused by the server (REFUSED_STREAM)' : 'the connection closed before the answer'), 50));
					return s;
				},
			};
			messaging.messagingRequestHandler.invokeHttp2RequestHandlerForSendResponse(FCM_HOST, path, { message: copy }, { session }).then(
				(r) => {
					if (r.success) return settle({ outcome: 'delivered', reason: 'accepted', messageId: r.messageId });
					const err = r.error as FcmError;
					settle(fcmAnswer(fcmCode(err, toFid), err?.httpResponse?.status, err?.message, retryAfter(err?.httpResponse?.headers?.['retry-after'])));
				},
				(error) => {
					const e = error as FcmError;
					if (e.code === 'app/network-error' || e.code === 'app/network-timeout') return lost(e.message ?? e.code, e.cause?.code);
					if (e.code?.startsWith('app/') || e.code?.startsWith('messaging/')) return settle(fcmAnswer(e.code, undefined, e.message));
					settle(networkFailure(stream ? new NoAnswer(e.message ?? String(error), deliveryUnknown(stream, e), e.code) : error));
				},
			);
		}), networkFailure);
	}

	async close(): Promise<void> {
		await this.origin.close();
		await deleteApp(this.app);
	}
}
