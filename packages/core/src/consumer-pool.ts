import { Piscina } from 'piscina';
import { KinesisClientError, type BatchInfo } from '@kinesis-client/worker';
import {
  deserializeError,
  poolEntryUrl,
  serializeError,
  transferablesOf,
  type BatchOutcome,
  type BatchTask,
  type ConsumerCapabilities,
  type DescribeOutcome,
  type FailedTask,
  type PoolWorkerData,
} from '@kinesis-client/worker/internal';

export type PoolTask = BatchTask | FailedTask;

/** A task's end as the main thread sees it, once its pool thread is free again. */
export interface Settled {
  outcome: BatchOutcome;
  /** From the task's start in a pool thread; 0 for a task that never started. */
  durationMs: number;
}

interface Queued {
  task: PoolTask;
  shard: string;
  /** An outcome the pool thread could not send to the task's host itself. */
  tell(outcome: BatchOutcome): void;
  settle(settled: Settled): void;
}

interface Running extends Queued {
  controller: AbortController;
  timer: NodeJS.Timeout | undefined;
  startedAt: number;
}

const failure = (error: KinesisClientError): BatchOutcome => ({ ok: false, error: serializeError(error) });
const shardOf = (task: PoolTask) => `${task.info.streamName}/${task.info.shardId}`;

/**
 * The Piscina pool that runs the user's consumer module. Batches arrive from the shard hosts
 * already packed and are transferred on to a pool thread untouched, with the port on which that
 * thread answers the host directly; the main thread only sees each outcome afterwards.
 *
 * A shard's batches run one at a time and in the order they came, whoever sent them. This is the
 * one place that rule is kept: a reader restarted after a crash, or a shard placed on another
 * thread after its host died, replays from its checkpoint while the batch of the incarnation
 * before may still be running here, and only the pool sees the batches of every incarnation and
 * every thread. (A shard's dispatcher has one batch out at a time, but only because what it sends
 * next depends on that batch's outcome: a retry or the next batch.)
 *
 * Tasks are handed to Piscina only when a thread is free for them, so a task's clock
 * (`batchers.timeoutMs`) starts when it can run, not while it waits behind other batches.
 * A task past its time is aborted: Piscina then terminates the thread running it (the only way to
 * stop code that never yields or never settles) and starts a replacement.
 *
 * One thread starts with the pool, for the start-up check (`describe`); the others start once the
 * system has started (`fill`), so they do not take CPU from the shard-host threads while those load
 * and take their first leases: on two cores that brought the first batch about 75 ms sooner.
 */
export class ConsumerPool {
  private readonly piscina: Piscina;
  private closed = false;
  private readonly waiting: Queued[] = [];
  private readonly running = new Set<Running>();
  /** Shards with a task running. */
  private readonly busy = new Set<string>();
  private idleWaiters: (() => void)[] = [];

  constructor(
    consumerUrl: string,
    private readonly concurrency: number,
    /** 0: no limit. */
    private readonly timeoutMs: number,
  ) {
    const workerData: PoolWorkerData = { consumerUrl };
    this.piscina = new Piscina({
      filename: poolEntryUrl.href,
      minThreads: 1,
      maxThreads: concurrency,
      // no queue limit: tasks reach Piscina only when a thread is free (see startWaiting); Piscina's
      // 'auto' limit (threads²) would otherwise reject batches of a worker holding many shards
      idleTimeout: Number.POSITIVE_INFINITY,
      workerData,
    });
  }

  /**
   * Starts the threads beyond the first, each loading the consumer: Piscina starts a thread for
   * every task that finds none free, up to `concurrency`, and keeps it (no idle timeout).
   */
  fill(): void {
    for (let i = 0; i < this.concurrency && !this.closed; i++) void this.piscina.run({ kind: 'describe' }).catch(() => undefined);
  }

  /** Loads the consumer in a pool thread: a module that cannot load or lacks handleBatch fails here, at start. */
  async describe(): Promise<ConsumerCapabilities> {
    const outcome = (await this.piscina.run({ kind: 'describe' })) as DescribeOutcome;
    if (!outcome.ok) throw deserializeError(outcome.error);
    return outcome.capabilities;
  }

  /**
   * Runs a task from a shard host, after any earlier task of its shard. Its outcome reaches the
   * host from the pool thread (task.replyTo); one the pool thread could not send (its thread died
   * or timed out, or the task never started) goes through `tell`. Resolves with the outcome either
   * way, once the pool is done with the task.
   */
  run(task: PoolTask, tell: (outcome: BatchOutcome) => void): Promise<Settled> {
    return new Promise((settle) => {
      const queued: Queued = { task, shard: shardOf(task), tell, settle };
      if (this.closed) return this.refuse(queued, new KinesisClientError('SYSTEM_STOPPED', 'the consumer pool is closed'));
      this.waiting.push(queued);
      this.startWaiting();
    });
  }

