import type { Shard } from '@aws-sdk/client-kinesis';
import { SHARD_END, handingTo, holderOf, type LeaseSnapshot } from '@kinesis-client/worker/lease';
import type { SupervisionNode } from '@kinesis-client/worker/internal';
import type { Health } from '../health.js';
import type { Inspection } from '../inspect.js';
import type { RecentError } from '../observer.js';
import { shardNode } from '../shard-graph.js';

/** One shard of the stream as the dashboard and `/state` show it. */
export interface ShardRow {
  shardId: string;
  /** From ListShards; undefined for a lease whose shard the stream no longer lists. */
  open: boolean | undefined;
  parentShardIds: string[];
  childShardIds: string[];
  /** From the lease store, so other workers' leases show too; undefined: no lease row yet, or free. */
  owner: string | undefined;
  leaseCounter: number | undefined;
  checkpoint: string | undefined;
  /** A worker asked the owner to hand the lease over. */
  handoffTo: string | undefined;
  /** Shards this worker runs: the thread and the lag. */
  threadId: number | undefined;
  millisBehindLatest: number | undefined;
  /** Handled by this worker, over the last 5 s. */
  recordsPerSecond: number;
}

export interface DashboardState {
  at: number;
  workerId: string;
  appName: string;
  streamName: string;
  health: Health;
  shards: ShardRow[];
  /** Unfinished leases per owner across the application (from the store); this worker always listed. */
  workers: { workerId: string; leases: number; self: boolean }[];
  freeLeases: number;
  tree: SupervisionNode;
  errors: RecentError[];
  /** Records/s handled by this worker per shard, one value per second, the last ending at `endsAt`. */
  series: { endsAt: number; perShard: Record<string, number[]> };
}

export interface StateParts {
  at: number;
  workerId: string;
  appName: string;
  streamName: string;
  health: Health;
  listed: readonly Shard[];
  leases: readonly LeaseSnapshot[];
  inspection: Inspection;
  errors: readonly RecentError[];
  rate(shardId: string): number;
  millisBehind(shardId: string): number | undefined;
  series: DashboardState['series'];
}

const byShardId = (a: { shardId: string }, b: { shardId: string }) => a.shardId.localeCompare(b.shardId, 'en', { numeric: true });

/** Joins ListShards, the lease store and this worker's own view into one picture. Pure. */
export function buildState(p: StateParts): DashboardState {
  const nodes = new Map(p.listed.map((s) => [s.ShardId!, shardNode(s)]));
  const leases = new Map(p.leases.map((l) => [l.leaseKey, l]));
  const here = new Map(p.inspection.shards.filter((s) => s.streamName === p.streamName).map((s) => [s.shardId, s]));
  const children = new Map<string, Set<string>>();
  for (const node of nodes.values()) {
    for (const parent of node.parentShardIds) children.set(parent, (children.get(parent) ?? new Set()).add(node.shardId));
  }
  for (const lease of p.leases) for (const child of lease.childShardIds) children.set(lease.leaseKey, (children.get(lease.leaseKey) ?? new Set()).add(child));
  const ids = new Set([...nodes.keys(), ...leases.keys()]);
  const shards = [...ids].map((shardId): ShardRow => {
    const node = nodes.get(shardId);
    const lease = leases.get(shardId);
    const view = here.get(shardId);
    return {
      shardId,
      open: node ? !node.closed : undefined,
      parentShardIds: node?.parentShardIds ?? lease?.parentShardIds ?? [],
      childShardIds: [...(children.get(shardId) ?? [])].sort(),
      // during a handoff the old owner still processes the shard: it is shown, the new one after the arrow
      owner: lease && holderOf(lease),
      leaseCounter: lease?.leaseCounter,
      checkpoint: lease?.checkpoint,
      handoffTo: lease && handingTo(lease),
      threadId: view?.threadId,
      millisBehindLatest: view?.millisBehindLatest ?? (lease && holderOf(lease) === p.workerId ? p.millisBehind(shardId) : undefined),
      recordsPerSecond: p.rate(shardId),
    };
  });
  shards.sort(byShardId);
  const counts = new Map<string, number>([[p.workerId, 0]]);
  let freeLeases = 0;
  for (const lease of p.leases) {
    if (lease.checkpoint === SHARD_END) continue;
    const holder = holderOf(lease);
    if (holder === undefined) freeLeases++;
    else counts.set(holder, (counts.get(holder) ?? 0) + 1);
  }
  const workers = [...counts].map(([workerId, n]) => ({ workerId, leases: n, self: workerId === p.workerId })).sort((a, b) => a.workerId.localeCompare(b.workerId));
  return {
    at: p.at,
    workerId: p.workerId,
    appName: p.appName,
    streamName: p.streamName,
    health: p.health,
    shards,
    workers,
    freeLeases,
    tree: p.inspection.tree,
    errors: [...p.errors].reverse(),
    series: p.series,
  };
}
