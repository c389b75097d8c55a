import type { PollingConfig } from '../protocol.js';
import type { GetRecordsCommandOutput, ShardIteratorType } from '@aws-sdk/client-kinesis';
import { backoffDelay } from '../backoff.js';
import type { ActorContext, Behavior } from '../actor/runtime.js';
import { KinesisClientError, serializeError } from '../errors.js';
import type { HostEnv } from '../host-env.js';
import type { LeaseFence } from '../lease/fence.js';
import type { HashKeyRange } from '../kpl/expand.js';
import { payloadBytes, sequenceNumberAt } from '../batch-codec.js';
import { BatchDispatcher, type DispatchMessage, type ReaderStats } from './batch-dispatcher.js';
import { recordPage } from './light-get-records.js';
import { KINESIS_SHARD_LIMITS, PollPacer } from './poll-pacer.js';
import { startPosition } from './start-position.js';
import { kinesisSdk } from '../sdk.js';

const { GetRecordsCommand, GetShardIteratorCommand } = kinesisSdk;

export type { ReaderStats } from './batch-dispatcher.js';

const THROTTLING = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'LimitExceededException', 'KMSThrottlingException']);

export type ReaderMessage =
  /** `timestamp`: the lease's anchor (epoch ms), for a start at LATEST or AT_TIMESTAMP; see docs/positions.md. */
  | { type: 'start'; checkpoint: string; subSequenceNumber: number; timestamp?: number }
  | { type: 'iterator'; iterator: string | undefined; iteratorType: ShardIteratorType; from: string | undefined }
  | { type: 'fetch' }
  | { type: 'resume' }
  | { type: 'fetched'; output: GetRecordsCommandOutput }
  | { type: 'fetchFailed'; error: unknown }
  | DispatchMessage
  | { type: 'drain'; done: () => void };

/**
 * Reads one shard with GetShardIterator/GetRecords and feeds its records to the consumer pool one
 * batch at a time, in sequence order. It reads ahead while a batch is being handled, but never
 * holds more than maxBufferedRecords or maxBufferedBytes plus one GetRecords page: a slow
 * consumer pauses reading.
 */