  /** Resolves once no task runs or waits. */
  idle(): Promise<void> {
    if (this.running.size === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private startWaiting(): void {
    while (this.running.size < this.concurrency) {
      const next = this.waiting.findIndex((q) => !this.busy.has(q.shard));
      if (next < 0) break;
      this.start(this.waiting.splice(next, 1)[0]!);
    }
    if (this.running.size === 0 && this.waiting.length === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private start(queued: Queued): void {
    const { task } = queued;
    const entry: Running = { ...queued, controller: new AbortController(), timer: undefined, startedAt: performance.now() };
    this.running.add(entry);
    this.busy.add(entry.shard);
    if (this.timeoutMs > 0) {
      entry.timer = setTimeout(() => {
        const what = task.kind === 'failed' ? 'handleFailed' : 'handleBatch';
        const { streamName, shardId, firstSequenceNumber, attempt } = task.info;
        this.abandon(
          entry,
          new KinesisClientError('BATCH_TIMEOUT', `${what} on shard ${shardId} (records ${firstSequenceNumber}..) did not settle within ${this.timeoutMs} ms; its pool thread was replaced`, {
            details: { streamName, shardId, firstSequenceNumber, attempt, timeoutMs: this.timeoutMs },
          }),
        );
      }, this.timeoutMs);
    }
    const transferList = [...transferablesOf(task.records), ...(task.replyTo ? [task.replyTo] : [])];
    (this.piscina.run(task, { transferList, signal: entry.controller.signal }) as Promise<BatchOutcome>).then(
      (outcome) => this.finish(entry, outcome, false),
      (error: unknown) =>
        this.finish(
          entry,
          {
            ok: false,
            poolDied: true,
            error: serializeError(new KinesisClientError('POOL_WORKER_DIED', `consumer pool thread failed: ${(error as Error)?.message ?? error}`, { cause: error })),
          },
          true,
        ),
    );
  }

  /** Settles a task once, whichever comes first: its outcome, its timeout or stop's deadline. */
  private finish(entry: Running, outcome: BatchOutcome, tell: boolean): void {
    if (!this.running.delete(entry)) return;
    this.busy.delete(entry.shard);
    clearTimeout(entry.timer);
    if (tell) entry.tell(outcome);
    entry.settle({ outcome, durationMs: performance.now() - entry.startedAt });
    this.startWaiting();
  }

  /** The task's thread is terminated (Piscina does so for an aborted running task) and replaced. */
  private abandon(entry: Running, error: KinesisClientError): void {
    if (!this.running.has(entry)) return;
    entry.controller.abort(error);
    this.finish(entry, failure(error), true);
  }

  /** A task that never reached a pool thread: its port is still here, and closed. */
  private refuse(queued: Queued, error: KinesisClientError): void {
    const outcome = failure(error);
    queued.tell(outcome);
    queued.task.replyTo?.close();
    queued.settle({ outcome, durationMs: 0 });
  }

  /**
   * stop()'s deadline: no new task starts, queued ones fail as SYSTEM_STOPPED, and running ones are
   * abandoned (their threads terminated) without a checkpoint. Returns the abandoned batches.
   */
  abandonAll(): BatchInfo[] {
    this.closed = true;
    const stopped = new KinesisClientError('SYSTEM_STOPPED', 'the system stopped before this batch could start');
    for (const queued of this.waiting.splice(0)) this.refuse(queued, stopped);
    const abandoned = [...this.running];
    this.startWaiting();
    for (const entry of abandoned) {
      const { streamName, shardId, firstSequenceNumber } = entry.task.info;
      this.abandon(
        entry,
        new KinesisClientError('SYSTEM_STOPPED', `stop() reached its deadline while shard ${shardId}'s batch (records ${firstSequenceNumber}..) was running; abandoned without a checkpoint`, {
          details: { streamName, shardId, firstSequenceNumber },
        }),
      );
    }
    return abandoned.map((entry) => entry.task.info);
  }

  /** Ends every pool thread; whatever still runs is abandoned (returned). */
  async close(): Promise<BatchInfo[]> {
    const abandoned = this.abandonAll();
    await this.piscina.destroy();
    return abandoned;
  }
}
