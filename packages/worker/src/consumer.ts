/**
 * The consumer's public entry, `@kinesis-client/worker/consumer`: what a consumer module imports.
 * It runs in every pool thread, so it and its imports must load no AWS SDK and no actor runtime
 * (test/light-consumer.test.ts holds it to that); the package index is for the main-thread side.
 */
export { ErrorCodes, KinesisClientError, isKinesisClientError, type ErrorCode } from './errors.js';

/** What the user's consumer module sees: one Kinesis record, data still raw before handleMessage. */
export interface Message<Data = Uint8Array> {
  data: Data;
  partitionKey: string;
  sequenceNumber: string;
  /** 0 for plain records; the user-record index inside a KPL aggregate. */
  subSequenceNumber: number;
  approximateArrivalTimestamp: Date;
  explicitHashKey: string | undefined;
  shardId: string;
  streamName: string;
}

export interface BatchInfo {
  shardId: string;
  streamName: string;
  firstSequenceNumber: string;
  lastSequenceNumber: string;
  /** 1 on the first try; handleBatch that throws is called again with the same records. */
  attempt: number;
  millisBehindLatest: number | undefined;
}

export interface ConsumerContext {
  readonly shardId: string;
  readonly streamName: string;
  readonly threadId: number;
}

export interface Consumer<Out = Message> {
  /** Runs per record inside the pool, before handleBatch; its result replaces the message. */
  handleMessage?(message: Message, ctx: ConsumerContext): Out | Promise<Out>;
  /** Required. Resolving acknowledges the batch (it is then checkpointed); throwing retries it. */
  handleBatch(messages: Out[], batch: BatchInfo, ctx: ConsumerContext): void | Promise<void>;
  /** Receives a batch that failed every attempt; once it resolves the batch is checkpointed. */
  handleFailed?(messages: Message[], error: unknown, batch: BatchInfo, ctx: ConsumerContext): void | Promise<void>;
}

/** Only adds types: a plain object with the same methods works as a consumer too. */
export function defineConsumer<Out = Message>(consumer: Consumer<Out>): Consumer<Out> {
  return consumer;
}

export interface ConsumerCapabilities {
  handleMessage: boolean;
  handleFailed: boolean;
}
