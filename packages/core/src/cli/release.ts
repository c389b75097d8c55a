/**
 * `release`: frees leases so any worker takes them on its next take cycle, instead of after
 * failoverMs. Each release is the store's own, conditional on the owner read: a lease another
 * worker took meanwhile is left alone (reported, not clobbered), and the release bumps the
 * counter, so the owner's next renewal fails and it stops the shard.
 */
import { KinesisClientError } from '@kinesis-client/worker';
import { SHARD_END, holderOf, leaseAddress, type LeaseSnapshot, type LeaseStore } from '@kinesis-client/worker/lease';
import { findLease, shardName } from './find.js';
import { usageError } from './usage.js';

export interface Released {
  streamName: string;
  shardId: string;
  owner: string;
  leaseCounter: number;
  /** false: the owner changed before the release (another worker took it); nothing was written. */
  released: boolean;
}

export interface ReleaseInput {
  leases: LeaseStore;
  appName: string;
  /** The streams given; the first is the stream of bare shard-id lease keys. */
  streams: readonly string[];
  shard?: string | undefined;
  worker?: string | undefined;
  /** Every lease. */
  scan: () => Promise<LeaseSnapshot[]>;
}

export async function release({ leases, appName, streams, shard, worker, scan }: ReleaseInput): Promise<Released[]> {
  const all = await scan();
  let chosen: LeaseSnapshot[];
  let name: string | undefined;
  if (shard !== undefined) {
    const found = findLease(all, streams, shard, appName);
    name = shardName(found.address, streams);
    if (!found.lease.leaseOwner) throw usageError(`shard "${name}" has no owner: it is free already`);
    chosen = [found.lease];
  } else {
    // of the streams given only: another stream's leases are not what the operator named
    chosen = all.filter((l) => holderOf(l) === worker && l.checkpoint !== SHARD_END && streams.includes(leaseAddress(l, streams[0]!).streamName));
    if (chosen.length === 0) throw usageError(`worker "${worker}" holds no lease in application "${appName}" (status lists the workers)`);
  }
  const out = await Promise.all(
    chosen.map(async (l): Promise<Released> => ({
      ...leaseAddress(l, streams[0]!),
      owner: holderOf(l)!,
      leaseCounter: l.leaseCounter,
      released: await leases.release(l.leaseKey, holderOf(l)!),
    })),
  );
  const lost = out.filter((r) => !r.released);
  if (shard !== undefined && lost.length > 0) {
    throw new KinesisClientError('LEASE_CHANGED', `the lease of ${name} changed owner before it could be released; nothing was written`, { details: { streamName: out[0]!.streamName, shardId: shard } });
  }
  return out;
}
