import type { Shard } from '@aws-sdk/client-kinesis';
import { SHARD_END, handingTo, holderOf, leaseAddress, type LeaseSnapshot } from '@kinesis-client/worker/lease';
import { shardKey, type ShardAddress, type SupervisionNode } from '@kinesis-client/worker/internal';
import type { Health } from '../health.js';
import type { Inspection } from '../inspect.js';
import type { RecentError } from '../observer.js';
import { shardNode } from '../shard-graph.js';

/** One shard of a stream as the dashboard and `/state` show it. */
export interface ShardRow {
  streamName: string;
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

/** One stream: of the system (`configured`), or only named by leases in the store (a stream removed, its rows kept). */
export interface StreamState {
  streamName: string;
  configured: boolean;
  /** false: ListShards found no such stream (deleted); its leases show as not listed. */
  inKinesis: boolean;
  shards: number;
  /** Unfinished leases of the stream, and how many of them are free. */
  leases: number;
  freeLeases: number;
  /** Handled by this worker, over the last 5 s, all its shards. */
  recordsPerSecond: number;
}

export interface DashboardState {
  at: number;
  workerId: string;
  appName: string;
  /** The system's first stream (its only one in single-stream mode). */
  streamName: string;
  /** The system's streams in order, then any other stream the lease store names. */
  streams: StreamState[];
  health: Health;
  /** Every stream's shards, stream by stream, each naming its stream. */
  shards: ShardRow[];
  /** Unfinished leases per owner across the application, all streams (from the store); this worker always listed. */
  workers: { workerId: string; leases: number; self: boolean }[];
  freeLeases: number;
  tree: SupervisionNode;
  errors: RecentError[];
  /** Records/s handled by this worker per shard (by `stream/shardId`), one value per second, the last ending at `endsAt`. */
  series: { endsAt: number; perShard: Record<string, number[]> };
}

/** A stream as read: its shards from ListShards (undefined: no such stream), and whether the system consumes it. */
export interface StreamListing {
  streamName: string;
  listed: readonly Shard[] | undefined;
  configured: boolean;
}

export interface StateParts {
  at: number;
  workerId: string;
  appName: string;
  /** The system's streams first (the first is the stream of bare shard-id lease keys), then any other the leases name. */
  streams: readonly StreamListing[];
  health: Health;
  leases: readonly LeaseSnapshot[];
  inspection: Inspection;
  errors: readonly RecentError[];
  rate(shard: ShardAddress): number;
  millisBehind(shard: ShardAddress): number | undefined;
  series: DashboardState['series'];
}

const byShardId = (a: { shardId: string }, b: { shardId: string }) => a.shardId.localeCompare(b.shardId, 'en', { numeric: true });

/** The rows of one stream: its listed shards and its leases. */
function streamRows(p: StateParts, listing: StreamListing, leases: readonly LeaseSnapshot[], shardIdOf: (l: LeaseSnapshot) => string): ShardRow[] {
  const { streamName } = listing;
  const nodes = new Map((listing.listed ?? []).map((s) => [s.ShardId!, shardNode(s)]));
  const byShard = new Map(leases.map((l) => [shardIdOf(l), l]));
  const here = new Map(p.inspection.shards.map((s) => [shardKey(s), s]));
  const children = new Map<string, Set<string>>();
  for (const node of nodes.values()) {
    for (const parent of node.parentShardIds) children.set(parent, (children.get(parent) ?? new Set()).add(node.shardId));
  }
  for (const [shardId, lease] of byShard) for (const child of lease.childShardIds) children.set(shardId, (children.get(shardId) ?? new Set()).add(child));
  const rows = [...new Set([...nodes.keys(), ...byShard.keys()])].map((shardId): ShardRow => {
    const address = { streamName, shardId };
    const node = nodes.get(shardId);
    const lease = byShard.get(shardId);
    const view = here.get(shardKey(address));
    return {
      streamName,
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
      millisBehindLatest: view?.millisBehindLatest ?? (lease && holderOf(lease) === p.workerId ? p.millisBehind(address) : undefined),
      recordsPerSecond: p.rate(address),
    };
  });
  return rows.sort(byShardId);
}

/** Joins ListShards of each stream, the lease store and this worker's own view into one picture. Pure. */
export function buildState(p: StateParts): DashboardState {
  const defaultStream = p.streams[0]!.streamName;
  const addressOf = (l: LeaseSnapshot) => leaseAddress(l, defaultStream);
  const streams: StreamState[] = [];
  const shards: ShardRow[] = [];
  for (const listing of p.streams) {
    const leases = p.leases.filter((l) => addressOf(l).streamName === listing.streamName);
    const rows = streamRows(p, listing, leases, (l) => addressOf(l).shardId);
    const unfinished = leases.filter((l) => l.checkpoint !== SHARD_END);
    streams.push({
      streamName: listing.streamName,
      configured: listing.configured,
      inKinesis: listing.listed !== undefined,
      shards: listing.listed?.length ?? 0,
      leases: unfinished.length,
      freeLeases: unfinished.filter((l) => holderOf(l) === undefined).length,
      recordsPerSecond: rows.reduce((n, r) => n + r.recordsPerSecond, 0),
    });
    shards.push(...rows);
  }
  // a worker's load is its leases of every stream
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
    streamName: defaultStream,
    streams,
    health: p.health,
    shards,
    workers,
    freeLeases,
    tree: p.inspection.tree,
    errors: [...p.errors].reverse(),
    series: p.series,
  };
}
