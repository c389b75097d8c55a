import { GetRecordsCommand, GetShardIteratorCommand, type GetRecordsCommandOutput, type ShardIteratorType } from '@aws-sdk/client-kinesis';
import * as Comlink from 'comlink';
import { backoffDelay } from '../backoff.js';
import type { ActorContext, ActorRef, Behavior } from '../actor/runtime.js';
import { packRecords, transferablesOf, type RawRecord } from '../batch-codec.js';
import type { BatchInfo } from '../consumer.js';
import { KinesisClientError, deserializeError, serializeError } from '../errors.js';
import type { HostEnv } from '../host-env.js';
import type { LeaseMessage } from '../lease/lease-actor.js';
import { SHARD_END } from '../lease/lease-table.js';
import type { HashKeyRange, ResumePoint } from '../kpl/expand.js';
import type { BatchOutcome, Deaggregation } from '../protocol.js';
import { KINESIS_SHARD_LIMITS, PollPacer } from './poll-pacer.js';

const THROTTLING = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'LimitExceededException', 'KMSThrottlingException']);

export type ReaderMessage =
  | { type: 'start'; checkpoint: string; subSequenceNumber: number }
  | { type: 'iterator'; iterator: string | undefined; iteratorType: ShardIteratorType; from: string | undefined }
  | { type: 'fetch' }
  | { type: 'resume' }
  | { type: 'fetched'; output: GetRecordsCommandOutput }
  | { type: 'fetchFailed'; error: unknown }
  | { type: 'settled'; outcome: BatchOutcome; viaHandleFailed: boolean }
  | { type: 'retry' }
  | { type: 'drain'; done: () => void };

interface InFlight {
  records: RawRecord[];
  attempt: number;
  millisBehindLatest: number | undefined;
  deaggregation: Deaggregation;
}

export interface ReaderStats {
  bufferedRecords: number;
  millisBehindLatest: number | undefined;
  getRecordsCalls: number;
  getShardIteratorCalls: number;
}

/**
 * Reads one shard with GetShardIterator/GetRecords and feeds its records to the consumer pool one
 * batch at a time, in sequence order. It reads ahead while a batch is being handled, but never
 * holds more than maxBufferedRecords plus one GetRecords page: a slow consumer pauses reading.
 */
