import { SHARD_END, handingTo, holderOf, type LeaseSnapshot } from '@kinesis-client/worker/lease';

/**
 * Relative lease expiry, as in the Java KCL: a lease is expired when this worker has not seen its
 * leaseCounter change for failoverMs on its own monotonic clock. No clock sync between workers.
 */
export class LeaseExpiry {
  private readonly seen = new Map<string, { counter: number; since: number }>();

  observe(leases: readonly LeaseSnapshot[], now: number): void {
    const keys = new Set<string>();
    for (const lease of leases) {
      keys.add(lease.leaseKey);
      const last = this.seen.get(lease.leaseKey);
      if (!last || last.counter !== lease.leaseCounter) this.seen.set(lease.leaseKey, { counter: lease.leaseCounter, since: now });
    }
    for (const key of this.seen.keys()) if (!keys.has(key)) this.seen.delete(key);
  }

  /** How long this worker has seen the lease's counter unchanged; undefined before first sight. */
  unchangedFor(lease: LeaseSnapshot, now: number): number | undefined {
    const last = this.seen.get(lease.leaseKey);
    return last && last.counter === lease.leaseCounter ? now - last.since : undefined;
  }

  /** The earliest time one of these leases, held by someone and not expired yet, expires if nobody renews it. */
  nextExpiry(leases: readonly LeaseSnapshot[], now: number, failoverMs: number): number {
    let next = Infinity;
    for (const lease of leases) {
      const last = this.seen.get(lease.leaseKey);
      if (lease.leaseOwner && last && last.since + failoverMs > now) next = Math.min(next, last.since + failoverMs);
    }
    return next;
  }

  isExpired(lease: LeaseSnapshot, now: number, failoverMs: number): boolean {
    if (!lease.leaseOwner) return true;
    const last = this.seen.get(lease.leaseKey);
    return !!last && last.counter === lease.leaseCounter && now - last.since >= failoverMs;
  }
}

/**
 * A child may start once every parent is done: its lease is at SHARD_END, or it has no lease
 * (never tracked, or cleaned up), or the stream no longer lists it (aged out of retention, so
 * nothing of it is left to read). Without a listing, only the lease table decides. A parent whose
 * row exists but cannot be read (`unreadable`) is not known to be done: its children wait.
 */
function parentsDone(
  lease: LeaseSnapshot,
  byKey: ReadonlyMap<string, LeaseSnapshot>,
  parentKey: (lease: LeaseSnapshot, parentShardId: string) => string,
  listed?: ReadonlySet<string>,
  unreadable?: ReadonlySet<string>,
): boolean {
  return lease.parentShardIds.every((shardId) => {
    const p = parentKey(lease, shardId);
    if (listed !== undefined && !listed.has(p)) return true;
    const parent = byKey.get(p);
    return parent ? parent.checkpoint === SHARD_END : !unreadable?.has(p);
  });
}

export interface TakeInput {
  leases: readonly LeaseSnapshot[];
  workerId: string;
  /** Shards this worker runs now. */
  held: ReadonlySet<string>;
  now: number;
  failoverMs: number;
  expiry: LeaseExpiry;
  /** The lease keys of the shards ListShards returned (every stream's, in multi-stream mode). */
  listed?: ReadonlySet<string>;
  /**
   * The leases this plan may act on (take, ask for, give back, give up): one stream's, when each
   * stream's coordinator plans; the others count for balance only. All when absent.
   */
  mine?: (lease: LeaseSnapshot) => boolean;
  /** The lease key of a lease's parent shard (parentShardIds hold shard ids); the shard id itself when absent. */
  parentKey?: (lease: LeaseSnapshot, parentShardId: string) => string;
  /** Keys of rows that exist but cannot be read: never taken, and their children wait. */
  unreadable?: ReadonlySet<string>;
  /** lease.maxLeasesPerWorker; unlimited when absent. */
  maxLeasesPerWorker?: number;
  /**
   * lease.maxStealPerCycle: leases asked of workers AT target (the Java rule's exception), and
   * the most this worker asks for while no other worker can see it; 0 when absent.
   */
  maxStealPerCycle?: number;
  /** Ask workers ABOVE target for leases, up to this worker's target; off when absent. */
  pull?: boolean;
  /**
   * How long a free or expired lease may stay untaken before a worker already at target takes it:
   * workers below target take such a lease within one cycle, so one still free after this long
   * is one nobody below target may take (shouldProcess). Never when absent.
   */
  orphanAfterMs?: number;
  /**
   * The shouldProcess option, bound to this worker: true to take or ask for a lease, false to give
   * one of ours up; undefined (it threw) does neither, so a passing failure drops no lease.
   */
  eligible?: (shardId: string) => boolean | undefined;
  /** Handoffs to this worker still pending (checkpointOwner set): lease key -> since when. */
  requested?: ReadonlyMap<string, number>;
  /**
   * A handoff to this worker still pending this long, with its holder still renewing, is
   * cancelled (given back), so this worker may balance elsewhere; never when absent.
   */
  handoffTimeoutMs?: number;
  /** For the order of equally good choices; Math.random unless a test fixes it. */
  random?: () => number;
}

