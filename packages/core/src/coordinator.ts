import type { KinesisClient } from '@aws-sdk/client-kinesis';
import {
  SHARD_END,
  comparePositions,
  itemFromNewLease,
  serializeError,
  type ActorContext,
  type Behavior,
  type LeaseSnapshot,
  type LeaseTable,
  type Position,
} from '@kinesis-client/worker';
import { LeaseExpiry, planTakes } from './lease-taker.js';
import { listAllShards, planLeaseSync, shardNode, type InitialCheckpoint, type ShardNode } from './shard-graph.js';
import type { ResolvedOptions } from './options.js';
import type { ShardHostHandle } from './shard-host-handle.js';

export type CoordinatorMessage =
  /** A full cycle (list shards, sync the table, take, steal); `check` only scans and takes free or expired leases. */
  | { type: 'tick'; check?: boolean; done?: (error?: unknown) => void }
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
  /** The last position this process handled in a shard (from batch outcomes), if any. */
  handled(shardId: string): Position | undefined;
}

const HOST_RESTART_GRACE_MS = 2_000;
/** After the moment a lease could expire, so the scan sees it expired rather than just short of it. */
const EXPIRY_MARGIN_MS = 50;

/**
 * The main thread's coordinator: discovers shards and their parent/child graph, keeps a lease row
 * for each shard that should be processed, decides which leases this worker takes (a child only
 * once its parents are done) and places their shards on the least busy shard-host thread.
 *
 * A full cycle runs every takeIntervalMs and may steal: it asks the owner of a lease to hand it
 * over, and the owner drains the shard, checkpoints and writes this worker's id as owner, so no
 * shard is ever read by two workers at once. Between cycles, check ticks only scan and take: one
 * when a lease seen held could have expired (so a dead worker's leases are taken within
 * failoverMs of the last renewal this worker saw, plus the scan that saw it), and a few while a
 * handoff this worker asked for is pending. A shard that ends brings a full cycle forward, so
 * children start promptly, and so does a lost take race. Each tick runs to completion before the
 * next message.
 */
