/**
 * Every message that crosses a thread boundary, in one place for both sides:
 * main thread <-> shard-host threads (comlink over MessagePorts for control and events, a plain
 * port for batches), main thread -> consumer pool, and consumer pool -> shard host (outcomes).
 * Everything here must survive structured clone: plain data and ports only, no functions, no classes.
 */
import type { PackedRecords } from './batch-codec.js';
import type { BatchInfo, ConsumerCapabilities } from './consumer.js';
import type { SerializedError } from './errors.js';
import type { BackoffOptions } from './backoff.js';
import type { MessagePort } from 'node:worker_threads';
import type { RestartType, Strategy } from './actor/supervisor.js';
import type { CallFaultSlot } from './faults.js';
import type { HashKeyRange, ResumePoint } from './kpl/expand.js';
import type { Position } from './position.js';
import type { LeaseSnapshot } from './lease/lease.js';
import type { HostEvent } from './events.js';
import type { ShardAddress } from './shard-address.js';
import type { StoreConfig } from './lease/store-config.js';

/** Plain SDK v3 client config (endpoint, region, credentials as data, maxAttempts, ...). */
export type AwsClientConfig = Record<string, unknown>;

export interface HostConfig {
  hostIndex: number;
  workerId: string;
  streamName: string;
  tableName: string;
  /** Where leases live; each thread opens its own client to it (lease/open-lease-store.ts). */
  store: StoreConfig;
  kinesis: AwsClientConfig;
  dynamodb: AwsClientConfig;
  /** Epoch ms, for shards whose lease checkpoint is AT_TIMESTAMP. */
  initialTimestamp: number | undefined;
  lease: { failoverMs: number; renewIntervalMs: number; checkpointIntervalMs: number; safetyMarginMs: number };
  /** Every Kinesis and DynamoDB call's deadline (SubscribeToShard exempt); 0: none. */
  callTimeouts: { kinesisMs: number; dynamodbMs: number };
  batchers: { batchSize: number; maxAttempts: number; backoff: BackoffOptions };
  /** `supervision.shard`: each shard's lease and reader actors. */
  supervision: { shard: { maxRestarts: number; withinMs: number; backoff: BackoffOptions } };
  consumer: ConsumerCapabilities;
  /** The `retrieval` option as given, but for fan-out's registered consumer in place of its name. */
  retrieval: PollingConfig | FanoutConfig;
}

/** GetRecords polling, the default. */
export interface PollingConfig {
  mode: 'polling';
  idleMs: number;
  getRecordsLimit: number;
  maxBufferedRecords: number;
  maxBufferedBytes: number;
  throttleBackoff: BackoffOptions;
  iteratorMaxAgeMs: number;
}

/** Enhanced fan-out: each shard is read with SubscribeToShard. */
export interface FanoutConfig {
  mode: 'fanout';
  /** Registered and ACTIVE before any shard-host thread starts. */
  consumerArn: string;
  /** Where SubscribeToShard goes when it is not `kinesis.endpoint` (an emulator's HTTP/2 TLS port). */
  endpoint: string | undefined;
  /** TLS options of the HTTP/2 connections (e.g. an emulator's self-signed certificate). */
  tls: { rejectUnauthorized?: boolean; ca?: string } | undefined;
  /** A subscription that delivers no event for this long is dropped and renewed. */
  watchdogMs: number;
  /** A subscription is renewed after this long (the service ends one after 5 minutes). */
  subscriptionMs: number;
  maxBufferedRecords: number;
  maxBufferedBytes: number;
}

/** A lease row as the coordinator last read it. */
export type { LeaseSnapshot } from './lease/lease.js';

export interface ShardStatus {
  streamName: string;
  shardId: string;
  checkpoint: string | undefined;
  millisBehindLatest: number | undefined;
  bufferedRecords: number;
  /** Payload bytes of the buffered records. */
  bufferedBytes: number;
  /** Fan-out: SubscribeToShard calls made for the shard by this worker. */
  subscriptions?: number;
  actors: { id: string; incarnation: number; restarts: number }[];
}

/** One node of the live supervision tree that `system.inspect()` returns. */
export interface SupervisionNode {
  id: string;
  kind: 'supervisor' | 'actor' | 'thread' | 'pool';
  /** For supervisors. */
  strategy?: Strategy;
  /** How its parent treats its exits. */
  restart?: RestartType;
  incarnation: number;
  state: 'running' | 'restarting' | 'stopped';
  restarts: number;
  /** worker_threads threadId; 0 is the main thread. */
  threadId: number;
  lastError?: SerializedError;
  children?: SupervisionNode[];
}

export interface ShardInspection {
  streamName: string;
  shardId: string;
  threadId: number;
  checkpoint: string | undefined;
  millisBehindLatest: number | undefined;
  bufferedRecords: number;
  bufferedBytes: number;
  /** Since this worker took the shard. */
  getRecordsCalls: number;
  getShardIteratorCalls: number;
  /** The shard's supervisor, with its lease and reader actors as children. */
  supervisor: SupervisionNode;
}

