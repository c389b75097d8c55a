import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { KinesisClientError } from '@kinesis-client/worker';
import { SHARD_END, handingTo, holderOf, leaseAddress, type LeaseSnapshot, type LeaseStore, type UnreadableRow } from '@kinesis-client/worker/lease';
import type { ActorContext, Behavior } from '@kinesis-client/worker/actor';
import { comparePositions, serializeError, type Position, type ShardAddress } from '@kinesis-client/worker/internal';
import { LeaseExpiry, planTakes } from './lease-taker.js';
import { listAllShards, planCleanup, planLeaseSync, shardNode, type InitialCheckpoint, type ShardNode } from './shard-graph.js';
import type { ResolvedOptions } from './options.js';
import type { ShardHosts } from './shard-hosts.js';
import { singleStream, type StreamUnit } from './stream-unit.js';
import { tableView, type TableView } from './table-view.js';

export type CoordinatorMessage =
  /** A full cycle (list shards, sync the table, take, steal); `check` only scans and takes free or expired leases. */
  | { type: 'tick'; check?: boolean; done?: (error?: unknown) => void }
  | { type: 'shardStopped'; shardId: string; reason: string }
  | { type: 'hostDown'; index: number }
  | { type: 'hostUp'; index: number }
  | { type: 'stop' };

export interface CoordinatorDeps {
  options: ResolvedOptions;
  /** The stream this coordinator lists, syncs, cleans up and takes leases of; default: the options' single stream. */
  stream?: StreamUnit;
  /** Every stream of the system now, this one included: their leases count for balance. Default: this one. */
  streams?(): readonly StreamUnit[];
  /** Each stream's last listing (shard ids), by stream name, shared by the coordinators. */
  listings?: Map<string, ReadonlySet<string>>;
  /** Runs one tick at a time across the streams' coordinators, so each plans on what the others did. */
  turn?<T>(work: () => Promise<T>): Promise<T>;
  kinesis: KinesisClient;
  leases: LeaseStore;
  /** The threads, and where each shard runs: the placement outlives a restart of the coordinator. */
  hosts: Pick<ShardHosts, 'placement' | 'at' | 'aliveIndexes'>;
  onError(error: unknown, where?: { streamName: string; shardId?: string }): void;
  /** The last position this process handled in a shard (from batch outcomes), if any. */
  handled(address: ShardAddress): Position | undefined;
}

const HOST_RESTART_GRACE_MS = 2_000;
/** After the moment a lease could expire, so the scan sees it expired rather than just short of it. */
const EXPIRY_MARGIN_MS = 50;

/**
 * The main thread's coordinator of one stream: discovers shards and their parent/child graph, keeps a lease row
 * for each shard that should be processed, decides which leases this worker takes (a child only
 * once its parents are done) and places their shards on the least busy shard-host thread.
 *
 * A full cycle runs every takeIntervalMs and may steal: it starts a graceful handoff of a lease
 * (the Java KCL 3.x's: leaseOwner = this worker, checkpointOwner = the holder), and the holder
 * drains the shard, checkpoints and lets go, so no shard is ever read by two workers at once; it
 * also deletes finished leases (planCleanup).
 * Between cycles, check ticks scan, take and pull from workers above target: one when a lease
 * seen held could have expired (so a dead worker's leases are taken within failoverMs of the last
 * renewal this worker saw, plus the scan that saw it), and a few while a handoff to this worker
 * is pending. A shard that ends brings a full cycle forward, so children start promptly, and
 * so does a lost take race. Each tick runs to completion before the next message. Rows that
 * cannot be read are reported (LEASE_ROW_INVALID) once per change and never written.
 *
 * With several streams, each has its coordinator; their ticks take turns, and each plans over
 * the leases of every stream (table-view.ts) but acts on its own, so balance spans the streams.
 */
