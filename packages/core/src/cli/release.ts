/**
 * `release`: frees leases so any worker takes them on its next take cycle, instead of after
 * failoverMs. Each release is the store's own, conditional on the owner read: a lease another
 * worker took meanwhile is left alone (reported, not clobbered), and the release bumps the
 * counter, so the owner's next renewal fails and it stops the shard.
 */
import { KinesisClientError } from '@kinesis-client/worker';
import { SHARD_END, holderOf, type LeaseSnapshot, type LeaseStore } from '@kinesis-client/worker/lease';
import { usageError } from './usage.js';
import { lease } from './reset.js';

export interface Released {
  shardId: string;
  owner: string;
  leaseCounter: number;
  /** false: the owner changed before the release (another worker took it); nothing was written. */
  released: boolean;
}

export interface ReleaseInput {
  leases: LeaseStore;
  appName: string;
  shard?: string | undefined;
  worker?: string | undefined;
  /** Every lease (for --worker). */
  scan: () => Promise<LeaseSnapshot[]>;
}

export async function release({ leases, appName, shard, worker, scan }: ReleaseInput): Promise<Released[]> {
  let chosen: LeaseSnapshot[];
  if (shard !== undefined) {
    const one = await lease(leases, shard, appName);
    if (!one.leaseOwner) throw usageError(`shard "${shard}" has no owner: it is free already`);
    chosen = [one];
  } else {
    chosen = (await scan()).filter((l) => holderOf(l) === worker && l.checkpoint !== SHARD_END);
    if (chosen.length === 0) throw usageError(`worker "${worker}" holds no lease in application "${appName}" (status lists the workers)`);
  }
  const out = await Promise.all(
    chosen.map(async (l): Promise<Released> => ({ shardId: l.leaseKey, owner: holderOf(l)!, leaseCounter: l.leaseCounter, released: await leases.release(l.leaseKey, holderOf(l)!) })),
  );
  const lost = out.filter((r) => !r.released);
  if (shard !== undefined && lost.length > 0) {
    throw new KinesisClientError('LEASE_CHANGED', `the lease of ${shard} changed owner before it could be released; nothing was written`, { details: { shardId: shard } });
  }
  return out;
}
