import * as Comlink from 'comlink';
import { backoffDelay } from '../backoff.js';
import type { ActorContext } from '../actor/runtime.js';
import { packRecords, transferablesOf, type RawRecord } from '../batch-codec.js';
import type { BatchInfo } from '../consumer.js';
import { KinesisClientError, deserializeError, serializeError } from '../errors.js';
import type { HostEnv } from '../host-env.js';
import type { HashKeyRange, ResumePoint } from '../kpl/expand.js';
import type { LeaseMessage } from '../lease/lease-actor.js';
import type { BatchOutcome, Deaggregation } from '../protocol.js';

/** The messages a reader forwards to its dispatcher: part of every reader's own message union. */
export type DispatchMessage = { type: 'settled'; outcome: BatchOutcome; viaHandleFailed: boolean } | { type: 'retry' };

export interface ReaderStats {
  bufferedRecords: number;
  millisBehindLatest: number | undefined;
  getRecordsCalls: number;
  getShardIteratorCalls: number;
  /** SubscribeToShard calls made for the shard; fan-out only. */
  subscriptions?: number;
}

interface InFlight {
  records: RawRecord[];
  attempt: number;
  millisBehindLatest: number | undefined;
  deaggregation: Deaggregation;
}

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
 * the last checkpoint), and a drain lets the in-flight batch settle first.
 */
export class BatchDispatcher {
  private buffer: RawRecord[] = [];
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
    private readonly hooks: DispatchHooks,
  ) {}

  /** The reader starts again at an aggregate (AT_SEQUENCE_NUMBER) whose first user records are done. */
  resumeAt(point: ResumePoint): void {
    this.resumeInside = point;
  }

  get buffered(): number {
    return this.buffer.length;
  }

  /** Records in shard order, after those already buffered. */
  append(records: RawRecord[]): void {
    if (this.draining || records.length === 0) return;
    if (this.buffer.length === 0) this.buffer = records;
    else for (const r of records) this.buffer.push(r);
    this.stats.bufferedRecords = this.buffer.length;
  }

  lease(message: LeaseMessage): void {
    const ref = this.env.runtime.current<LeaseMessage>(this.leaseId);
    if (ref) this.env.runtime.send(ref, message);
  }

  dispatch(): void {
    if (this.inFlight || this.draining || !this.hooks.active()) return;
    if (this.buffer.length === 0) return this.hooks.onEmpty();
    const size = this.env.config.batch.size;
    const records = this.buffer.length <= size ? this.buffer : this.buffer.slice(0, size);
    this.buffer = records === this.buffer ? [] : this.buffer.slice(size);
    this.stats.bufferedRecords = this.buffer.length;
    const resumeAfter = this.resumeInside?.sequenceNumber === records[0]!.SequenceNumber ? this.resumeInside : undefined;
    this.resumeInside = undefined;
    const deaggregation = { hashKeyRange: this.hashKeyRange, resumeAfter };
    this.inFlight = { records, attempt: 1, millisBehindLatest: this.stats.millisBehindLatest, deaggregation };
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
    this.stats.bufferedRecords = 0;
    if (!this.inFlight) this.finishDrain();
  }

  terminate(): void {
    this.buffer = [];
    this.stats.bufferedRecords = 0;
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
      firstSequenceNumber: flight.records[0]!.SequenceNumber!,
      lastSequenceNumber: flight.records[flight.records.length - 1]!.SequenceNumber!,
      attempt: flight.attempt,
      millisBehindLatest: flight.millisBehindLatest,
    };
  }

  private send(flight: InFlight): void {
    const records = packRecords(flight.records);
    this.ctx.pipe(
      this.env.main.runBatch(
        Comlink.transfer({ kind: 'batch', records, info: this.batchInfo(flight), deaggregation: flight.deaggregation }, transferablesOf(records)),
      ),
      (outcome) => ({ type: 'settled', outcome, viaHandleFailed: false }),
      (error) => ({ type: 'settled', outcome: { ok: false, error: serializeError(error) }, viaHandleFailed: false }),
    );
  }

  private onSettled(outcome: BatchOutcome, viaHandleFailed: boolean): void {
    const flight = this.inFlight;
    if (!flight) return;
    const { shardId } = this;
    const batchConfig = this.env.config.batch;
    if (outcome.ok) {
      this.inFlight = undefined;
      const last = flight.records[flight.records.length - 1]!;
      this.lease({ type: 'checkpoint', sequenceNumber: last.SequenceNumber!, subSequenceNumber: outcome.lastSubSequenceNumber ?? 0 });
      if (this.draining) return this.finishDrain();
      this.dispatch();
      this.hooks.onHandled();
      return;
    }
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
      const records = packRecords(flight.records);
      this.ctx.pipe(
        this.env.main.runFailed(
          Comlink.transfer(
            { kind: 'failed', records, info: this.batchInfo(flight), deaggregation: flight.deaggregation, error: outcome.error },
            transferablesOf(records),
          ),
        ),
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
  }
}
