import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { ActorRuntime } from './actor/runtime.js';
import type { LeaseStore } from './lease/lease.js';
import type { HostConfig, HostEvent, MainApi } from './protocol.js';

/** What every actor in a shard-host thread shares: config, clients, the runtime and the way home. */
export interface HostEnv {
  readonly config: HostConfig;
  readonly runtime: ActorRuntime;
  readonly kinesis: KinesisClient;
  /** The HTTP/2 client for SubscribeToShard; only with enhanced fan-out. */
  readonly subscriptionClient?: KinesisClient;
  readonly leases: LeaseStore;
  readonly main: Pick<MainApi, 'runBatch' | 'runFailed'>;
  report(event: HostEvent): void;
}
