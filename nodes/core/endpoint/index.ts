export { AppEndpoint, ENDPOINT_EVENTS, DEFAULT_MAX_BODY_BYTES, MAX_BATCH, type Answer, type Call, type EndpointEvent, type EndpointSettings } from './endpoint';
export { EndpointAuth, EndpointAuthConfig, Refused, VERIFICATIONS, JWT_ALGORITHMS, type Verification } from './auth';
export { CallLimiter, closeRedisClients, queueRedisOptions, type Limits } from './limiter';