export function coordinator(deps: CoordinatorDeps) {
  return (ctx: ActorContext<CoordinatorMessage>): Behavior<CoordinatorMessage> => {
    const { options, kinesis, leases } = deps;
    const me = options.workerId;
    const expiry = new LeaseExpiry();
    /** shard id -> host index, for every shard this worker runs. */
    const held = new Map<string, number>();
    /** lease key -> when this worker asked its owner to hand it over. */
    const requested = new Map<string, number>();
    let listed: Set<string> | undefined;
    let stopping = false;
    const timers = {
      full: { timer: undefined as ReturnType<typeof ctx.sendAfter> | undefined, at: Infinity },
      check: { timer: undefined as ReturnType<typeof ctx.sendAfter> | undefined, at: Infinity },
    };

    const initialCheckpoint = (): InitialCheckpoint => {
      const p = options.initialPosition;
      return typeof p === 'string' ? p : 'AT_TIMESTAMP';
    };

    const eligible = (shardId: string): boolean => {
      if (!options.shouldProcess) return true;
      try {
        return options.shouldProcess(shardId, me) === true;
      } catch (error) {
        deps.onError(error, shardId);
        return false;
      }
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

    const start = async (lease: LeaseSnapshot) => {
      const host = place();
      if (!host || stopping) return;
      held.set(lease.leaseKey, host.index);
      host.shards.add(lease.leaseKey);
      // handled here before (a thread that died, say) but not checkpointed: resume after what was handled
      const handled = deps.handled(lease.leaseKey);
      const row = { sequenceNumber: lease.checkpoint, subSequenceNumber: lease.checkpointSubSequenceNumber };
      const resume = handled && comparePositions(handled, row) > 0 ? handled : undefined;
      try {
        await host.api.startShard(lease, resume);
      } catch (error) {
        held.delete(lease.leaseKey);
        host.shards.delete(lease.leaseKey);
        deps.onError(error, lease.leaseKey);
      }
    };

    /** Returns when the next check tick is due, in ms from now, or Infinity. */
    const tick = async (full: boolean): Promise<number> => {
      let shards: ShardNode[] | undefined;
      if (full || !listed) {
        shards = (await listAllShards(kinesis, options.streamName)).map(shardNode);
        listed = new Set(shards.map((s) => s.shardId));
      }
      let table = await leases.scan();
      if (shards && (await syncLeases(shards, table))) table = await leases.scan();
      const now = ctx.clock.now();
      expiry.observe(table, now);
      const byKey = new Map(table.map((l) => [l.leaseKey, l]));
      // a request the row no longer shows is settled: handed to us, taken by someone, or withdrawn
      for (const key of requested.keys()) if (byKey.get(key)?.handoffTo !== me) requested.delete(key);
      for (const lease of table) if (lease.handoffTo === me && !requested.has(lease.leaseKey)) requested.set(lease.leaseKey, now);
      const plan = planTakes({
        leases: table,
        workerId: me,
        held: new Set(held.keys()),
        now,
        failoverMs: options.lease.failoverMs,
        expiry,
        listed,
        maxLeasesPerWorker: options.lease.maxLeasesPerWorker,
        maxStealPerCycle: full ? options.lease.maxStealPerCycle : 0,
        shed: full && options.lease.maxStealPerCycle > 0,
        orphanAfterMs: options.lease.takeIntervalMs,
        eligible,
        requested,
      });
      await Promise.all([
        ...plan.take.map(start),
        ...plan.steal.map(async (first) => {
          // losing a request to another thief is normal: try another lease of the same victim once
          for (const lease of [first, ...(plan.alternatives.get(first.leaseOwner!)?.splice(0, 1) ?? [])]) {
            if (stopping) return;
            if (await leases.requestHandoff(lease.leaseKey, lease.leaseOwner!, me)) return void requested.set(lease.leaseKey, now);
          }
        }),
        // our own lease actor answers this at its next renewal or checkpoint, as it would a thief's request
        ...plan.shed.map(({ lease, to }) => (stopping ? undefined : leases.requestHandoff(lease.leaseKey, me, to))),
      ]);
      const others = table.filter((l) => l.leaseOwner !== me && !held.has(l.leaseKey) && l.checkpoint !== SHARD_END);
      const expiryCheck = expiry.nextExpiry(others, now, options.lease.failoverMs) - now + EXPIRY_MARGIN_MS;
      // the owner answers a request at its next renewal or checkpoint, after its in-flight batch
      const handoffCheck = requested.size > 0 ? Math.max(100, Math.floor(options.lease.renewIntervalMs / 2)) : Infinity;
      return Math.min(expiryCheck, handoffCheck);
    };

    /** Brings a tick forward to `ms` from now; never pushes it back. */
    const schedule = (kind: 'full' | 'check', ms: number) => {
      if (stopping || ms === Infinity) return;
      const slot = timers[kind];
      const at = ctx.clock.now() + ms;
      if (slot.timer && at >= slot.at) return;
      // a check due no earlier than the next full cycle adds nothing
      if (kind === 'check' && timers.full.timer && at >= timers.full.at) return;
      if (slot.timer) ctx.cancel(slot.timer);
      slot.at = at;
      slot.timer = ctx.sendAfter(ms, kind === 'check' ? { type: 'tick', check: true } : { type: 'tick' });
    };

    return {
      async receive(message) {
        switch (message.type) {
          case 'tick': {
            const full = !message.check;
            const slot = timers[full ? 'full' : 'check'];
            slot.timer = undefined;
            slot.at = Infinity;
            if (stopping) return message.done?.();
            let nextCheck = Infinity;
            try {
              nextCheck = await tick(full);
              message.done?.();
            } catch (error) {
              deps.onError(error);
              message.done?.(error);
            }
            if (full) schedule('full', options.lease.takeIntervalMs);
            schedule('check', nextCheck);
            return;
          }
          case 'shardStopped': {
            const index = held.get(message.shardId);
            held.delete(message.shardId);
            if (index !== undefined) deps.hosts()[index]?.shards.delete(message.shardId);
            // a finished parent may unblock its children; a failed shard is retried on a later tick
            if (message.reason === 'ended') schedule('full', 0);
            // a take that lost its race (or a lease taken from us) means the table moved under the
            // last plan: plan again, stealing included, once the winners' takes have settled
            if (message.reason === 'lost') schedule('full', options.lease.renewIntervalMs);
            return;
          }
          case 'hostDown': {
            for (const [shardId, index] of held) if (index === message.index) held.delete(shardId);
            // the thread's supervisor is starting a fresh one (hostUp); survivors take over if that is slow
            schedule('check', HOST_RESTART_GRACE_MS);
            return;
          }
          case 'hostUp':
            schedule('check', 0);
            return;
          case 'stop':
            stopping = true;
            for (const slot of Object.values(timers)) if (slot.timer) ctx.cancel(slot.timer);
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