export function readerActor(env: HostEnv, limits: PollingConfig, shardId: string, leaseId: string, stats: ReaderStats, hashKeyRange: HashKeyRange | undefined, fence: LeaseFence) {
  return (ctx: ActorContext<ReaderMessage>): Behavior<ReaderMessage> => {
    const { config, kinesis } = env;
    let phase: 'waiting' | 'reading' | 'draining' | 'ended' = 'waiting';
    let iterator: string | undefined;
    let closed = false;
    let childShardIds: string[] = [];
    let fetching = false;
    let fetchTimer: ReturnType<typeof ctx.sendAfter> | undefined;
    const pacer = new PollPacer({ ...KINESIS_SHARD_LIMITS, idleMs: limits.idleMs, throttleBackoff: limits.throttleBackoff });
    let iteratorAt = 0;
    let fetchFailures = 0;
    let lastReceived: string | undefined;
    let startedFrom: string | undefined;
    let startedFromSub = 0;
    let startedFromTimestamp: number | undefined;

    const batches = new BatchDispatcher(ctx, env, shardId, leaseId, stats, hashKeyRange, fence, {
      active: () => phase === 'reading',
      onHandled: () => scheduleFetch(),
      onEmpty: () => {
        if (!closed) return;
        phase = 'ended';
        batches.lease({ type: 'shardEnd', childShardIds });
      },
    });

    const requestIterator = (type: ShardIteratorType, sequenceNumber?: string, timestamp?: Date) => {
      const input = {
        StreamName: config.streamName,
        ShardId: shardId,
        ShardIteratorType: type,
        ...(sequenceNumber ? { StartingSequenceNumber: sequenceNumber } : {}),
        ...(timestamp ? { Timestamp: timestamp } : {}),
      };
      stats.getShardIteratorCalls++;
      ctx.pipe(
        kinesis.send(new GetShardIteratorCommand(input)),
        (out) => ({ type: 'iterator', iterator: out.ShardIterator, iteratorType: type, from: sequenceNumber }),
        (error) => ({ type: 'fetchFailed', error }),
      );
    };

    const scheduleFetch = () => {
      if (phase !== 'reading' || fetching || fetchTimer || closed || !iterator) return;
      if (batches.buffered >= limits.maxBufferedRecords || batches.bufferedBytes >= limits.maxBufferedBytes) return;
      const wait = pacer.delay(ctx.clock.now());
      if (wait <= 0) return startFetch();
      fetchTimer = ctx.sendAfter(wait, { type: 'fetch' });
    };

    const startFetch = () => {
      if (ctx.clock.now() - iteratorAt > limits.iteratorMaxAgeMs) {
        // paused by a slow consumer for minutes: a fresh iterator, right after what we already hold
        iterator = undefined;
        env.report({ type: 'iterator:renewed', shardId, reason: 'aged' });
        return resumeAfterLastReceived();
      }
      fetching = true;
      stats.getRecordsCalls++;
      pacer.called(ctx.clock.now());
      ctx.pipe(
        kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limits.getRecordsLimit })),
        (output) => ({ type: 'fetched', output }),
        (error) => ({ type: 'fetchFailed', error }),
      );
    };

    const onFetched = (output: GetRecordsCommandOutput) => {
      fetching = false;
      fetchFailures = 0;
      if (phase !== 'reading') return;
      const page = recordPage(output);
      const records = page.count;
      const bytes = payloadBytes(page);
      batches.append(page);
      if (records > 0) lastReceived = sequenceNumberAt(page, records - 1);
      stats.millisBehindLatest = output.MillisBehindLatest;
      iterator = output.NextShardIterator ?? undefined;
      iteratorAt = ctx.clock.now();
      if (!output.NextShardIterator) {
        closed = true;
        childShardIds = (output.ChildShards ?? []).map((c) => c.ShardId!).filter(Boolean);
      }
      // a full page means more is waiting even where the service reports MillisBehindLatest 0 (kinesalite does)
      const behind = records > 0 && ((output.MillisBehindLatest ?? 0) > 0 || records >= limits.getRecordsLimit);
      pacer.received({ records, bytes, behind });
      batches.dispatch();
      scheduleFetch();
    };

    /** A new iterator right after the last record read, so nothing is skipped or read twice. */
    const resumeAfterLastReceived = () => {
      if (lastReceived) requestIterator('AFTER_SEQUENCE_NUMBER', lastReceived);
      else onStart(startedFrom ?? 'TRIM_HORIZON', startedFromSub, startedFromTimestamp);
    };

    const onFetchFailed = (error: unknown) => {
      fetching = false;
      if (phase === 'draining' || phase === 'ended') return;
      const name = (error as { name?: string })?.name ?? '';
      if (THROTTLING.has(name)) {
        // this shard only waits; nothing is lost and the iterator stays valid
        const delayMs = pacer.throttled(ctx.clock.now());
        env.report({ type: 'shard:throttled', shardId, consecutive: pacer.consecutiveThrottles, delayMs, error: name });
        if (phase === 'reading' && iterator) fetchTimer = ctx.sendAfter(delayMs, { type: 'fetch' });
        else ctx.sendAfter(delayMs, { type: 'resume' });
        return;
      }
      fetchFailures++;
      if (name === 'ExpiredIteratorException' && phase === 'reading') {
        iterator = undefined;
        env.report({ type: 'iterator:renewed', shardId, reason: 'expired' });
        return resumeAfterLastReceived();
      }
      if (fetchFailures > 5) {
        throw new KinesisClientError('AWS_CALL_FAILED', `reading shard ${shardId} failed ${fetchFailures} times in a row`, { cause: error });
      }
      env.report({ type: 'error', shardId, error: serializeError(error) });
      const delay = backoffDelay(fetchFailures, { baseMs: 100, maxMs: 5_000 });
      if (phase === 'reading' && iterator) fetchTimer = ctx.sendAfter(delay, { type: 'fetch' });
      else ctx.sendAfter(delay, { type: 'resume' });
    };

    const onStart = (checkpoint: string, subSequenceNumber: number, timestamp?: number) => {
      // LATEST is taken once: a fresh iterator later (nothing read yet) starts from the anchor
      startedFrom = timestamp === undefined ? checkpoint : 'AT_TIMESTAMP';
      startedFromSub = subSequenceNumber;
      startedFromTimestamp = timestamp;
      const start = startPosition(checkpoint, subSequenceNumber, { anchor: timestamp, initial: config.initialTimestamp });
      switch (start.type) {
        case 'SHARD_END':
          phase = 'ended';
          batches.lease({ type: 'shardEnd', childShardIds: [] });
          return;
        case 'AT_SEQUENCE_NUMBER':
          batches.resumeAt(start.skipThrough);
          return requestIterator(start.type, start.sequenceNumber);
        case 'AT_TIMESTAMP':
          return requestIterator(start.type, undefined, start.timestamp);
        default:
          return requestIterator(start.type);
      }
    };

    return {
      receive(message) {
        switch (message.type) {
          case 'start':
            if (phase === 'draining' || phase === 'ended') return;
            return onStart(message.checkpoint, message.subSequenceNumber, message.timestamp);
          case 'iterator': {
            if (phase === 'draining' || phase === 'ended') return;
            const first = phase === 'waiting';
            phase = 'reading';
            iterator = message.iterator;
            if (!iterator) closed = true;
            if (first) {
              env.report({ type: 'shard:started', shardId, iteratorType: message.iteratorType, startingSequenceNumber: message.from });
            }
            iteratorAt = ctx.clock.now();
            if (closed) return batches.dispatch();
            return scheduleFetch();
          }
          case 'fetch':
            fetchTimer = undefined;
            return scheduleFetch();
          case 'resume':
            if (phase === 'draining' || phase === 'ended') return;
            return resumeAfterLastReceived();
          case 'fetched':
            return onFetched(message.output);
          case 'fetchFailed':
            return onFetchFailed(message.error);
          case 'settled':
          case 'retry':
            return batches.receive(message);
          case 'drain':
            if (fetchTimer) ctx.cancel(fetchTimer);
            fetchTimer = undefined;
            phase = 'draining';
            return batches.drain(message.done);
        }
      },
      terminate() {
        batches.terminate();
      },
    };
  };
}
