import { Piscina } from 'piscina';
import {
  KinesisClientError,
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
} from '@kinesis-client/worker';

/**
 * The Piscina pool that runs the user's consumer module. Batches arrive from the shard hosts
 * already packed and are transferred on to a pool thread untouched.
 */
export class ConsumerPool {
  private readonly piscina: Piscina;
  private closed = false;

  constructor(consumerUrl: string, concurrency: number) {
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
    if (this.closed) {
      return Promise.resolve({ ok: false, error: serializeError(new KinesisClientError('SYSTEM_STOPPED', 'the consumer pool is closed')) });
    }
    return (this.piscina.run(task, { transferList: transferablesOf(task.records) }) as Promise<BatchOutcome>).catch(
      (error: unknown): BatchOutcome => ({
        ok: false,
        poolDied: true,
        error: serializeError(new KinesisClientError('POOL_WORKER_DIED', `consumer pool thread failed: ${(error as Error)?.message ?? error}`, { cause: error })),
      }),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.piscina.close({ force: false });
  }
}
