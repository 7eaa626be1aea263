/** The push-token domain: model, store and rules. Imports nothing from n8n. */
export * from './model';
export * from './errors';
export { TokenStore, openStore, closeAllStores, type StoreOptions } from './store/TokenStore';
export { StoreConfig, expandHome, type Engine } from './store/engines';
export type { RegisterResult } from './lifecycle/register';
export type { IdentifyResult, ClearIdentifyResult } from './lifecycle/identify';
export type { ImportOptions, ImportSummary, InvalidRow } from './lifecycle/import';
export { SUPPRESS_AFTER_BOUNCES, type OutcomeAction, type OutcomeResult } from './lifecycle/outcomes';
export type { CleanupReport } from './lifecycle/cleanup';
export type { AudienceDevice, ProfileExport, PushTokenEntry } from './lifecycle/queries';
export { readCsv, readJson, toImportRow, UnreadableRow } from './import/sources';
export { classifyAnswer, type ProviderAnswer, type Classification } from './providers/outcomes';
export { PushMessage, PAYLOAD_LIMITS, flatten, fcmData, type PushMessageInput } from './payload/message';
export { FcmTransport, ApnsTransport, WebPushTransport, FcmConfig, ApnsConfig, WebPushConfig, serviceAccountConfig, type Transport, type Delivery } from './providers/transports';
export { Sender, SendConfigError, checkSizes, backoffMs, type SendOptions, type DeviceResult, type CampaignSummary, type Transports } from './send/sender';
export { newId } from './ids';
export { specialPurposeRange } from './net/addresses';
export { GuardedAgent, REFUSED_ADDRESS, type Resolve } from './net/guard';
