import { SHARD_END, type LeaseSnapshot } from '@kinesis-client/worker';

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

  isExpired(lease: LeaseSnapshot, now: number, failoverMs: number): boolean {
    if (!lease.leaseOwner) return true;
    const last = this.seen.get(lease.leaseKey);
    return !!last && last.counter === lease.leaseCounter && now - last.since >= failoverMs;
  }
}

/**
 * A child may start once every parent is done: its lease is at SHARD_END, or it has no lease
 * (never tracked, or cleaned up), or the stream no longer lists it (aged out of retention, so
 * nothing of it is left to read). Without a listing, only the lease table decides.
 */
export function parentsDone(lease: LeaseSnapshot, byKey: ReadonlyMap<string, LeaseSnapshot>, listed?: ReadonlySet<string>): boolean {
  return lease.parentShardIds.every((p) => {
    const parent = byKey.get(p);
    return !parent || parent.checkpoint === SHARD_END || (listed !== undefined && !listed.has(p));
  });
}

export interface TakeInput {
  leases: readonly LeaseSnapshot[];
  workerId: string;
  held: ReadonlySet<string>;
  now: number;
  failoverMs: number;
  expiry: LeaseExpiry;
  /** The shard ids ListShards returned this cycle. */
  listed?: ReadonlySet<string>;
}

/**
 * Which leases this worker should take now: unfinished leases that are free, expired, or still
 * carry this worker's id from an earlier life, and whose parents are all done. With a listing,
 * only listed shards: one that aged out of retention has nothing left to read, and one too new
 * for this listing is taken on a later cycle.
 */
export function leasesToTake({ leases, workerId, held, now, failoverMs, expiry, listed }: TakeInput): LeaseSnapshot[] {
  const byKey = new Map(leases.map((l) => [l.leaseKey, l]));
  return leases.filter(
    (lease) =>
      lease.checkpoint !== SHARD_END &&
      !held.has(lease.leaseKey) &&
      (listed === undefined || listed.has(lease.leaseKey)) &&
      (lease.leaseOwner === workerId || expiry.isExpired(lease, now, failoverMs)) &&
      parentsDone(lease, byKey, listed),
  );
}
