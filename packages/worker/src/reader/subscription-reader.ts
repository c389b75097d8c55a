import type { StartingPosition, SubscribeToShardEvent } from '@aws-sdk/client-kinesis';
import { backoffDelay } from '../backoff.js';
import type { ActorContext, Behavior } from '../actor/runtime.js';
import type { TimerHandle } from '../clock.js';
import { KinesisClientError, serializeError } from '../errors.js';
import type { HostEnv } from '../host-env.js';
import type { HashKeyRange } from '../kpl/expand.js';
import type { LeaseFence } from '../lease/fence.js';
import type { FanoutConfig } from '../protocol.js';
import { packRecords } from '../batch-codec.js';
import { BatchDispatcher, type DispatchMessage, type ReaderStats } from './batch-dispatcher.js';
import { recordPage } from './light-get-records.js';
import { startPosition } from './start-position.js';
import { kinesisSdk } from '../sdk.js';

const { GetRecordsCommand, GetShardIteratorCommand, SubscribeToShardCommand } = kinesisSdk;

export type SubscriptionMessage =
  | { type: 'start'; checkpoint: string; subSequenceNumber: number; timestamp?: number }
  | { type: 'subscribe' }
  | { type: 'subscribed'; generation: number }
  | { type: 'event'; generation: number; event: SubscribeToShardEvent }
  /** The subscription's event stream ended: by the service (no error) or with an error. */
  | { type: 'ended'; generation: number; error?: unknown }
  | { type: 'watchdog'; generation: number }
  | { type: 'renew'; generation: number }
  /** Whether the shard turned out closed, everything in it read (see checkClosed). */
  | { type: 'probed'; closed: boolean; childShardIds: string[] }
  | DispatchMessage
  | { type: 'drain'; done: () => void };

/** Kinesis allows one SubscribeToShard call per second per consumer and shard. */
const MIN_SUBSCRIBE_INTERVAL_MS = 1_000;
/** Failed subscriptions in a row (no event in between) before the reader crashes and restarts. */
const MAX_FAILURES = 10;
const FAILURE_BACKOFF = { baseMs: 200, maxMs: 5_000 };

interface Live {
  generation: number;
  abort: AbortController;
  lastEventAt: number;
}

/**
 * Reads one shard through enhanced fan-out: a SubscribeToShard event stream over HTTP/2, renewed
 * from the last ContinuationSequenceNumber when the service ends it, after subscriptionMs, after
 * an error (with backoff) and when no event came for watchdogMs. Batches go through the same
 * BatchDispatcher as the polling reader, so order, checkpoints and retries are the same.
 *
 * The end of a closed shard comes as an event without ContinuationSequenceNumber, with its
 * ChildShards. Some servers never send it (kinesis-mock keeps a closed shard's subscription open
 * with empty events), so each renewal first asks GetRecords whether the shard is closed after the
 * continuation point: two calls per subscriptionMs, and a closed shard can never stall its children.
 *
 * A subscription cannot be paused, so memory is bounded by dropping it: once maxBufferedRecords
 * or maxBufferedBytes are buffered the subscription is cancelled, and a new one starts after the
 * last buffered record when the consumer has worked the buffer down to half of both.
 */
