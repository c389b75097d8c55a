import type { Emitter } from 'mitt';
import { deserializeError, laterPosition, type BatchOutcome, type BatchTask, type FailedTask, type HostEvent, type MainApi, type Position } from '@kinesis-client/worker/internal';
import type { ConsumerPool } from './consumer-pool.js';
import type { EventBridge } from './event-bridge.js';
import type { SystemEvents } from './events.js';

export interface MainApiDeps {
  pool: ConsumerPool;
  events: Emitter<SystemEvents>;
  bridge: EventBridge;
  /** A shard stopped on its thread (the coordinator frees its place). */
  onShardStopped(shardId: string, reason: string): void;
}

/**
 * What the main thread offers the shard-host threads: running batches in the consumer pool and
 * receiving their events. It also remembers each shard's last handled position, from the batches'
 * own outcomes, so a shard retaken after its thread died resumes after it even where its
 * checkpoint was never written.
 */
export function createMainApi({ pool, events, bridge, onShardStopped }: MainApiDeps) {
  const handled = new Map<string, Position>();
  let poolDeaths = 0;

  /**
   * One batch per shard in the pool at a time, whoever sends it: a reader restarted after a crash,
   * or a shard retaken after its thread died, replays from its checkpoint while the old
   * incarnation's batch may still be running in the pool. The replay waits for it, so a shard's
   * batches never run concurrently or out of order.
   */
  const shardTails = new Map<string, Promise<unknown>>();
  const afterShardsBatch = <T>(shardId: string, run: () => Promise<T>): Promise<T> => {
    const result = (shardTails.get(shardId) ?? Promise.resolve()).then(run);
    const tail = result.catch(() => undefined);
    shardTails.set(shardId, tail);
    void tail.then(() => {
      if (shardTails.get(shardId) === tail) shardTails.delete(shardId);
    });
    return result;
  };

  const noteHandled = (task: BatchTask | FailedTask, outcome: BatchOutcome) => {
    if (!outcome.ok) return;
    const position = { sequenceNumber: task.info.lastSequenceNumber, subSequenceNumber: outcome.lastSubSequenceNumber ?? 0 };
    handled.set(task.info.shardId, laterPosition(handled.get(task.info.shardId), position)!);
  };

  /** A batch or a handleFailed call in the pool, in its shard's order, its outcome noted for the shard. */
  const runInOrder = (task: BatchTask | FailedTask, after?: (outcome: BatchOutcome, durationMs: number) => void) =>
    afterShardsBatch(task.info.shardId, async () => {
      const started = performance.now();
      const outcome = await pool.run(task);
      noteHandled(task, outcome);
      after?.(outcome, performance.now() - started);
      return outcome;
    });

  const api: MainApi = {
    runBatch: (task) =>
      runInOrder(task, (outcome, durationMs) => {
        if (outcome.ok) {
          events.emit('batch:handled', {
            shardId: task.info.shardId,
            count: task.records.count,
            firstSequenceNumber: task.info.firstSequenceNumber,
            lastSequenceNumber: task.info.lastSequenceNumber,
            attempt: task.info.attempt,
            millisBehindLatest: task.info.millisBehindLatest,
            durationMs,
          });
        } else if (!outcome.fenced) {
          // a batch the lease fence kept from starting did not fail: it is sent again once the lease is renewed
          if (outcome.poolDied) poolDeaths++;
          events.emit('batch:failed', { shardId: task.info.shardId, attempt: task.info.attempt, error: deserializeError(outcome.error), poolDied: !!outcome.poolDied });
        }
      }),
    runFailed: (task) => runInOrder(task),
    report: (event: HostEvent) => {
      if (event.type === 'shard:stopped') {
        // its final checkpoint is in the table now; after a loss or a failure the memory may still be ahead of it
        if (event.reason === 'ended' || event.reason === 'released') handled.delete(event.shardId);
        onShardStopped(event.shardId, event.reason);
      }
      bridge.host(event);
    },
  };

  return { api, handled: (shardId: string) => handled.get(shardId), poolDeaths: () => poolDeaths };
}
