import { ListShardsCommand, type KinesisClient, type Shard } from '@aws-sdk/client-kinesis';
import type { LeaseSnapshot } from '@kinesis-client/worker';

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

export interface NewLease {
  leaseKey: string;
  checkpoint: string;
  parentShardIds: string[];
  childShardIds: string[];
  startingHashKey?: string | undefined;
  endingHashKey?: string | undefined;
}

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
 *   ancestry is already decided (its children started, or it was finished and cleaned up).
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
export function planLeaseSync(shards: readonly ShardNode[], leases: readonly LeaseSnapshot[], initial: InitialCheckpoint): LeaseSyncPlan {
  const graph = new ShardGraph(shards);
  const existing = new Map(leases.map((l) => [l.leaseKey, l]));
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
