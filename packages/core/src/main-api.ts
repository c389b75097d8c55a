import type { Emitter } from 'mitt';
import type { BatchOutcome, HostEvent, MainApi, ShardAddress } from '@kinesis-client/worker/internal';
import { BatchOutcomes } from './batch-outcomes.js';
import type { ConsumerPool, PoolTask } from './consumer-pool.js';
import type { EventBridge } from './event-bridge.js';
import type { SystemEvents } from './events.js';

export interface MainApiDeps {
  pool: ConsumerPool;
  events: Emitter<SystemEvents>;
  bridge: EventBridge;
  /** A shard stopped on its thread (the coordinator frees its place). */
  onShardStopped(address: ShardAddress, reason: string): void;
}

/**
 * What the main thread offers the shard-host threads: a way into the consumer pool for their
 * batches (whose outcomes go straight back to them, see consumer-pool.ts) and a way out for their
 * events. What it learns from the outcomes on the side is kept by BatchOutcomes.
 */
export function createMainApi({ pool, events, bridge, onShardStopped }: MainApiDeps) {
  const outcomes = new BatchOutcomes(pool, events);
  const api: MainApi = {
    report: (event: HostEvent) => {
      if (event.type === 'shard:stopped') {
        // its final checkpoint is in the table now; after a loss or a failure the memory may still be ahead of it
        const address = { streamName: event.streamName, shardId: event.shardId };
        if (event.reason === 'ended' || event.reason === 'released') outcomes.forget(address);
        onShardStopped(address, event.reason);
      }
      bridge.host(event);
    },
  };
  return {
    api,
    submit: (task: PoolTask, tell: (outcome: BatchOutcome) => void) => outcomes.submit(task, tell),
    handled: (address: ShardAddress) => outcomes.handledIn(address),
    poolDeaths: () => outcomes.poolDeaths,
  };
}
