import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { itemFromNewLease, serializeError, type ActorContext, type Behavior, type LeaseSnapshot, type LeaseTable } from '@kinesis-client/worker';
import { LeaseExpiry, leasesToTake } from './lease-taker.js';
import { listAllShards, planLeaseSync, shardNode, type InitialCheckpoint, type ShardNode } from './shard-graph.js';
import type { ResolvedOptions } from './options.js';
import type { ShardHostHandle } from './shard-host-handle.js';

export type CoordinatorMessage =
  | { type: 'tick'; done?: (error?: unknown) => void }
  | { type: 'shardStopped'; shardId: string; reason: string }
  | { type: 'hostDown'; index: number }
  | { type: 'hostUp'; index: number }
  | { type: 'stop' };

export interface CoordinatorDeps {
  options: ResolvedOptions;
  kinesis: KinesisClient;
  leases: LeaseTable;
  hosts: () => readonly (ShardHostHandle | undefined)[];
  onError(error: unknown, shardId?: string): void;
}

const HOST_RESTART_GRACE_MS = 2_000;

/**
 * The main thread's coordinator: discovers shards and their parent/child graph, keeps a lease row
 * for each shard that should be processed, decides which leases this worker takes (a child only
 * once its parents are done) and places their shards on the least busy shard-host thread. It
 * ticks every takeIntervalMs, and at once when one of its shards ends, so children start promptly.
 * Each tick runs to completion before the next message, so decisions never interleave.
 */
export function coordinator(deps: CoordinatorDeps) {
  return (ctx: ActorContext<CoordinatorMessage>): Behavior<CoordinatorMessage> => {
    const { options, kinesis, leases } = deps;
    const expiry = new LeaseExpiry();
    /** shard id -> host index, for every shard this worker runs. */
    const held = new Map<string, number>();
    let stopping = false;
    let nextTick: ReturnType<typeof ctx.sendAfter> | undefined;
    let nextTickAt = Infinity;

    const initialCheckpoint = (): InitialCheckpoint => {
      const p = options.initialPosition;
      return typeof p === 'string' ? p : 'AT_TIMESTAMP';
    };

    /** Writes what planLeaseSync asks for; true when the table changed and must be read again. */
    const syncLeases = async (shards: ShardNode[], table: LeaseSnapshot[]): Promise<boolean> => {
      const plan = planLeaseSync(shards, table, initialCheckpoint());
      // parents before children: a worker that scans in between must not see a child without its parents
      for (const group of plan.create) await Promise.all(group.map((lease) => leases.create(itemFromNewLease(lease))));
      await Promise.all(plan.addChildren.map((u) => leases.addChildShardIds(u.leaseKey, u.childShardIds)));
      return plan.create.length > 0 || plan.addChildren.length > 0;
    };

    const place = (): ShardHostHandle | undefined => {
      let best: ShardHostHandle | undefined;
      for (const host of deps.hosts()) if (host?.alive && (!best || host.shards.size < best.shards.size)) best = host;
      return best;
    };

    const tick = async () => {
      const shards = (await listAllShards(kinesis, options.streamName)).map(shardNode);
      let table = await leases.scan();
      if (await syncLeases(shards, table)) table = await leases.scan();
      const now = ctx.clock.now();
      expiry.observe(table, now);
      const toTake = leasesToTake({
        leases: table,
        workerId: options.workerId,
        held: new Set(held.keys()),
        now,
        failoverMs: options.lease.failoverMs,
        expiry,
        listed: new Set(shards.map((s) => s.shardId)),
      });
      await Promise.all(
        toTake.map(async (lease) => {
          const host = place();
          if (!host || stopping) return;
          held.set(lease.leaseKey, host.index);
          host.shards.add(lease.leaseKey);
          try {
            await host.api.startShard(lease);
          } catch (error) {
            held.delete(lease.leaseKey);
            host.shards.delete(lease.leaseKey);
            deps.onError(error, lease.leaseKey);
          }
        }),
      );
    };

    /** Brings the next tick forward to `ms` from now; never pushes it back. */
    const schedule = (ms: number) => {
      if (stopping) return;
      const at = ctx.clock.now() + ms;
      if (nextTick && at >= nextTickAt) return;
      if (nextTick) ctx.cancel(nextTick);
      nextTickAt = at;
      nextTick = ctx.sendAfter(ms, { type: 'tick' });
    };

    return {
      async receive(message) {
        switch (message.type) {
          case 'tick': {
            nextTick = undefined;
            nextTickAt = Infinity;
            if (stopping) return message.done?.();
            try {
              await tick();
              message.done?.();
            } catch (error) {
              deps.onError(error);
              message.done?.(error);
            }
            schedule(options.lease.takeIntervalMs);
            return;
          }
          case 'shardStopped': {
            const index = held.get(message.shardId);
            held.delete(message.shardId);
            if (index !== undefined) deps.hosts()[index]?.shards.delete(message.shardId);
            // a finished parent may unblock its children; a failed shard is retried on the next tick
            if (message.reason === 'ended') schedule(0);
            return;
          }
          case 'hostDown': {
            for (const [shardId, index] of held) if (index === message.index) held.delete(shardId);
            // the thread's supervisor is starting a fresh one (hostUp); survivors take over if that is slow
            schedule(HOST_RESTART_GRACE_MS);
            return;
          }
          case 'hostUp':
            schedule(0);
            return;
          case 'stop':
            stopping = true;
            if (nextTick) ctx.cancel(nextTick);
            ctx.exit({ kind: 'normal' });
            return;
        }
      },
      terminate(reason) {
        if (reason.kind === 'crash') deps.onError(serializeError(reason.error));
      },
    };
  };
}
