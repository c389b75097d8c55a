import type { KinesisClient, Shard } from '@aws-sdk/client-kinesis';
import type { LeaseSnapshot, LeaseStore } from '@kinesis-client/worker/lease';
import type { Inspection } from '../inspect.js';
import type { Monitor } from '../monitor.js';
import { listAllShards } from '../shard-graph.js';
import { buildState, type DashboardState } from './state.js';

/** ListShards is limited per stream: the shard list is read again at most this often (and after a shard ends). */
const SHARD_LIST_MS = 10_000;

export interface StateSourceDeps {
  workerId: string;
  appName: string;
  streamName: string;
  kinesis: KinesisClient;
  leases: LeaseStore;
  /** The system's inspection, with the leases already read. */
  inspect(leases: LeaseSnapshot[]): Promise<Inspection>;
  monitor: Monitor;
}

/** Reads what `/state` and the dashboard show: the shard list (cached), every lease, this worker's tree. */
export class StateSource {
  private listed: { at: number; shards: Shard[] } | undefined;

  constructor(private readonly deps: StateSourceDeps) {
    deps.monitor.observer.onLeaseChange((change) => {
      if (change.type === 'shard:ended') this.listed = undefined;
    });
  }

  async read(): Promise<DashboardState> {
    const { deps } = this;
    const observer = deps.monitor.observer;
    const [listed, leases] = await Promise.all([this.shards(), deps.leases.scan()]);
    const inspection = await deps.inspect(leases);
    return buildState({
      at: Date.now(),
      workerId: deps.workerId,
      appName: deps.appName,
      streamName: deps.streamName,
      health: deps.monitor.health(),
      listed,
      leases,
      inspection,
      errors: observer.errors,
      rate: (shardId) => observer.rate(shardId),
      millisBehind: (shardId) => observer.millisBehind(shardId),
      series: observer.series(),
    });
  }

  private async shards(): Promise<Shard[]> {
    if (this.listed && Date.now() - this.listed.at < SHARD_LIST_MS) return this.listed.shards;
    // a failed listing keeps showing the last one rather than no shard at all
    const shards = await listAllShards(this.deps.kinesis, this.deps.streamName).catch((error: unknown) => {
      if (this.listed) return this.listed.shards;
      throw error;
    });
    this.listed = { at: Date.now(), shards };
    return shards;
  }
}
