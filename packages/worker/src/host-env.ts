import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { ActorRuntime } from './actor/runtime.js';
import type { LeaseStore } from './lease/lease.js';
import type { BatchRunner } from './pool-link.js';
import type { ShardReport } from './events.js';
import type { HostConfig } from './protocol.js';

/** What every actor in a shard-host thread shares: config, clients, the runtime and the way home. */
export interface HostEnv {
  readonly config: HostConfig;
  readonly runtime: ActorRuntime;
  readonly kinesis: KinesisClient;
  /** The HTTP/2 client for SubscribeToShard; only with enhanced fan-out. */
  readonly subscriptionClient?: KinesisClient;
  readonly leases: LeaseStore;
  /** Batches go to the consumer pool through here; their outcomes come straight back. */
  readonly pool: BatchRunner;
  /** A shard's events leave with its stream (ShardSupervisor adds it to what its actors report). */
  report(event: ShardReport): void;
}
