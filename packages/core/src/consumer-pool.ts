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

interface Queued {
  task: BatchTask | FailedTask;
  settle(outcome: BatchOutcome): void;
}

interface Running extends Queued {
  controller: AbortController;
  timer: NodeJS.Timeout | undefined;
}

const failure = (error: KinesisClientError): BatchOutcome => ({ ok: false, error: serializeError(error) });

/**
 * The Piscina pool that runs the user's consumer module. Batches arrive from the shard hosts
 * already packed and are transferred on to a pool thread untouched.
 *
 * Tasks are handed to Piscina only when a thread is free for them, so a task's clock
 * (`batchers.timeoutMs`) starts when it can run, not while it waits behind other shards' batches.
 * A task past its time is aborted: Piscina then terminates the thread running it (the only way to
 * stop code that never yields or never settles) and starts a replacement.
 */
export class ConsumerPool {
  private readonly piscina: Piscina;
  private closed = false;
  private readonly waiting: Queued[] = [];
  private readonly running = new Set<Running>();
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
      minThreads: concurrency,
      maxThreads: concurrency,
      // no queue limit: each shard has at most one batch in flight (create-system chains them per
      // shard), so the queue is bounded by the shard count; Piscina's 'auto' limit (threads²) would
      // reject batches of a worker holding more shards than that
      idleTimeout: Number.POSITIVE_INFINITY,
      workerData,
    });
  }

  /** Loads the consumer in a pool thread: a module that cannot load or lacks handleBatch fails here, at start. */
  async describe(): Promise<ConsumerCapabilities> {
    const outcome = (await this.piscina.run({ kind: 'describe' })) as DescribeOutcome;
    if (!outcome.ok) throw deserializeError(outcome.error);
    return outcome.capabilities;
  }

  run(task: BatchTask | FailedTask): Promise<BatchOutcome> {
    if (this.closed) return Promise.resolve(failure(new KinesisClientError('SYSTEM_STOPPED', 'the consumer pool is closed')));
    return new Promise((settle) => {
      this.waiting.push({ task, settle });
      this.startWaiting();
    });
  }

  /** Resolves once no task runs or waits. */
  idle(): Promise<void> {
    if (this.running.size === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private startWaiting(): void {
    while (this.running.size < this.concurrency && this.waiting.length > 0) this.start(this.waiting.shift()!);
    if (this.running.size === 0 && this.waiting.length === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private start({ task, settle }: Queued): void {
    const entry: Running = { task, settle, controller: new AbortController(), timer: undefined };
    this.running.add(entry);
    if (this.timeoutMs > 0) {
      entry.timer = setTimeout(() => {
        const what = task.kind === 'failed' ? 'handleFailed' : 'handleBatch';
        const { shardId, firstSequenceNumber, attempt } = task.info;
        this.abandon(
          entry,
          new KinesisClientError('BATCH_TIMEOUT', `${what} on shard ${shardId} (records ${firstSequenceNumber}..) did not settle within ${this.timeoutMs} ms; its pool thread was replaced`, {
            details: { shardId, firstSequenceNumber, attempt, timeoutMs: this.timeoutMs },
          }),
        );
      }, this.timeoutMs);
    }
    (this.piscina.run(task, { transferList: transferablesOf(task.records), signal: entry.controller.signal }) as Promise<BatchOutcome>).then(
      (outcome) => this.finish(entry, outcome),
      (error: unknown) =>
        this.finish(entry, {
          ok: false,
          poolDied: true,
          error: serializeError(new KinesisClientError('POOL_WORKER_DIED', `consumer pool thread failed: ${(error as Error)?.message ?? error}`, { cause: error })),
        }),
    );
  }

  /** Settles a task once, whichever comes first: its outcome, its timeout or stop's deadline. */
  private finish(entry: Running, outcome: BatchOutcome): void {
    if (!this.running.delete(entry)) return;
    clearTimeout(entry.timer);
    entry.settle(outcome);
    this.startWaiting();
  }

  /** The task's thread is terminated (Piscina does so for an aborted running task) and replaced. */
  private abandon(entry: Running, error: KinesisClientError): void {
    if (!this.running.has(entry)) return;
    entry.controller.abort(error);
    this.finish(entry, failure(error));
  }

  /**
   * stop()'s deadline: no new task starts, queued ones fail as SYSTEM_STOPPED, and running ones are
   * abandoned (their threads terminated) without a checkpoint. Returns the abandoned batches.
   */
  abandonAll(): BatchInfo[] {
    this.closed = true;
    const stopped = new KinesisClientError('SYSTEM_STOPPED', 'the system stopped before this batch could start');
    for (const queued of this.waiting.splice(0)) queued.settle(failure(stopped));
    const abandoned = [...this.running];
    this.startWaiting();
    for (const entry of abandoned) {
      const { shardId, firstSequenceNumber } = entry.task.info;
      this.abandon(
        entry,
        new KinesisClientError('SYSTEM_STOPPED', `stop() reached its deadline while shard ${shardId}'s batch (records ${firstSequenceNumber}..) was running; abandoned without a checkpoint`, {
          details: { shardId, firstSequenceNumber },
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
