/**
 * `@kinesis-client/core`: createSystem and the types of what it returns, the errors, the KPL
 * aggregation helpers and the loopback proxy for partition tests (docs/faults.md).
 * `@kinesis-client/core/internal` serves the examples and the benches, with no stability promise.
 */
export { createSystem } from './create-system.js';
export type { System } from './create-system.js';
export type { SystemOptions, StreamSpec } from './options.js';
export type { RemoveStreamOptions } from './stream-control.js';
export type { SystemEvents } from './events.js';
export type { AbandonedBatch, StopOptions, StopResult } from './stop.js';
export type { CallFault, Faults } from './faults.js';
export type { Inspection, ShardView } from './inspect.js';
export type { Logger, LogLevel } from './logging.js';
export type { Health, HealthCode, HealthReason } from './health.js';
export type { DashboardState, ShardRow, StreamState } from './http/state.js';
export { startLoopbackProxy } from './loopback-proxy.js';
export type { LoopbackProxy, LoopbackProxyOptions } from './loopback-proxy.js';
export { ErrorCodes, KinesisClientError, aggregate, deaggregate, isKinesisClientError } from '@kinesis-client/worker';
export type { ErrorCode, UserRecord } from '@kinesis-client/worker';
export type { CallFaultMode, CallFaultRule, ShardActorRole, ShardAddress, ShardStatus, ShardStopReason, SupervisionNode, ThreadDeath } from '@kinesis-client/worker/internal';
