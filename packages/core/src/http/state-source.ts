import type { KinesisClient, Shard } from '@aws-sdk/client-kinesis';
import { leaseAddress, type LeaseSnapshot, type LeaseStore } from '@kinesis-client/worker/lease';
import type { Inspection } from '../inspect.js';
import type { Monitor } from '../monitor.js';
import { listAllShards } from '../shard-graph.js';
import { buildState, type DashboardState, type StreamListing } from './state.js';

/** ListShards is limited per stream: each stream's shard list is read again at most this often (and after one of its shards ends). */
const SHARD_LIST_MS = 10_000;

export interface StateSourceDeps {
  workerId: string;
  appName: string;
  /** The system's streams now (they change with addStream / removeStream); the first is the stream of bare shard-id lease keys. */
  streams(): readonly string[];
  kinesis: KinesisClient;
  leases: LeaseStore;
  /** The system's inspection, with the leases already read. */
  inspect(leases: LeaseSnapshot[]): Promise<Inspection>;
  monitor: Monitor;
}

const missing = (error: unknown) => (error as { name?: string } | undefined)?.name === 'ResourceNotFoundException';

/** Reads what `/state` and the dashboard show: each stream's shard list (cached), every lease, this worker's tree. */
export class StateSource {
  /** Per stream; `shards` undefined: Kinesis has no such stream. */
  private readonly listed = new Map<string, { at: number; shards: Shard[] | undefined }>();
  /** The first stream the system had: bare shard-id keys stay its leases whatever is added later. */
  private readonly defaultStream: string;

  constructor(private readonly deps: StateSourceDeps) {
    this.defaultStream = deps.streams()[0]!;
    deps.monitor.observer.onLeaseChange((change) => {
      if (change.type === 'shard:ended') this.listed.delete(change.streamName);
    });
  }

  async read(): Promise<DashboardState> {
    const { deps } = this;
    const observer = deps.monitor.observer;
    const own = deps.streams();
    const listing = (configured: boolean) => async (streamName: string) => ({ streamName, listed: await this.shards(streamName), configured });
    const [leases, ownListed] = await Promise.all([deps.leases.scan(), Promise.all(own.map(listing(true)))]);
    // a stream only the leases name (removed from the system, its rows kept) is shown too
    const named = [...new Set(leases.map((l) => leaseAddress(l, this.defaultStream).streamName))].filter((s) => !own.includes(s)).sort();
    const streams: StreamListing[] = [...ownListed, ...(await Promise.all(named.map(listing(false))))];
    const inspection = await deps.inspect(leases);
    return buildState({
      at: Date.now(),
      workerId: deps.workerId,
      appName: deps.appName,
      streams,
      health: deps.monitor.health(),
      leases,
      inspection,
      errors: observer.errors,
      rate: (shard) => observer.rate(shard),
      millisBehind: (shard) => observer.millisBehind(shard),
      series: observer.series(),
    });
  }

  private async shards(streamName: string): Promise<Shard[] | undefined> {
    const last = this.listed.get(streamName);
    if (last && Date.now() - last.at < SHARD_LIST_MS) return last.shards;
    let shards: Shard[] | undefined;
    try {
      shards = await listAllShards(this.deps.kinesis, streamName);
    } catch (error) {
      if (!missing(error)) {
        // a failed listing keeps showing the last one rather than no shard at all
        if (last) return last.shards;
        throw error;
      }
    }
    this.listed.set(streamName, { at: Date.now(), shards });
    return shards;
  }
}
