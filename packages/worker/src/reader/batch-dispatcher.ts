import { backoffDelay } from '../backoff.js';
import type { ActorContext } from '../actor/runtime.js';
import { payloadBytes, sequenceNumberAt, sliceRecords, transferablesOf, type PackedRecords, type RecordRange } from '../batch-codec.js';
import type { BatchInfo } from '../consumer.js';
import { KinesisClientError, deserializeError, serializeError, type SerializedError } from '../errors.js';
import type { HostEnv } from '../host-env.js';
import type { HashKeyRange, ResumePoint } from '../kpl/expand.js';
import { processNow, type LeaseFence } from '../lease/fence.js';
import type { LeaseMessage } from '../lease/lease-actor.js';
import { laterPosition, type Position } from '../position.js';
import type { BatchOutcome, Deaggregation } from '../protocol.js';

/** The messages a reader forwards to its dispatcher: part of every reader's own message union. */
export type DispatchMessage = { type: 'settled'; outcome: BatchOutcome; viaHandleFailed: boolean } | { type: 'retry' };

/** How often a batch held back by the lease fence looks again whether the lease was renewed. */
const FENCE_POLL_MS = 100;

export interface ReaderStats {
  bufferedRecords: number;
  bufferedBytes: number;
  /**
   * The last position handled in this shard; kept by its supervisor across reader and lease-actor
   * incarnations, so a restart resumes after it even when its checkpoint was never written.
   */
  handled?: Position;
  millisBehindLatest: number | undefined;
  getRecordsCalls: number;
  getShardIteratorCalls: number;
  /** SubscribeToShard calls made for the shard; fan-out only. */
  subscriptions?: number;
}

interface InFlight {
  /** Its records, in the pages they came in; packed again for every attempt, since a send transfers what it packed. */
  ranges: RecordRange[];
  first: string;
  last: string;
  attempt: number;
  millisBehindLatest: number | undefined;
  deaggregation: Deaggregation;
  /** Set once every attempt failed and the batch goes to handleFailed with this error. */
  failedWith?: SerializedError;
  /** Held back by the lease fence (reported once per hold). */
  fenced?: boolean;
}

const bytesOf = (ranges: readonly RecordRange[]) => ranges.reduce((n, r) => n + payloadBytes(r.page, r.start, r.end), 0);

export interface DispatchHooks {
  /** False while the reader has not started or is stopping: nothing new is sent. */
  active(): boolean;
  /** A batch succeeded and its checkpoint is on its way to the lease actor. */
  onHandled(): void;
  /** Nothing buffered and nothing in flight: the place to notice a closed shard's end. */
  onEmpty(): void;
}

/**
 * What every reader does with the records it fetched, however it fetched them: batches go to the
 * consumer pool one at a time and in order, each is checkpointed once handled, a failing batch is
 * retried with backoff and then handed to handleFailed (or crashes the reader, which restarts from
 * the last checkpoint), and a drain lets the in-flight batch settle first. Nothing is sent while
 * the lease fence is closed, and a batch the pool refused for it (LEASE_EXPIRED) is held, not
 * counted as an attempt, and sent again once the lease is renewed.
 */
export class BatchDispatcher {
  /** Pages read and not yet sent, in shard order; the first may be partly sent already. */
  private buffer: RecordRange[] = [];
  private count = 0;
  private bytes = 0;
  private inFlight: InFlight | undefined;
  private draining = false;
  private drained: (() => void) | undefined;
  /** A checkpoint inside a KPL aggregate: that aggregate is read again and its done user records skipped. */
  private resumeInside: ResumePoint | undefined;

  constructor(
    private readonly ctx: Pick<ActorContext<DispatchMessage>, 'pipe' | 'sendAfter'>,
    private readonly env: HostEnv,
    private readonly shardId: string,
    private readonly leaseId: string,
    private readonly stats: ReaderStats,
    private readonly hashKeyRange: HashKeyRange | undefined,
    private readonly fence: LeaseFence,
    private readonly hooks: DispatchHooks,
  ) {}