export function subscriptionReaderActor(
  env: HostEnv,
  fanout: FanoutConfig,
  shardId: string,
  leaseId: string,
  stats: ReaderStats,
  hashKeyRange: HashKeyRange | undefined,
  fence: LeaseFence,
) {
  return (ctx: ActorContext<SubscriptionMessage>): Behavior<SubscriptionMessage> => {
    const { config } = env;
    const client = env.subscriptionClient;
    if (!client) throw new Error('subscription reader started without a fan-out client');
    let phase: 'waiting' | 'reading' | 'draining' | 'ended' = 'waiting';
    let position: StartingPosition | undefined;
    let generation = 0;
    let live: Live | undefined;
    let subscribeTimer: TimerHandle | undefined;
    let lastSubscribeAt = -Infinity;
    let failures = 0;
    let paused = false;
    let closed = false;
    let childShardIds: string[] = [];
    let started = false;
    let probing = false;
    /** The lease's anchor: a LATEST subscription is taken once, later ones start from here. */
    let anchor: number | undefined;
    stats.subscriptions = 0;

    const full = () => batches.buffered >= fanout.maxBufferedRecords || batches.bufferedBytes >= fanout.maxBufferedBytes;
    const batches = new BatchDispatcher(ctx, env, shardId, leaseId, stats, hashKeyRange, fence, {
      active: () => phase === 'reading',
      onHandled: () => {
        if (paused && batches.buffered <= Math.floor(fanout.maxBufferedRecords / 2) && batches.bufferedBytes <= fanout.maxBufferedBytes / 2) {
          paused = false;
          subscribe(0);
        }
      },
      onEmpty: () => {
        if (!closed) return;
        phase = 'ended';
        batches.lease({ type: 'shardEnd', childShardIds });
      },
    });

    /** Events still on their way from a dropped subscription carry its generation and are ignored. */
    const unsubscribe = () => {
      live?.abort.abort();
      live = undefined;
    };

    const subscribe = (delayMs: number) => {
      if (phase !== 'reading' || live || subscribeTimer || closed || paused || probing) return;
      const wait = Math.max(delayMs, lastSubscribeAt + MIN_SUBSCRIBE_INTERVAL_MS - ctx.clock.now());
      if (wait > 0) {
        subscribeTimer = ctx.sendAfter(wait, { type: 'subscribe' });
        return;
      }
      const now = ctx.clock.now();
      const current: Live = { generation: ++generation, abort: new AbortController(), lastEventAt: now };
      live = current;
      lastSubscribeAt = now;
      stats.subscriptions = (stats.subscriptions ?? 0) + 1;
      void forward(current, position!);
      if (position?.Type === 'LATEST' && anchor !== undefined) position = { Type: 'AT_TIMESTAMP', Timestamp: new Date(anchor) };
      ctx.sendAfter(fanout.watchdogMs, { type: 'watchdog', generation: current.generation });
      ctx.sendAfter(fanout.subscriptionMs, { type: 'renew', generation: current.generation });
    };

    /** Runs outside the mailbox: turns the event stream into messages, in order. */
    const forward = async ({ generation: gen, abort }: Live, from: StartingPosition) => {
      try {
        const command = new SubscribeToShardCommand({ ConsumerARN: fanout.consumerArn, ShardId: shardId, StartingPosition: from });
        const output = await client.send(command, { abortSignal: abort.signal });
        ctx.send(ctx.self, { type: 'subscribed', generation: gen });
        for await (const item of output.EventStream ?? []) {
          if (abort.signal.aborted) return;
          if (item.SubscribeToShardEvent) {
            ctx.send(ctx.self, { type: 'event', generation: gen, event: item.SubscribeToShardEvent });
            continue;
          }
          // an error event (ResourceInUseException, InternalFailureException, KMS...) ends the subscription
          const [name, detail] = Object.entries(item)[0] ?? ['UnknownEvent', undefined];
          const error = new Error(`SubscribeToShard event stream of ${shardId}: ${name} ${(detail as { message?: string })?.message ?? ''}`);
          error.name = name;
          throw error;
        }
        ctx.send(ctx.self, { type: 'ended', generation: gen });
      } catch (error) {
        ctx.send(ctx.self, { type: 'ended', generation: gen, error });
      }
    };

    /** Before a renewal: a closed shard whose every record was read answers no records and no next iterator. */
    const checkClosed = () => {
      if (position?.Type !== 'AFTER_SEQUENCE_NUMBER') return subscribe(0);
      probing = true;
      const probe = async () => {
        stats.getShardIteratorCalls++;
        const { ShardIterator } = await env.kinesis.send(
          new GetShardIteratorCommand({ StreamName: config.streamName, ShardId: shardId, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: position!.SequenceNumber }),
        );
        stats.getRecordsCalls++;
        const out = await env.kinesis.send(new GetRecordsCommand({ ShardIterator, Limit: 1 }));
        const ended = !out.NextShardIterator && recordPage(out).count === 0;
        return { ended, childShardIds: (out.ChildShards ?? []).map((c) => c.ShardId!).filter(Boolean) };
      };
      ctx.pipe(
        probe(),
        (r): SubscriptionMessage => ({ type: 'probed', closed: r.ended, childShardIds: r.childShardIds }),
        // the subscription will tell, or the next renewal will ask again
        (): SubscriptionMessage => ({ type: 'probed', closed: false, childShardIds: [] }),
      );
    };

    const onProbed = (ended: boolean, children: string[]) => {
      probing = false;
      if (phase !== 'reading' || closed) return;
      if (!ended) return subscribe(0);
      closed = true;
      childShardIds = children;
      batches.dispatch();
    };

    const isLive = (gen: number) => live !== undefined && live.generation === gen && phase === 'reading';

    const onEvent = (event: SubscribeToShardEvent) => {
      live!.lastEventAt = ctx.clock.now();
      failures = 0;
      batches.append(packRecords(event.Records ?? []));
      stats.millisBehindLatest = event.MillisBehindLatest;
      if (event.ContinuationSequenceNumber) {
        position = { Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: event.ContinuationSequenceNumber };
        if (full()) {
          paused = true;
          unsubscribe();
        }
      } else {
        // the shard is closed: these were its last records
        closed = true;
        childShardIds = (event.ChildShards ?? []).map((c) => c.ShardId!).filter(Boolean);
        unsubscribe();
      }
      batches.dispatch();
    };

    const onEnded = (error: unknown) => {
      live = undefined;
      if (closed) return;
      if (error === undefined) return checkClosed();
      failures++;
      if (failures > MAX_FAILURES) {
        throw new KinesisClientError('AWS_CALL_FAILED', `subscribing to shard ${shardId} failed ${failures} times in a row`, { cause: error });
      }
      // ResourceInUse is the service still holding the subscription just dropped: expected on a
      // renewal, and it passes; it still counts, so one that never passes ends in a restart
      if ((error as { name?: string })?.name !== 'ResourceInUseException') env.report({ type: 'error', shardId, error: serializeError(error) });
      subscribe(backoffDelay(failures, FAILURE_BACKOFF));
    };

    const onWatchdog = (gen: number) => {
      const idle = ctx.clock.now() - live!.lastEventAt;
      if (idle < fanout.watchdogMs) {
        ctx.sendAfter(fanout.watchdogMs - idle, { type: 'watchdog', generation: gen });
        return;
      }
      unsubscribe();
      onEnded(new KinesisClientError('AWS_CALL_FAILED', `no SubscribeToShard event for ${Math.round(idle)} ms on shard ${shardId}; subscribing again`));
    };

    const onStart = (checkpoint: string, subSequenceNumber: number, timestamp: number | undefined) => {
      const start = startPosition(checkpoint, subSequenceNumber, { anchor: timestamp, initial: config.initialTimestamp });
      if (start.type === 'SHARD_END') {
        phase = 'ended';
        batches.lease({ type: 'shardEnd', childShardIds: [] });
        return;
      }
      anchor = timestamp;
      if (start.type === 'AT_SEQUENCE_NUMBER') {
        position = { Type: start.type, SequenceNumber: start.sequenceNumber };
        batches.resumeAt(start.skipThrough);
      } else if (start.type === 'AT_TIMESTAMP') position = { Type: start.type, Timestamp: start.timestamp };
      else position = { Type: start.type };
      phase = 'reading';
      subscribe(0);
    };

    return {
      receive(message) {
        switch (message.type) {
          case 'start':
            if (phase !== 'waiting') return;
            return onStart(message.checkpoint, message.subSequenceNumber, message.timestamp);
          case 'subscribe':
            subscribeTimer = undefined;
            return subscribe(0);
          case 'subscribed':
            if (!isLive(message.generation) || started) return;
            started = true;
            env.report({ type: 'shard:started', shardId, iteratorType: position!.Type!, startingSequenceNumber: position!.SequenceNumber });
            return;
          case 'event':
            if (!isLive(message.generation)) return;
            return onEvent(message.event);
          case 'ended':
            if (!isLive(message.generation)) return;
            return onEnded(message.error);
          case 'watchdog':
            if (!isLive(message.generation)) return;
            return onWatchdog(message.generation);
          case 'renew':
            if (!isLive(message.generation)) return;
            unsubscribe();
            return checkClosed();
          case 'probed':
            return onProbed(message.closed, message.childShardIds);
          case 'settled':
          case 'retry':
            return batches.receive(message);
          case 'drain':
            if (subscribeTimer) ctx.cancel(subscribeTimer);
            subscribeTimer = undefined;
            unsubscribe();
            phase = 'draining';
            return batches.drain(message.done);
        }
      },
      terminate() {
        unsubscribe();
        batches.terminate();
      },
    };
  };
}
