import { ListShardsCommand, type KinesisClient, type Shard } from '@aws-sdk/client-kinesis';
import { itemFromNewLease, serializeError, type ActorContext, type Behavior, type LeaseSnapshot, type LeaseTable } from '@kinesis-client/worker';
import { LeaseExpiry, leasesToTake } from './lease-taker.js';
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

/**
 * The main thread's coordinator: discovers shards, keeps a lease row for each, decides which
 * leases this worker takes and places their shards on the least busy shard-host thread.
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

    const initialCheckpoint = (): string => {
      const p = options.initialPosition;
      return typeof p === 'string' ? p : 'AT_TIMESTAMP';
    };

    const syncLeases = async (shards: Shard[], known: Map<string, LeaseSnapshot>) => {
      const listed = new Set(shards.map((s) => s.ShardId!));
      const missing = shards.filter((s) => !known.has(s.ShardId!));
      await Promise.all(missing.map(async (shard) => {
        const id = shard.ShardId!;
        const parentShardIds = [shard.ParentShardId, shard.AdjacentParentShardId].filter((p): p is string => !!p);
        // a child of a shard we read starts at its beginning, whatever initialPosition says, so nothing is skipped
        const checkpoint = parentShardIds.some((p) => listed.has(p)) ? 'TRIM_HORIZON' : initialCheckpoint();
        await leases.create(
          itemFromNewLease({
            leaseKey: id,
            checkpoint,
            parentShardIds,
            startingHashKey: shard.HashKeyRange?.StartingHashKey,
            endingHashKey: shard.HashKeyRange?.EndingHashKey,
          }),
        );
      }));
    };

    const place = (): ShardHostHandle | undefined => {
      let best: ShardHostHandle | undefined;
      for (const host of deps.hosts()) if (host?.alive && (!best || host.shards.size < best.shards.size)) best = host;
      return best;
    };

    const tick = async () => {
      const shards = await listAllShards(kinesis, options.streamName);
      let table = await leases.scan();
      const known = new Map(table.map((l) => [l.leaseKey, l]));
      if (shards.some((s) => !known.has(s.ShardId!))) {
        await syncLeases(shards, known);
        table = await leases.scan();
      }
      const now = ctx.clock.now();
      expiry.observe(table, now);
      const toTake = leasesToTake({
        leases: table,
        workerId: options.workerId,
        held: new Set(held.keys()),
        now,
        failoverMs: options.lease.failoverMs,
        expiry,
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