export function coordinator(deps: CoordinatorDeps) {
  return (ctx: ActorContext<CoordinatorMessage>): Behavior<CoordinatorMessage> => {
    const { options, kinesis, leases } = deps;
    const stream = deps.stream ?? singleStream(options.streams[0]!);
    const streams = deps.streams ?? (() => [stream]);
    const listings = deps.listings ?? new Map<string, ReadonlySet<string>>();
    const turn = deps.turn ?? (<T>(work: () => Promise<T>) => work());
    const { streamName } = stream;
    const me = options.workerId;
    const here = (shardId?: string) => (shardId === undefined ? { streamName } : { streamName, shardId });
    const expiry = new LeaseExpiry();
    // the shards running on this worker's threads, kept by the shard hosts so it survives a restart of this actor
    const held = deps.hosts.placement;
    /** lease key -> since when a handoff of it to this worker has been pending. */
    const requested = new Map<string, number>();
    let listed: Set<string> | undefined;
    let shards: ShardNode[] | undefined;
    /** Unreadable rows already reported: lease key -> the row's fingerprint when reported. */
    const reported = new Map<string, string>();
    /** Finished leases that could be deleted: key -> since when (planCleanup's state). */
    let deletable = new Map<string, number>();
    /** Held shards being given up because shouldProcess rejects them. */
    const releasing = new Set<string>();
    let stopping = false;
    const timers = {
      full: { timer: undefined as ReturnType<typeof ctx.sendAfter> | undefined, at: Infinity },
      check: { timer: undefined as ReturnType<typeof ctx.sendAfter> | undefined, at: Infinity },
    };

    const initialCheckpoint = (): InitialCheckpoint => {
      const p = stream.options.initialPosition;
      return typeof p === 'string' ? p : 'AT_TIMESTAMP';
    };

    /** shouldProcess for this worker, by lease key; undefined when it threw (reported), so nothing is taken or given up on it. */
    const eligible = (leaseKey: string): boolean | undefined => {
      if (!options.shouldProcess) return true;
      const shardId = stream.shardOf(leaseKey) ?? leaseKey;
      try {
        return options.shouldProcess(shardId, me, streamName) === true;
      } catch (error) {
        deps.onError(error, here(shardId));
        return undefined;
      }
    };

    /** Writes what planLeaseSync asks for (on shard ids); true when the table changed and must be read again. */
    const syncLeases = async (shards: ShardNode[], view: TableView): Promise<boolean> => {
      const plan = planLeaseSync(shards, view.ours, initialCheckpoint(), view.unreadableOurs);
      // parents before children: a worker that scans in between must not see a child without its parents
      for (const group of plan.create) await Promise.all(group.map((lease) => leases.create({ ...lease, leaseKey: stream.leaseKeyOf(lease.leaseKey) })));
      await Promise.all(plan.addChildren.map((u) => leases.addChildShardIds(stream.leaseKeyOf(u.leaseKey), u.childShardIds)));
      return plan.create.length > 0 || plan.addChildren.length > 0;
    };

    /** The shard one of this stream's leases is for, as the shard hosts address it. */
    const addressOf = (leaseKey: string): ShardAddress => ({ streamName, shardId: stream.shardOf(leaseKey) ?? leaseAddress({ leaseKey }, streamName).shardId });

    const start = async (lease: LeaseSnapshot) => {
      const index = held.leastBusy(deps.hosts.aliveIndexes());
      const host = index === undefined ? undefined : deps.hosts.at(index);
      if (!host || stopping) return;
      held.add(lease.leaseKey, host.index);
      const address = addressOf(lease.leaseKey);
      // handled here before (a thread that died, say) but not checkpointed: resume after what was
      // handled, while the row is still ours. A row someone else wrote since (a lease lost, an
      // operator's reset) is where its new position is: memory must not carry this worker past it.
      const handled = lease.leaseOwner === me ? deps.handled(address) : undefined;
      const row = { sequenceNumber: lease.checkpoint, subSequenceNumber: lease.checkpointSubSequenceNumber };
      const resume = handled && comparePositions(handled, row) > 0 ? handled : undefined;
      const p = stream.options.initialPosition;
      try {
        await host.api.startShard(lease, resume, { streamName, initialTimestamp: typeof p === 'object' ? p.timestamp.getTime() : undefined, consumerArn: stream.consumerArn });
      } catch (error) {
        held.remove(lease.leaseKey);
        deps.onError(error, here(address.shardId));
      }
    };

    /** Reports each unreadable row once per change of the row; forgets rows that were fixed or deleted. */
    const reportUnreadable = (rows: readonly UnreadableRow[]) => {
      const now = new Map(rows.map((r) => [r.leaseKey, r]));
      for (const key of reported.keys()) if (!now.has(key)) reported.delete(key);
      for (const row of rows) {
        if (reported.get(row.leaseKey) === row.fingerprint) continue;
        reported.set(row.leaseKey, row.fingerprint);
        deps.onError(
          new KinesisClientError('LEASE_ROW_INVALID', `lease row "${row.leaseKey}" cannot be read (${row.reason}); it is left alone until it is fixed`, {
            details: { leaseKey: row.leaseKey, reason: row.reason, streamName },
          }),
          here(stream.shardOf(row.leaseKey)),
        );
      }
    };

    /** Deletes finished leases once planCleanup allows it; a lost race (already deleted) is fine. */
    const cleanUp = async (ours: readonly LeaseSnapshot[], now: number) => {
      const plan = planCleanup(ours, shards, now, deletable, options.lease.cleanupAfterMs);
      deletable = plan.eligibleSince;
      await Promise.all(plan.delete.map((lease) => leases.deleteFinished(stream.leaseKeyOf(lease.leaseKey))));
    };

    /** A lease shouldProcess rejects: a held shard drains and releases it; one not running is released at once. */
    const giveUp = async (leaseKey: string) => {
      const index = held.hostOf(leaseKey);
      if (index === undefined) return void (await leases.release(leaseKey, me));
      const host = deps.hosts.at(index);
      if (!host?.alive || releasing.has(leaseKey)) return;
      releasing.add(leaseKey);
      const address = addressOf(leaseKey);
      // not awaited: the drain waits for the batch in flight, and the coordinator must go on
      void host.api
        .stopShard(address)
        .catch((error: unknown) => deps.onError(error, here(address.shardId)))
        .finally(() => releasing.delete(leaseKey));
    };

    /** Returns when the next check tick is due, in ms from now, or Infinity. */
    const tick = async (full: boolean): Promise<number> => {
      const list = full || !listed;
      if (list) {
        shards = (await listAllShards(kinesis, streamName)).map(shardNode);
        listed = new Set(shards.map((s) => s.shardId));
        listings.set(streamName, listed);
      }
      const read = async () => tableView(await leases.scanRows(), stream, streams(), listings);
      let view = await read();
      if (list && shards && (await syncLeases(shards, view))) view = await read();
      const { table } = view;
      reportUnreadable(view.unreadableRows);
      const now = ctx.clock.now();
      expiry.observe(table, now);
      const byKey = new Map(table.map((l) => [l.leaseKey, l]));
      // a handoff the row no longer shows is settled: completed, forced, taken by someone, or cancelled
      for (const key of requested.keys()) {
        const row = byKey.get(key);
        if (!row || handingTo(row) !== me) requested.delete(key);
      }
      for (const lease of table) if (view.mine(lease) && handingTo(lease) === me && !requested.has(lease.leaseKey)) requested.set(lease.leaseKey, now);
      const plan = planTakes({
        leases: table,
        workerId: me,
        held: new Set(held.shards()),
        now,
        failoverMs: options.lease.failoverMs,
        expiry,
        listed: view.listed,
        mine: view.mine,
        parentKey: view.parentKey,
        unreadable: view.unreadable,
        maxLeasesPerWorker: options.lease.maxLeasesPerWorker,
        maxStealPerCycle: full ? options.lease.maxStealPerCycle : 0,
        pull: options.lease.maxStealPerCycle > 0,
        orphanAfterMs: options.lease.takeIntervalMs,
        eligible,
        requested,
        handoffTimeoutMs: options.lease.handoffTimeoutMs,
      });
      for (const lease of plan.cancel) requested.delete(lease.leaseKey);
      await Promise.all([
        // a holder still draining then finds its completion failing, and frees the lease for anyone instead
        ...plan.cancel.map((lease) => leases.cancelHandoff(lease.leaseKey, lease.checkpointOwner!, me)),
        ...plan.release.map((lease) => giveUp(lease.leaseKey)),
        ...(full ? [cleanUp(view.ours, now)] : []),
        ...plan.take.map(start),
        ...plan.steal.map(async (first) => {
          // losing a handoff to another thief is normal: try another lease of the same victim once
          for (const lease of [first, ...(plan.alternatives.get(first.leaseOwner!)?.splice(0, 1) ?? [])]) {
            if (stopping) return;
            if (await leases.initiateHandoff(lease.leaseKey, lease.leaseOwner!, me)) return void requested.set(lease.leaseKey, now);
          }
        }),
      ]);
      // a handoff to us counts: its holder may stop renewing, and the take then overtakes it
      const others = table.filter((l) => view.mine(l) && holderOf(l) !== me && !held.has(l.leaseKey) && l.checkpoint !== SHARD_END);
      const expiryCheck = expiry.nextExpiry(others, now, options.lease.failoverMs) - now + EXPIRY_MARGIN_MS;
      // the holder notices a handoff at its next renewal or checkpoint, and lets go after its in-flight batch
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
              nextCheck = await turn(() => tick(full));
              message.done?.();
            } catch (error) {
              deps.onError(error, here());
              message.done?.(error);
            }
            if (full) schedule('full', options.lease.takeIntervalMs);
            schedule('check', nextCheck);
            return;
          }
          case 'shardStopped': {
            // the placement forgot it when the report arrived (ShardHosts.forget)
            // a finished parent may unblock its children; a failed shard is retried on a later tick
            if (message.reason === 'ended') schedule('full', 0);
            // a take that lost its race (or a lease taken from us) means the table moved under the
            // last plan: plan again, stealing included, once the winners' takes have settled
            if (message.reason === 'lost') schedule('full', options.lease.renewIntervalMs);
            return;
          }
          case 'hostDown':
            // the placement forgot the dead thread's shards when it exited (ShardHosts); this message
            // may come after a tick already placed shards on its replacement, which are not to be forgotten.
            // The thread's supervisor is starting a fresh one (hostUp); survivors take over if that is slow
            schedule('check', HOST_RESTART_GRACE_MS);
            return;
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
        if (reason.kind === 'crash') deps.onError(serializeError(reason.error), here());
      },
    };
  };
}
