/**
 * `@kinesis-client/worker/internal`: what the main thread (`@kinesis-client/core`) needs to run
 * the threads of this package, and what the benches drive directly. No stability promise.
 */
export type * from './protocol.js';
export type { ConsumerCapabilities } from './consumer.js';
export { HOST_EVENTS, supervisorEvent } from './events.js';
export type { EventPayloads, HostEventName } from './events.js';
export { shardKey } from './shard-address.js';
export type { ShardAddress } from './shard-address.js';
export { multiStreamLeaseKey, parseLeaseKey, parseStreamIdentifier, sameStream, serializeStreamIdentifier } from './stream-identifier.js';
export type { ParsedLeaseKey, StreamIdentifier } from './stream-identifier.js';
export { comlinkEndpoint } from './comlink-endpoint.js';
export { createDynamoDBClient, createKinesisClient, createSubscriptionClient } from './aws-clients.js';
export { CALL_FAULT_SLOTS, CallFaults, createCallFaultCounters } from './faults.js';
export type { CallFaultMode, CallFaultRule, CallFaultSlot } from './faults.js';
export { deserializeError, serializeError } from './errors.js';
export { comparePositions, laterPosition } from './position.js';
export type { Position } from './position.js';
export { packRecords, payloadBytes, sequenceNumberAt, sliceRecords, transferablesOf, unpackRecords } from './batch-codec.js';
export { readGetRecordsLightly, recordPage } from './reader/light-get-records.js';
export { scanGetRecords } from './reader/get-records-scan.js';
export { warmUpScan } from './reader/scan-warm-up.js';
export { CheckpointPace } from './lease/checkpoint-pace.js';
export { printThreadWarningsOnce } from './thread-warnings.js';

/** File URLs of the two thread entries, for the main thread to start. */
export const hostEntryUrl = new URL('./host-entry.js', import.meta.url);
export const poolEntryUrl = new URL('./pool-entry.js', import.meta.url);