/** How `faults.killThread` ends a shard-host thread: as a crash from outside, or from inside. */
export type ThreadDeath = 'terminate' | 'exit' | 'throw' | 'oom';

export type ShardActorRole = 'lease' | 'reader';

/**
 * Exposed by each shard-host thread; called by its ShardHostHandle on the main thread. A thread
 * holds its shards by address (`shardKey`), so shards of several streams can share it.
 */
/** The stream a shard belongs to, as its actors need it (the host's config names the first stream only). */
export interface StreamStart {
  streamName: string;
  /** Epoch ms, for shards whose lease checkpoint is AT_TIMESTAMP: the stream's initialPosition. */
  initialTimestamp: number | undefined;
  /** With fan-out: the stream consumer registered on this stream (each stream has its own). */
  consumerArn?: string | undefined;
}

export interface HostApi {
  /**
   * Starts the actors of the lease's shard, at the address `leaseAddress` resolves the lease to.
   * `handled`: the last position this process handled in the shard, when later than the row's checkpoint.
   * `stream`: its stream, when not the host's config's.
   */
  startShard(lease: LeaseSnapshot, handled?: Position, stream?: StreamStart): Promise<void>;
  /** Graceful: in-flight batch finishes, final checkpoint, lease released. */
  stopShard(address: ShardAddress): Promise<void>;
  stopAll(): Promise<void>;
  status(): Promise<ShardStatus[]>;
  inspect(): Promise<ShardInspection[]>;
  /** Fault injection: false when this thread runs no such actor. */
  crashActor(address: ShardAddress, role: ShardActorRole): Promise<boolean>;
  /** Fault injection: the thread dies from inside ('terminate' is done from the main thread). */
  die(how: Exclude<ThreadDeath, 'terminate'>): Promise<void>;
  addCallFault(rule: CallFaultSlot): Promise<void>;
}

/** Exposed by the main thread to every shard-host thread. */
export interface MainApi {
  report(event: HostEvent): void;
}

/** What the pool needs to expand KPL aggregates: the shard's hash range and a resume point inside one. */
export interface Deaggregation {
  hashKeyRange: HashKeyRange | undefined;
  resumeAfter: ResumePoint | undefined;
}

export interface BatchTask {
  kind: 'batch';
  records: PackedRecords;
  info: BatchInfo;
  deaggregation: Deaggregation;
  /** The shard's LeaseFence buffer: the pool thread starts the batch only while it is open. */
  fence?: SharedArrayBuffer;
  /** The pool thread posts the task's BatchOutcome here, straight to the shard host that sent it. */
  replyTo?: MessagePort;
}

export interface FailedTask {
  kind: 'failed';
  records: PackedRecords;
  info: BatchInfo;
  deaggregation: Deaggregation;
  error: SerializedError;
  fence?: SharedArrayBuffer;
  replyTo?: MessagePort;
}

export interface DescribeTask {
  kind: 'describe';
}

export type PoolTask = DescribeTask | BatchTask | FailedTask;

/** `lastSubSequenceNumber`: of the batch's last Kinesis record, for its checkpoint (n-1 for an aggregate of n). */
/** `fenced`: not started at all, since the lease was not renewed in time (LEASE_EXPIRED); not a failed attempt. */
export type BatchOutcome = { ok: true; lastSubSequenceNumber?: number } | { ok: false; error: SerializedError; poolDied?: boolean; fenced?: boolean };

/**
 * The batch path (see pool-link.ts and the core's consumer-pool.ts), on each host's `batchPort`:
 * a host submits a task, whose `replyTo` port travels with it to the pool thread that runs it;
 * the main thread answers on `batchPort` only for a task the pool thread could not answer for
 * (its thread died or was ended, it timed out, it never started).
 */
export interface SubmitMessage {
  id: number;
  task: BatchTask | FailedTask;
}

export interface OutcomeMessage {
  id: number;
  outcome: BatchOutcome;
}

export type DescribeOutcome = { ok: true; capabilities: ConsumerCapabilities } | { ok: false; error: SerializedError };

export type { HostEvent, ShardStopReason } from './events.js';

/** workerData of a shard-host thread; `mainPort` carries the MainApi, `batchPort` the batch path. */
export interface HostWorkerData {
  /**
   * Absent for a thread started before its config is known (createSystem starts the first threads
   * while it still checks the stream and the consumer): the config is then the one message on `configPort`.
   */
  config?: HostConfig;
  configPort?: MessagePort;
  mainPort: MessagePort;
  batchPort: MessagePort;
  /** Shared with every thread: see faults.ts. */
  callFaults: { counters: SharedArrayBuffer; rules: CallFaultSlot[] };
}

/** workerData of a consumer pool thread. */
export interface PoolWorkerData {
  consumerUrl: string;
}
