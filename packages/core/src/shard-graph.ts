import { ListShardsCommand, type KinesisClient, type Shard } from '@aws-sdk/client-kinesis';
import { SHARD_END, START_SENTINELS, type LeaseSnapshot, type NewLease as StoreNewLease } from '@kinesis-client/worker/lease';

/** Paginated ListShards: every shard of the stream, open and closed. */
export async function listAllShards(kinesis: KinesisClient, streamName: string): Promise<Shard[]> {
  const shards: Shard[] = [];
  let nextToken: string | undefined;
  do {
    const page = await kinesis.send(new ListShardsCommand(nextToken ? { NextToken: nextToken } : { StreamName: streamName }));
    shards.push(...(page.Shards ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  return shards;
}

/** One shard as ListShards describes it, reduced to what lease sync needs. */
export interface ShardNode {
  shardId: string;
  /** ParentShardId and AdjacentParentShardId: one parent after a split, two after a merge. */
  parentShardIds: string[];
  /** It has an EndingSequenceNumber: split or merged away, it takes no more records. */
  closed: boolean;
  startingHashKey?: string | undefined;
  endingHashKey?: string | undefined;
}

export function shardNode(shard: Shard): ShardNode {
  return {
    shardId: shard.ShardId!,
    parentShardIds: [shard.ParentShardId, shard.AdjacentParentShardId].filter((p): p is string => !!p),
    closed: !!shard.SequenceNumberRange?.EndingSequenceNumber,
    startingHashKey: shard.HashKeyRange?.StartingHashKey,
    endingHashKey: shard.HashKeyRange?.EndingHashKey,
  };
}

/**
 * The stream's shards as a DAG: parent -> children. A parent that is no longer listed aged out
 * of the stream's retention; it stays in the children's parentShardIds but has no node.
 */
export class ShardGraph {
  readonly nodes: ReadonlyMap<string, ShardNode>;
  private readonly children = new Map<string, string[]>();

  constructor(shards: readonly ShardNode[]) {
    this.nodes = new Map(shards.map((s) => [s.shardId, s]));
    for (const shard of shards) {
      for (const parent of shard.parentShardIds) {
        if (!this.nodes.has(parent)) continue;
        const list = this.children.get(parent) ?? [];
        list.push(shard.shardId);
        this.children.set(parent, list);
      }
    }
  }

  childrenOf(shardId: string): readonly string[] {
    return this.children.get(shardId) ?? [];
  }

  /** Listed parents only: an aged-out parent has nothing left to read. */
  listedParentsOf(shardId: string): string[] {
    return (this.nodes.get(shardId)?.parentShardIds ?? []).filter((p) => this.nodes.has(p));
  }

  /** Every shard below `shardId`, children first. */
  *descendantsOf(shardId: string): Generator<string> {
    const seen = new Set<string>();
    const queue = [...this.childrenOf(shardId)];
    while (queue.length > 0) {
      const id = queue.shift()!;
      if (seen.has(id)) continue;
      seen.add(id);
      yield id;
      queue.push(...this.childrenOf(id));
    }
  }

  /** Shards grouped so that every shard comes in a later group than all of its listed parents. */
  generations(): ShardNode[][] {
    const depth = new Map<string, number>();
    const depthOf = (id: string): number => {
      const known = depth.get(id);
      if (known !== undefined) return known;
      const d = Math.max(-1, ...this.listedParentsOf(id).map(depthOf)) + 1;
      depth.set(id, d);
      return d;
    };
    const out: ShardNode[][] = [];
    for (const node of this.nodes.values()) (out[depthOf(node.shardId)] ??= []).push(node);
    return out.filter(Boolean);
  }
}

export type InitialCheckpoint = 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP';

/** The store's NewLease, with its children always listed (planned from the shard graph). */
type NewLease = StoreNewLease & { childShardIds: string[] };

export interface LeaseSyncPlan {
  /** Leases to create, in groups: a group may be created only once every earlier group exists. */
  create: NewLease[][];
  /** Existing leases whose childShardIds lack children the listing shows. */
  addChildren: { leaseKey: string; childShardIds: string[] }[];
}

/**
 * Which lease rows to write so that every shard that should be processed has one.
 *
 * - A shard with a lease, or with any descendant that has one, gets none: its place in the
 *   ancestry is already decided (its children started, or it was finished and cleaned up, which
 *   planCleanup allows only once every child has a lease: so a deleted parent that the stream
 *   still lists is never brought back).
 * - A child of a shard that already has a lease starts at TRIM_HORIZON, whatever the initial
 *   position says: its parent is being read, so skipping any of the child would lose records.
 * - A child of a shard created in this same sync starts where its parent does (TRIM_HORIZON, or
 *   AT_TIMESTAMP so that a new application sees nothing older than its timestamp in any shard).
 * - Any other shard is a root for this application and starts at the initial position; with
 *   LATEST only open shards get a lease, since a closed one has no records after "now".
 *
 * Leases are created parents first, so no worker ever sees a child without its parents' rows
 * and starts it early.
 */
export function planLeaseSync(
  shards: readonly ShardNode[],
  leases: readonly LeaseSnapshot[],
  initial: InitialCheckpoint,
  /** Keys of rows that exist but cannot be read: they count as existing, and are never written. */
  unreadable: ReadonlySet<string> = new Set(),
): LeaseSyncPlan {
  const graph = new ShardGraph(shards);
  const existing = new Set([...leases.map((l) => l.leaseKey), ...unreadable]);
  const planned = new Map<string, NewLease>();
  const create: NewLease[][] = [];

  for (const generation of graph.generations()) {
    const group: NewLease[] = [];
    for (const shard of generation) {
      const id = shard.shardId;
      if (existing.has(id)) continue;
      if ([...graph.descendantsOf(id)].some((d) => existing.has(d))) continue;
      const parents = graph.listedParentsOf(id);
      let checkpoint: string | undefined;
      if (parents.some((p) => existing.has(p))) checkpoint = 'TRIM_HORIZON';
      else if (parents.some((p) => planned.has(p))) checkpoint = initial === 'AT_TIMESTAMP' ? 'AT_TIMESTAMP' : 'TRIM_HORIZON';
      else if (initial !== 'LATEST' || !shard.closed) checkpoint = initial;
      if (!checkpoint) continue;
      const lease: NewLease = {
        leaseKey: id,
        checkpoint,
        parentShardIds: shard.parentShardIds,
        childShardIds: [...graph.childrenOf(id)],
        startingHashKey: shard.startingHashKey,
        endingHashKey: shard.endingHashKey,
      };
      planned.set(id, lease);
      group.push(lease);
    }
    if (group.length > 0) create.push(group);
  }

  const addChildren: LeaseSyncPlan['addChildren'] = [];
  for (const lease of leases) {
    const missing = graph.childrenOf(lease.leaseKey).filter((c) => !lease.childShardIds.includes(c));
    if (missing.length > 0) addChildren.push({ leaseKey: lease.leaseKey, childShardIds: missing });
  }
  return { create, addChildren };
}

interface CleanupPlan {
  /** Finished leases to delete now (conditional on checkpoint = SHARD_END). */
  delete: LeaseSnapshot[];
  /** Lease key -> since when it could go, by this worker's clock: pass it to the next call. */
  eligibleSince: Map<string, number>;
}

/**
 * Which finished lease rows to delete, so that the table (and every scan) stays proportional to
 * the open shards. A row may go when it is at SHARD_END and either
 *
 * - every child has started: each child (the row's childShardIds and the listing's) has a lease
 *   whose checkpoint is not TRIM_HORIZON, LATEST or AT_TIMESTAMP (a child at SHARD_END has
 *   started too), and none of its listed parents still has a row, so the oldest go first; this is
 *   the Java KCL's completed-lease rule (LeaseCleanupManager), which also counts LATEST as not
 *   started here since nothing was handled at LATEST;
 * - or the stream no longer lists the shard (aged out of retention: nothing of it is left to
 *   read, and its children already count it done). Needs a non-empty listing.
 *
 * It is deleted once it has been deletable for cleanupAfterMs on this worker's clock, as the Java
 * KCL waits its completed-lease cleanup interval. The children's leases exist when a parent goes,
 * so planLeaseSync, which skips any shard with a descendant's lease, never re-creates it.
 */
export function planCleanup(
  leases: readonly LeaseSnapshot[],
  listed: readonly ShardNode[] | undefined,
  now: number,
  eligibleSince: ReadonlyMap<string, number>,
  cleanupAfterMs: number,
): CleanupPlan {
  const byKey = new Map(leases.map((l) => [l.leaseKey, l]));
  const graph = listed ? new ShardGraph(listed) : undefined;
  const isListed = (id: string) => !graph || graph.nodes.size === 0 || graph.nodes.has(id);
  const started = (id: string) => {
    const child = byKey.get(id);
    return child !== undefined && !START_SENTINELS.has(child.checkpoint);
  };
  const next = new Map<string, number>();
  const remove: LeaseSnapshot[] = [];
  for (const lease of leases) {
    if (lease.checkpoint !== SHARD_END) continue;
    const children = new Set([...lease.childShardIds, ...(graph?.childrenOf(lease.leaseKey) ?? [])]);
    const finished = children.size > 0 && [...children].every(started) && lease.parentShardIds.every((p) => !byKey.has(p) || !isListed(p));
    if (!finished && isListed(lease.leaseKey)) continue;
    const since = eligibleSince.get(lease.leaseKey) ?? now;
    next.set(lease.leaseKey, since);
    if (now - since >= cleanupAfterMs) remove.push(lease);
  }
  return { delete: remove, eligibleSince: next };
}