interface TakePlan {
  /**
   * Conditional takes on leaseCounter: free, expired, ours, handed to us, or a handoff to us whose
   * holder stopped renewing (forced: the take removes checkpointOwner).
   */
  take: LeaseSnapshot[];
  /** Leases whose holders are asked to hand them over (initiateHandoff: they drain, checkpoint, then let go). */
  steal: LeaseSnapshot[];
  /** Per victim, its other stealable leases: a handoff that lost a race to another thief tries one of these. */
  alternatives: Map<string, LeaseSnapshot[]>;
  /** Handoffs to us pending for handoffTimeoutMs while the holder renews: give them back (cancelHandoff). */
  cancel: LeaseSnapshot[];
  /** Leases carrying our id that shouldProcess now rejects: give them up (held ones after a drain). */
  release: LeaseSnapshot[];
  /** Leases to be processed: not at SHARD_END, listed, parents done. */
  active: number;
  /** Workers seen alive, this one included. */
  liveWorkers: number;
  target: number;
  /** Active leases per live worker after this plan, by this worker's view. */
  load: Map<string, number>;
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * One lease-taker cycle, decided from a table scan without I/O. Only leases still to be processed
 * count (not SHARD_END, listed, every parent done). An owner is live when one of those leases was
 * renewed within failoverMs, by this worker's relative expiry; a lease with a pending handoff
 * counts for the worker it is moving to (see handingTo). target = ceil(leases / live workers), capped by
 * maxLeasesPerWorker. Leases carrying this worker's id are taken back first, then free and
 * expired ones (free first: a released lease needs no failover wait) up to target.
 *
 * Still below target, this worker asks others for leases it may process (shouldProcess), most
 * loaded first: workers ABOVE target for as many as it lacks (pull; at most half a victim's
 * surplus per tick, since others may be asking it too), and workers AT target for at most
 * maxStealPerCycle, and only when this worker is at least two below target (as in the Java KCL:
 * so 10 leases over 3 workers end at 4/3/3, not stuck at 4/4/2). Nobody pushes leases: only
 * a worker that will process a lease ever asks for it. A worker that no one can see yet (it holds
 * nothing and asked for nothing) asks for at most maxStealPerCycle: two such workers joining
 * together would each count only themselves and over-ask; one handoff makes it visible, and its
 * next tick pulls the rest with everyone counted.
 *
 * Asking is the Java KCL 3.x's graceful handoff (docs/java-kcl.md): leaseOwner becomes this worker
 * and checkpointOwner the holder, which drains the shard and lets go after its final checkpoint,
 * however long its in-flight batch takes; this worker does not touch the shard meanwhile. A holder
 * that stops renewing is overtaken once the lease expires (a forced take). A holder that keeps
 * renewing without letting go for handoffTimeoutMs (a Java KCL 2.x worker ignores checkpointOwner)
 * gets the lease back (cancel), and keeps it until it expires, as before the handoff.
 */
export function planTakes(input: TakeInput): TakePlan {
  const { leases, workerId: me, held, now, failoverMs, expiry, listed } = input;
  const random = input.random ?? Math.random;
  const accepts = input.eligible ?? (() => true);
  const eligible = (shardId: string) => accepts(shardId) === true;
  const rejected = (shardId: string) => accepts(shardId) === false;
  const cap = input.maxLeasesPerWorker ?? Infinity;
  const maxSteal = input.maxStealPerCycle ?? 0;
  const ours = input.mine ?? (() => true);
  const parentKey = input.parentKey ?? ((_lease: LeaseSnapshot, shardId: string) => shardId);
  const byKey = new Map(leases.map((l) => [l.leaseKey, l]));
  const active = leases.filter(
    (l) => l.checkpoint !== SHARD_END && (listed === undefined || listed.has(l.leaseKey)) && parentsDone(l, byKey, parentKey, listed, input.unreadable),
  );

  const live = new Set<string>([me]);
  const load = new Map<string, number>([[me, 0]]);
  const add = (owner: string, n: number) => load.set(owner, (load.get(owner) ?? 0) + n);
  const own: LeaseSnapshot[] = [];
  const free: LeaseSnapshot[] = [];
  const lapsed: LeaseSnapshot[] = [];
  const orphans: LeaseSnapshot[] = [];
  const cancel: LeaseSnapshot[] = [];
  const release: LeaseSnapshot[] = [];
  const stealable = new Map<string, LeaseSnapshot[]>();
  /** Another stream's lease: where it counts, as this plan would count it, with nothing done to it. */
  const countOnly = (lease: LeaseSnapshot, holder: string | undefined, to: string | undefined) => {
    if (held.has(lease.leaseKey)) return void add(to && to !== me ? to : me, 1);
    const expired = expiry.isExpired(lease, now, failoverMs);
    // ours, or on its way to us: its own stream's coordinator takes it
    if ((lease.leaseOwner === me && !to) || (to === me && expired)) return void add(me, 1);
    if (expired) return;
    live.add(holder!);
    if (to) live.add(to);
    add(to ?? holder!, 1);
  };
  for (const lease of active) {
    const holder = holderOf(lease);
    const to = handingTo(lease);
    if (!ours(lease)) {
      countOnly(lease, holder, to);
      continue;
    }
    if (held.has(lease.leaseKey)) {
      const movingTo = to && to !== me ? to : undefined;
      // already on its way out: it counts for the receiver
      if (movingTo) live.add(movingTo);
      else if (rejected(lease.leaseKey)) release.push(lease);
      add(movingTo ?? me, 1);
      continue;
    }
    if (lease.leaseOwner === me && !to) {
      const ok = accepts(lease.leaseKey);
      if (ok === true) own.push(lease);
      else if (ok === false) release.push(lease);
      continue;
    }
    const expired = expiry.isExpired(lease, now, failoverMs);
    if (to === me && expired) {
      // a handoff to us whose holder stopped renewing: the take overtakes it
      own.push(lease);
      continue;
    }
    if (!expired) {
      let movingTo = to;
      live.add(holder!);
      if (movingTo === me) {
        const at = input.requested?.get(lease.leaseKey);
        // the holder lets go after its batch in flight, however long; we may stop waiting, never take it
        if (input.handoffTimeoutMs !== undefined && at !== undefined && now - at >= input.handoffTimeoutMs) {
          cancel.push(lease);
          movingTo = undefined;
        }
      } else if (!movingTo && eligible(lease.leaseKey)) {
        stealable.set(holder!, [...(stealable.get(holder!) ?? []), lease]);
      }
      if (movingTo) live.add(movingTo);
      add(movingTo ?? holder!, 1);
      continue;
    }
    if (!eligible(lease.leaseKey)) continue;
    const untakenFor = expiry.unchangedFor(lease, now);
    if (input.orphanAfterMs !== undefined && untakenFor !== undefined && untakenFor >= failoverMs + input.orphanAfterMs) orphans.push(lease);
    else (lease.leaseOwner ? lapsed : free).push(lease);
  }

  // a holder that kept a handoff waiting is draining that shard (or never lets go): ask elsewhere
  for (const lease of cancel) stealable.delete(lease.checkpointOwner!);
  const target = Math.min(Math.ceil(active.length / live.size), cap);
  let mine = load.get(me)!;
  const take: LeaseSnapshot[] = [];
  const takeOne = (lease: LeaseSnapshot) => {
    take.push(lease);
    mine++;
    load.set(me, mine);
  };
  for (const lease of own) if (mine < cap) takeOne(lease);
  for (const lease of [...shuffled(free, random), ...shuffled(lapsed, random)]) if (mine < target) takeOne(lease);
  for (const lease of shuffled(orphans, random)) if (mine < cap) takeOne(lease);

  const steal: LeaseSnapshot[] = [];
  const asks = mine > 0 ? Infinity : maxSteal;
  let limited = 0;
  // half a victim's surplus per tick: other workers below target may be asking it too, some of
  // them not visible yet; the rest follows on later ticks, with whatever they took counted
  const pullable = new Map([...stealable.keys()].map((owner) => [owner, Math.ceil((load.get(owner)! - target) / 2)]));
  while (mine < target && steal.length < asks) {
    const victims = [...stealable.entries()]
      .filter(([owner, candidates]) => candidates.length > 0 && !(input.pull && load.get(owner)! > target && pullable.get(owner)! <= 0))
      .sort(([a], [b]) => load.get(b)! - load.get(a)! || (a < b ? -1 : 1));
    const victim = victims[0];
    if (!victim) break;
    const [owner, candidates] = victim;
    const theirs = load.get(owner)!;
    const above = theirs > target;
    // above target: as many as we lack; otherwise the Java rule and its cap
    if (above && input.pull) {
      pullable.set(owner, pullable.get(owner)! - 1);
    } else if ((above || (theirs === target && mine <= target - 2)) && limited < maxSteal) {
      limited++;
    } else {
      break;
    }
    const lease = candidates.splice(Math.floor(random() * candidates.length), 1)[0]!;
    steal.push(lease);
    load.set(owner, theirs - 1);
    mine++;
    load.set(me, mine);
  }
  const alternatives = new Map([...stealable].filter(([owner]) => steal.some((l) => l.leaseOwner === owner)).map(([owner, c]) => [owner, shuffled(c, random)]));
  return { take, steal, alternatives, cancel, release, active: active.length, liveWorkers: live.size, target, load };
}