export function readerActor(env: HostEnv, shardId: string, leaseId: string, stats: ReaderStats, hashKeyRange: HashKeyRange | undefined) {
  return (ctx: ActorContext<ReaderMessage>): Behavior<ReaderMessage> => {
    const { config, kinesis } = env;
    const { reader: limits, batch: batchConfig } = config;
    let phase: 'waiting' | 'reading' | 'draining' | 'ended' = 'waiting';
    let iterator: string | undefined;
    let closed = false;
    let childShardIds: string[] = [];
    let buffer: RawRecord[] = [];
    let inFlight: InFlight | undefined;
    let fetching = false;
    let fetchTimer: ReturnType<typeof ctx.sendAfter> | undefined;
    const pacer = new PollPacer({ ...KINESIS_SHARD_LIMITS, minCallIntervalMs: limits.minCallIntervalMs, idleMs: limits.idleMs, throttleBackoff: limits.throttleBackoff });
    let iteratorAt = 0;
    let fetchFailures = 0;
    let lastReceived: string | undefined;
    let startedFrom: string | undefined;
    let startedFromSub = 0;
    let drained: (() => void) | undefined;
    /** A checkpoint inside a KPL aggregate: that aggregate is read again and its done user records skipped. */
    let resumeInside: ResumePoint | undefined;

    const lease = (message: LeaseMessage) => {
      const ref = env.runtime.current<LeaseMessage>(leaseId);
      if (ref) ctx.send(ref, message);
    };

    const requestIterator = (type: ShardIteratorType, sequenceNumber?: string) => {
      const input = {
        StreamName: config.streamName,
        ShardId: shardId,
        ShardIteratorType: type,
        ...(sequenceNumber ? { StartingSequenceNumber: sequenceNumber } : {}),
        ...(type === 'AT_TIMESTAMP' ? { Timestamp: new Date(config.initialTimestamp ?? 0) } : {}),
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
      if (buffer.length >= limits.maxBufferedRecords) return;
      const wait = pacer.delay(ctx.clock.now());
      if (wait <= 0) return startFetch();
      fetchTimer = ctx.sendAfter(wait, { type: 'fetch' });
    };

    const startFetch = () => {
      if (ctx.clock.now() - iteratorAt > limits.iteratorMaxAgeMs) {
        // paused by a slow consumer for minutes: a fresh iterator, right after what we already hold
        iterator = undefined;
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

    const batchInfo = (flight: InFlight): BatchInfo => ({
      shardId,
      streamName: config.streamName,
      firstSequenceNumber: flight.records[0]!.SequenceNumber!,
      lastSequenceNumber: flight.records[flight.records.length - 1]!.SequenceNumber!,
      attempt: flight.attempt,
      millisBehindLatest: flight.millisBehindLatest,
    });

    const send = (flight: InFlight) => {
      const records = packRecords(flight.records);
      const info = batchInfo(flight);
      ctx.pipe(
        env.main.runBatch(Comlink.transfer({ kind: 'batch', records, info, deaggregation: flight.deaggregation }, transferablesOf(records))),
        (outcome) => ({ type: 'settled', outcome, viaHandleFailed: false }),
        (error) => ({ type: 'settled', outcome: { ok: false, error: serializeError(error) }, viaHandleFailed: false }),
      );
    };

    const dispatch = () => {
      if (inFlight || phase !== 'reading') return;
      if (buffer.length === 0) {
        if (closed) {
          phase = 'ended';
          lease({ type: 'shardEnd', childShardIds });
        }
        return;
      }
      const records = buffer.length <= batchConfig.size ? buffer : buffer.slice(0, batchConfig.size);
      buffer = records === buffer ? [] : buffer.slice(batchConfig.size);
      stats.bufferedRecords = buffer.length;
      const resumeAfter = resumeInside?.sequenceNumber === records[0]!.SequenceNumber ? resumeInside : undefined;
      resumeInside = undefined;
      inFlight = { records, attempt: 1, millisBehindLatest: stats.millisBehindLatest, deaggregation: { hashKeyRange, resumeAfter } };
      send(inFlight);
    };

    const finishDrain = () => {
      const done = drained;
      drained = undefined;
      done?.();
    };

    const onSettled = (outcome: BatchOutcome, viaHandleFailed: boolean) => {
      const flight = inFlight;
      if (!flight) return;
      if (outcome.ok) {
        inFlight = undefined;
        const last = flight.records[flight.records.length - 1]!;
        lease({ type: 'checkpoint', sequenceNumber: last.SequenceNumber!, subSequenceNumber: outcome.lastSubSequenceNumber ?? 0 });
        if (phase === 'draining') return finishDrain();
        dispatch();
        scheduleFetch();
        return;
      }
      if (viaHandleFailed) {
        throw new KinesisClientError('BATCH_FAILED', `handleFailed threw for shard ${shardId}`, { cause: deserializeError(outcome.error) });
      }
      if (phase === 'draining') {
        // stopping: the batch stays un-checkpointed and is read again by the next owner
        inFlight = undefined;
        return finishDrain();
      }
      if (flight.attempt < batchConfig.maxAttempts) {
        flight.attempt++;
        ctx.sendAfter(backoffDelay(flight.attempt - 1, batchConfig.backoff), { type: 'retry' });
        return;
      }
      const error = deserializeError(outcome.error);
      if (config.consumer.handleFailed) {
        const records = packRecords(flight.records);
        const info = batchInfo(flight);
        ctx.pipe(
          env.main.runFailed(Comlink.transfer({ kind: 'failed', records, info, deaggregation: flight.deaggregation, error: outcome.error }, transferablesOf(records))),
          (o) => ({ type: 'settled', outcome: o, viaHandleFailed: true }),
          (e) => ({ type: 'settled', outcome: { ok: false, error: serializeError(e) }, viaHandleFailed: true }),
        );
        return;
      }
      throw new KinesisClientError(
        'BATCH_FAILED',
        `handleBatch failed ${flight.attempt} times on shard ${shardId} (records ${flight.records[0]!.SequenceNumber!}..); restarting from the last checkpoint`,
        { cause: error, details: { shardId, attempts: flight.attempt } },
      );
    };

    const onFetched = (output: GetRecordsCommandOutput) => {
      fetching = false;
      fetchFailures = 0;
      if (phase !== 'reading') return;
      const records = output.Records ?? [];
      let bytes = 0;
      for (const r of records) bytes += r.Data?.byteLength ?? 0;
      if (buffer.length === 0) buffer = records;
      else for (const r of records) buffer.push(r);
      if (records.length > 0) lastReceived = records[records.length - 1]!.SequenceNumber;
      stats.bufferedRecords = buffer.length;
      stats.millisBehindLatest = output.MillisBehindLatest;
      iterator = output.NextShardIterator ?? undefined;
      iteratorAt = ctx.clock.now();
      if (!output.NextShardIterator) {
        closed = true;
        childShardIds = (output.ChildShards ?? []).map((c) => c.ShardId!).filter(Boolean);
      }
      // a full page means more is waiting even where the service reports MillisBehindLatest 0 (kinesalite does)
      const behind = records.length > 0 && ((output.MillisBehindLatest ?? 0) > 0 || records.length >= limits.getRecordsLimit);
      pacer.received({ records: records.length, bytes, behind });
      dispatch();
      scheduleFetch();
    };

    /** A new iterator right after the last record read, so nothing is skipped or read twice. */
    const resumeAfterLastReceived = () => {
      if (lastReceived) requestIterator('AFTER_SEQUENCE_NUMBER', lastReceived);
      else onStart(startedFrom ?? 'TRIM_HORIZON', startedFromSub);
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

    const onStart = (checkpoint: string, subSequenceNumber: number) => {
      startedFrom = checkpoint;
      startedFromSub = subSequenceNumber;
      if (checkpoint === SHARD_END) {
        phase = 'ended';
        lease({ type: 'shardEnd', childShardIds: [] });
        return;
      }
      if (checkpoint === 'TRIM_HORIZON' || checkpoint === 'LATEST' || checkpoint === 'AT_TIMESTAMP') requestIterator(checkpoint);
      else if (subSequenceNumber > 0) {
        // inside an aggregate: read it again and let the pool skip the user records already handled
        resumeInside = { sequenceNumber: checkpoint, subSequenceNumber };
        requestIterator('AT_SEQUENCE_NUMBER', checkpoint);
      } else requestIterator('AFTER_SEQUENCE_NUMBER', checkpoint);
    };

    return {
      receive(message) {
        switch (message.type) {
          case 'start':
            if (phase === 'draining' || phase === 'ended') return;
            return onStart(message.checkpoint, message.subSequenceNumber);
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
            if (closed) return dispatch();
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
            return onSettled(message.outcome, message.viaHandleFailed);
          case 'retry':
            if (inFlight && phase === 'reading') send(inFlight);
            else if (inFlight && phase === 'draining') {
              inFlight = undefined;
              finishDrain();
            }
            return;
          case 'drain':
            if (fetchTimer) ctx.cancel(fetchTimer);
            fetchTimer = undefined;
            drained = message.done;
            phase = 'draining';
            buffer = [];
            stats.bufferedRecords = 0;
            if (!inFlight) finishDrain();
            return;
        }
      },
      terminate() {
        buffer = [];
        stats.bufferedRecords = 0;
        finishDrain();
      },
    };
  };
}
