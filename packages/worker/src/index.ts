export { defineConsumer } from './consumer.js';
export type { BatchInfo, Consumer, ConsumerCapabilities, ConsumerContext, Message } from './consumer.js';
export { ErrorCodes, KinesisClientError, deserializeError, isKinesisClientError, serializeError } from './errors.js';
export type { ErrorCode, SerializedError } from './errors.js';
export { ManualClock, systemClock } from './clock.js';
export type { Clock, TimerHandle } from './clock.js';
export { backoffDelay } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
export { ActorCrashInjected, ActorRuntime, NORMAL, SHUTDOWN } from './actor/runtime.js';
export type { ActorContext, ActorRef, Behavior, ExitReason } from './actor/runtime.js';
export { Supervisor, decide, restartSet } from './actor/supervisor.js';
export type { ChildInstance, ChildSpec, ChildState, Directive, RestartIntensity, RestartType, Strategy, SupervisorEvent } from './actor/supervisor.js';
export { LeaseTable, SHARD_END, itemFromNewLease, leaseFromItem } from './lease/lease-table.js';
export { createDynamoDBClient, createKinesisClient } from './aws-clients.js';
export { CALL_FAULT_SLOTS, CallFaults, createCallFaultCounters, injectedAwsError } from './faults.js';
export type { CallFaultRule, CallFaultSlot } from './faults.js';
export { KINESIS_SHARD_LIMITS, PollPacer } from './reader/poll-pacer.js';
export type { PacerLimits, Page } from './reader/poll-pacer.js';
export { packRecords, unpackRecords, transferablesOf } from './batch-codec.js';
export type { PackedRecords, RawRecord } from './batch-codec.js';
export type * from './protocol.js';

/** File URLs of the two thread entries, for the main-thread side to start. */
export const hostEntryUrl = new URL('./host-entry.js', import.meta.url);
export const poolEntryUrl = new URL('./pool-entry.js', import.meta.url);
export { comlinkEndpoint } from './comlink-endpoint.js';
