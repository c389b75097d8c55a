import type { Emitter } from 'mitt';
import { deserializeError, laterPosition, shardKey, type BatchOutcome, type Position, type ShardAddress } from '@kinesis-client/worker/internal';
import type { ConsumerPool, PoolTask } from './consumer-pool.js';
import type { SystemEvents } from './events.js';

/**
 * What the main thread makes of the batches it passes to the pool, after the fact (no shard host
 * waits on it): the `batch:handled` and `batch:failed` events, the count of pool-thread deaths,
 * and each shard's last handled position, which the coordinator passes to a shard placed again
 * after its thread died (docs/positions.md).
 */
export class BatchOutcomes {
  poolDeaths = 0;
  private readonly handled = new Map<string, Position>();
  /** Tasks per shard that the pool has not finished yet. */
  private readonly inPool = new Map<string, number>();
  /** Shards to forget once the tasks they had in the pool when they stopped have finished: how many are left. */
  private readonly forgetting = new Map<string, number>();

  constructor(
    private readonly pool: Pick<ConsumerPool, 'run'>,
    private readonly events: Emitter<SystemEvents>,
  ) {}

  /** A task from a shard host; `tell` reaches that host (see ConsumerPool.run). */
  submit(task: PoolTask, tell: (outcome: BatchOutcome) => void): void {
    const shardId = shardKey(task.info);
    this.inPool.set(shardId, (this.inPool.get(shardId) ?? 0) + 1);
    void this.pool.run(task, tell).then(({ outcome, durationMs }) => {
      const left = this.inPool.get(shardId)! - 1;
      if (left > 0) this.inPool.set(shardId, left);
      else this.inPool.delete(shardId);
      this.observe(task, outcome, durationMs);
      const older = this.forgetting.get(shardId);
      if (older === undefined) return;
      // a shard's tasks finish in the order they came: these are the ones from before it stopped
      if (older > 1) return void this.forgetting.set(shardId, older - 1);
      this.forgetting.delete(shardId);
      this.handled.delete(shardId);
    });
  }

  /** The last position this process handled in the shard, from the batches' own outcomes. */
  handledIn(address: ShardAddress): Position | undefined {
    return this.handled.get(shardKey(address));
  }

  /** The shard's final checkpoint is in the table (ended, released): the map stays as small as the shards held. */
  forget(address: ShardAddress): void {
    const shardId = shardKey(address);
    this.handled.delete(shardId);
    // an outcome the pool has not reported yet would bring it back
    const inPool = this.inPool.get(shardId);
    if (inPool) this.forgetting.set(shardId, inPool);
  }

  private observe(task: PoolTask, outcome: BatchOutcome, durationMs: number): void {
    const { info } = task;
    if (outcome.ok) {
      const position = { sequenceNumber: info.lastSequenceNumber, subSequenceNumber: outcome.lastSubSequenceNumber ?? 0 };
      const key = shardKey(info);
      this.handled.set(key, laterPosition(this.handled.get(key), position)!);
    }
    // handleFailed calls are the end of a batch's failures, already reported
    if (task.kind !== 'batch') return;
    if (outcome.ok) {
      this.events.emit('batch:handled', {
        streamName: info.streamName,
        shardId: info.shardId,
        count: task.records.count,
        firstSequenceNumber: info.firstSequenceNumber,
        lastSequenceNumber: info.lastSequenceNumber,
        attempt: info.attempt,
        millisBehindLatest: info.millisBehindLatest,
        durationMs,
      });
    } else if (!outcome.fenced) {
      // a batch the lease fence kept from starting did not fail: it is sent again once the lease is renewed
      if (outcome.poolDied) this.poolDeaths++;
      this.events.emit('batch:failed', { streamName: info.streamName, shardId: info.shardId, attempt: info.attempt, error: deserializeError(outcome.error), poolDied: !!outcome.poolDied });
    }
  }
}