  /** The reader starts again at an aggregate (AT_SEQUENCE_NUMBER) whose first user records are done. */
  resumeAt(point: ResumePoint): void {
    this.resumeInside = point;
  }

  get buffered(): number {
    return this.count;
  }

  /** Payload bytes buffered: what bounds memory with large records. */
  get bufferedBytes(): number {
    return this.bytes;
  }

  /** A page of records in shard order, after those already buffered. */
  append(page: PackedRecords): void {
    if (this.draining || page.count === 0) return;
    this.buffer.push({ page, start: 0, end: page.count });
    this.setBuffered(this.count + page.count, this.bytes + payloadBytes(page));
  }

  private setBuffered(count: number, bytes: number): void {
    this.count = count;
    this.bytes = bytes;
    this.stats.bufferedRecords = count;
    this.stats.bufferedBytes = bytes;
  }

  /** Up to `size` records off the front of the buffer. */
  private take(size: number): RecordRange[] {
    const ranges: RecordRange[] = [];
    for (let left = size; left > 0 && this.buffer.length > 0; ) {
      const head = this.buffer[0]!;
      const end = Math.min(head.end, head.start + left);
      ranges.push({ page: head.page, start: head.start, end });
      left -= end - head.start;
      head.start = end;
      if (head.start === head.end) this.buffer.shift();
    }
    return ranges;
  }

  lease(message: LeaseMessage): void {
    const ref = this.env.runtime.current<LeaseMessage>(this.leaseId);
    if (ref) this.env.runtime.send(ref, message);
  }

  dispatch(): void {
    if (this.inFlight || this.draining || !this.hooks.active()) return;
    if (this.count === 0) return this.hooks.onEmpty();
    const ranges = this.take(this.env.config.batchers.batchSize);
    const taken = ranges.reduce((n, r) => n + r.end - r.start, 0);
    this.setBuffered(this.count - taken, this.count === taken ? 0 : this.bytes - bytesOf(ranges));
    const lastRange = ranges[ranges.length - 1]!;
    const first = sequenceNumberAt(ranges[0]!.page, ranges[0]!.start);
    const resumeAfter = this.resumeInside?.sequenceNumber === first ? this.resumeInside : undefined;
    this.resumeInside = undefined;
    const deaggregation = { hashKeyRange: this.hashKeyRange, resumeAfter };
    const last = sequenceNumberAt(lastRange.page, lastRange.end - 1);
    this.inFlight = { ranges, first, last, attempt: 1, millisBehindLatest: this.stats.millisBehindLatest, deaggregation };
    this.send(this.inFlight);
  }

  receive(message: DispatchMessage): void {
    if (message.type === 'settled') return this.onSettled(message.outcome, message.viaHandleFailed);
    if (!this.inFlight) return;
    if (this.draining) {
      this.inFlight = undefined;
      return this.finishDrain();
    }
    this.send(this.inFlight);
  }

  /** Stops dispatching; `done` runs once the in-flight batch (if any) has settled. */
  drain(done: () => void): void {
    this.draining = true;
    this.drained = done;
    this.buffer = [];
    this.setBuffered(0, 0);
    if (!this.inFlight) this.finishDrain();
  }

  terminate(): void {
    this.buffer = [];
    this.setBuffered(0, 0);
    this.finishDrain();
  }

  private finishDrain(): void {
    const done = this.drained;
    this.drained = undefined;
    done?.();
  }

  private batchInfo(flight: InFlight): BatchInfo {
    return {
      shardId: this.shardId,
      streamName: this.env.config.streamName,
      firstSequenceNumber: flight.first,
      lastSequenceNumber: flight.last,
      attempt: flight.attempt,
      millisBehindLatest: flight.millisBehindLatest,
    };
  }

