import { leaseAddress, type LeaseSnapshot, type LeaseStore } from '@kinesis-client/worker/lease';
import type { ChildState, Supervisor } from '@kinesis-client/worker/actor';
import { serializeError, shardKey, type ShardInspection, type SupervisionNode } from '@kinesis-client/worker/internal';
import type { ShardHosts } from './shard-hosts.js';
import type { SystemTree } from './system-tree.js';

export interface ShardView {
  streamName: string;
  shardId: string;
  /** From the lease table, read for this call. */
  leaseOwner: string | undefined;
  leaseCounter: number;
  checkpoint: string;
  /** Set when this worker runs the shard. */
  threadId: number | undefined;
  millisBehindLatest: number | undefined;
  bufferedRecords: number | undefined;
  bufferedBytes: number | undefined;
  getRecordsCalls: number | undefined;
  getShardIteratorCalls: number | undefined;
}

export interface Inspection {
  workerId: string;
  tree: SupervisionNode;
  shards: ShardView[];
}

interface InspectInput {
  workerId: string;
  /** The system's stream, which its leases are for. */
  streamName: string;
  root: Supervisor;
  hosts: Supervisor | undefined;
  /** Multi-stream mode: the supervisor of the streams' coordinators. */
  streams?: Supervisor | undefined;
  coordinatorThread: number;
  /** Per shard-host slot, what its thread reported (undefined while it is down). */
  threads: ({ threadId: number; shards: ShardInspection[] } | undefined)[];
  pool: { threads: number; deaths: number };
  leases: LeaseSnapshot[];
}

function node(child: ChildState, kind: SupervisionNode['kind'], threadId: number, extra: Partial<SupervisionNode> = {}): SupervisionNode {
  return {
    id: child.id,
    kind,
    restart: child.restart,
    incarnation: child.incarnation,
    state: child.state,
    restarts: child.restarts,
    threadId,
    ...(child.lastError === undefined ? {} : { lastError: serializeError(child.lastError) }),
    ...extra,
  };
}

/** Joins the main thread's supervisors, each thread's shard supervisors and the lease table into one picture. */
export function inspectTree(input: InspectInput): Inspection {
  const threadNodes = (input.hosts?.describe() ?? []).map((child, index) => {
    const thread = input.threads[index];
    return node(child, 'thread', thread?.threadId ?? -1, { children: thread?.shards.map((s) => s.supervisor) ?? [] });
  });
  const rootChildren = input.root.describe().map((child) =>
    child.id === 'shard-hosts'
      ? node(child, 'supervisor', 0, { strategy: input.hosts?.strategy ?? 'one_for_one', children: threadNodes })
      : child.id === 'streams'
        ? node(child, 'supervisor', 0, {
            strategy: input.streams?.strategy ?? 'one_for_one',
            children: (input.streams?.describe() ?? []).map((c) => node(c, 'actor', input.coordinatorThread)),
          })
        : node(child, 'actor', input.coordinatorThread),
  );
  const pool: SupervisionNode = {
    id: 'consumer-pool',
    kind: 'pool',
    incarnation: 1,
    state: 'running',
    // Piscina replaces a dead thread by itself; these are the batches that died with one
    restarts: input.pool.deaths,
    threadId: 0,
  };
  const tree: SupervisionNode = {
    id: 'root',
    kind: 'supervisor',
    strategy: input.root.strategy,
    incarnation: 1,
    state: input.root.running ? 'running' : 'stopped',
    restarts: 0,
    threadId: 0,
    children: [...rootChildren, pool],
  };
  const running = new Map(input.threads.flatMap((t) => t?.shards ?? []).map((s) => [shardKey(s), s]));
  const shards = input.leases.map((lease): ShardView => {
    const address = leaseAddress(lease, input.streamName);
    const here = running.get(shardKey(address));
    return {
      streamName: address.streamName,
      shardId: address.shardId,
      leaseOwner: lease.leaseOwner,
      leaseCounter: lease.leaseCounter,
      checkpoint: lease.checkpoint,
      threadId: here?.threadId,
      millisBehindLatest: here?.millisBehindLatest,
      bufferedRecords: here?.bufferedRecords,
      bufferedBytes: here?.bufferedBytes,
      getRecordsCalls: here?.getRecordsCalls,
      getShardIteratorCalls: here?.getShardIteratorCalls,
    };
  });
  return { workerId: input.workerId, tree, shards };
}

export interface InspectorDeps {
  workerId: string;
  streamName: string;
  tree(): SystemTree | undefined;
  hosts(): ShardHosts | undefined;
  poolThreads: number;
  poolDeaths(): number;
  leases: LeaseStore;
}

/** `system.inspect()`: asks each thread, reads the leases (unless given them) and joins it all with the main thread's tree. */
export function inspector(deps: InspectorDeps): (read?: LeaseSnapshot[]) => Promise<Inspection> {
  return async (read) => {
    const tree = deps.tree()!;
    return inspectTree({
      workerId: deps.workerId,
      streamName: deps.streamName,
      root: tree.root,
      hosts: tree.hostSupervisor,
      streams: tree.streamSupervisor,
      coordinatorThread: 0,
      threads: await deps.hosts()!.inspect(),
      pool: { threads: deps.poolThreads, deaths: deps.poolDeaths() },
      leases: read ?? (await deps.leases.scan()),
    });
  };
}
