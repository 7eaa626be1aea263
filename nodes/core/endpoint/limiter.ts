/**
 * Rate limits of the app endpoint, per client address and per device, by rate-limiter-flexible:
 * in this process's memory, or on the Redis of n8n's queue mode when it runs one, so every
 * webhook process spends one budget. Should Redis fail, each process limits on its own (the
 * insurance limiter) rather than refusing every app open.
 */
import { createHash } from 'node:crypto';
import Redis from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

export interface Limits {
	/** Calls per minute from one client address; 0: unlimited. */
	perClient: number;
	/** Calls per minute about one device (its token or device id); 0: unlimited. */
	perDevice: number;
}

/** n8n's queue-mode Redis, as n8n reads it (QUEUE_BULL_REDIS_*), when EXECUTIONS_MODE is queue. */
export function queueRedisOptions(env: NodeJS.ProcessEnv = process.env): import('ioredis').RedisOptions | null {
	if (env.EXECUTIONS_MODE !== 'queue') return null;
	return {
		host: env.QUEUE_BULL_REDIS_HOST || 'localhost',
		port: Number(env.QUEUE_BULL_REDIS_PORT) || 6379,
		db: Number(env.QUEUE_BULL_REDIS_DB) || 0,
		username: env.QUEUE_BULL_REDIS_USERNAME || undefined,
		password: env.QUEUE_BULL_REDIS_PASSWORD || undefined,
		...(env.QUEUE_BULL_REDIS_TLS === 'true' ? { tls: {} } : {}),
	};
}

/** One Redis connection per process and server, shared by every endpoint. */
const clients = new Map<string, Redis>();
function redisClient(options: import('ioredis').RedisOptions): Redis {
	const key = JSON.stringify(options);
	let client = clients.get(key);
	if (!client) {
		// A limiter answers soon or not at all: a command waits for the connection at most 250 ms, then the insurance limiter decides.
		client = new Redis({ ...options, commandTimeout: 250, maxRetriesPerRequest: 1 });
		client.on('error', () => undefined); // (the insurance limiter takes over; ioredis reconnects)
		clients.set(key, client);
	}
	return client;
}

/** Closes the Redis connections (a test's end, a process's shutdown). */
export async function closeRedisClients(): Promise<void> {
	await Promise.all([...clients.values()].map((c) => c.quit().catch(() => c.disconnect())));
	clients.clear();
}

export class CallLimiter {
	private readonly client: RateLimiterAbstract | null;
	private readonly device: RateLimiterAbstract | null;

	/** `prefix` keeps two endpoints' budgets apart. */
	constructor(limits: Limits, prefix: string, redis: import('ioredis').RedisOptions | null = queueRedisOptions()) {
		const make = (points: number, what: string): RateLimiterAbstract | null => {
			if (!points) return null;
			const options = { points, duration: 60, keyPrefix: `push-tokens:${prefix}:${what}` };
			const memory = new RateLimiterMemory(options);
			return redis ? new RateLimiterRedis({ ...options, storeClient: redisClient(redis), insuranceLimiter: memory }) : memory;
		};
		this.client = make(limits.perClient, 'client');
		this.device = make(limits.perDevice, 'device');
	}

	/** Seconds to wait before calling again, or null when the call may go on. */
	async take(kind: 'client' | 'device', key: string): Promise<number | null> {
		const limiter = kind === 'client' ? this.client : this.device;
		if (!limiter) return null;
		try {
			await limiter.consume(kind === 'device' ? createHash('sha256').update(key).digest('base64url') : key);
			return null;
		} catch (rejection) {
			if (rejection instanceof RateLimiterRes) return Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
			throw rejection;
		}
	}
}