  private send(flight: InFlight): void {
    if (!this.fence.open(processNow())) return this.hold(flight);
    const records = sliceRecords(flight.ranges);
    const task = { records, info: this.batchInfo(flight), deaggregation: flight.deaggregation, fence: this.fence.buffer };
    const viaHandleFailed = flight.failedWith !== undefined;
    const run = this.env.pool.run(viaHandleFailed ? { kind: 'failed', ...task, error: flight.failedWith! } : { kind: 'batch', ...task }, transferablesOf(records));
    // noted at once, not through the mailbox: a success counts even when this reader's incarnation has ended meanwhile
    const noted = run.then((outcome) => {
      if (outcome.ok) this.stats.handled = laterPosition(this.stats.handled, this.positionOf(flight, outcome.lastSubSequenceNumber));
      return outcome;
    });
    this.ctx.pipe(
      noted,
      (outcome) => ({ type: 'settled', outcome, viaHandleFailed }),
      (error) => ({ type: 'settled', outcome: { ok: false, error: serializeError(error) }, viaHandleFailed }),
    );
  }

  private positionOf(flight: InFlight, lastSubSequenceNumber: number | undefined): Position {
    return { sequenceNumber: flight.last, subSequenceNumber: lastSubSequenceNumber ?? 0 };
  }

  /** The lease is not known renewed in time: the batch waits, and starts once it is (or is dropped with the shard when it is lost). */
  private hold(flight: InFlight): void {
    if (!flight.fenced) {
      flight.fenced = true;
      const error = new KinesisClientError('LEASE_EXPIRED', `shard ${this.shardId}: lease not renewed within failoverMs - safetyMarginMs; batch held until it is`, {
        details: { streamName: this.env.config.streamName, shardId: this.shardId, firstSequenceNumber: flight.first },
      });
      this.env.report({ type: 'error', shardId: this.shardId, error: serializeError(error) });
    }
    this.ctx.sendAfter(FENCE_POLL_MS, { type: 'retry' });
  }

  private onSettled(outcome: BatchOutcome, viaHandleFailed: boolean): void {
    const flight = this.inFlight;
    if (!flight) return;
    const { shardId } = this;
    const batchConfig = this.env.config.batchers;
    if (outcome.ok) {
      this.inFlight = undefined;
      this.lease({ type: 'checkpoint', ...this.positionOf(flight, outcome.lastSubSequenceNumber), idle: this.count === 0 });
      if (this.draining) return this.finishDrain();
      this.dispatch();
      this.hooks.onHandled();
      return;
    }
    if (outcome.fenced) {
      // never started: not an attempt; held until the lease is renewed (or dropped if stopping)
      if (!this.draining) return this.hold(flight);
      this.inFlight = undefined;
      return this.finishDrain();
    }
    flight.fenced = false;
    if (this.draining) {
      // stopping (or a handleFailed abandoned at stop's deadline): the batch stays un-checkpointed and is read again by the next owner
      this.inFlight = undefined;
      return this.finishDrain();
    }
    if (viaHandleFailed) {
      throw new KinesisClientError('BATCH_FAILED', `handleFailed threw for shard ${shardId}`, { cause: deserializeError(outcome.error) });
    }
    if (flight.attempt < batchConfig.maxAttempts) {
      flight.attempt++;
      this.ctx.sendAfter(backoffDelay(flight.attempt - 1, batchConfig.backoff), { type: 'retry' });
      return;
    }
    const error = deserializeError(outcome.error);
    if (this.env.config.consumer.handleFailed) {
      flight.failedWith = outcome.error;
      this.send(flight);
      return;
    }
    throw new KinesisClientError(
      'BATCH_FAILED',
      `handleBatch failed ${flight.attempt} times on shard ${shardId} (records ${flight.first}..); restarting from the last checkpoint`,
      { cause: error, details: { streamName: this.env.config.streamName, shardId, attempts: flight.attempt } },
    );
  }
}
