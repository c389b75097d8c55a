/**
 * `reset`: moves a shard's checkpoint, with the lease store's own fenced writes only (take,
 * checkpoint, release), so a worker never loses progress to a write it did not see coming: the
 * CLI takes the lease (conditional on the counter it read), writes the checkpoint as the owner,
 * and releases it; the next owner starts from the new position by the library's resume rule
 * (worker/src/reader/start-position.ts). A live owner is left alone unless --force: its next
 * renewal then fails on the counter, and it stops the shard.
 */
import { KinesisClientError } from '@kinesis-client/worker';
import type { LeaseSnapshot, LeaseStore } from '@kinesis-client/worker/lease';
import type { Found } from './find.js';
import type { ResetTarget } from './target.js';

export interface PositionView {
  checkpoint: string;
  subSequenceNumber: number;
  /** ISO, the anchor of a LATEST / AT_TIMESTAMP checkpoint. */
  timestamp: string | undefined;
  owner: string | undefined;
  leaseCounter: number;
}

export interface ResetResult {
  streamName: string;
  shardId: string;
  before: PositionView;
  after: PositionView;
  /** The live owner --force took the lease from. */
  forcedFrom: string | undefined;
}

const view = (l: LeaseSnapshot): PositionView => ({
  checkpoint: l.checkpoint,
  subSequenceNumber: l.checkpointSubSequenceNumber,
  timestamp: l.checkpointTimestamp === undefined ? undefined : new Date(l.checkpointTimestamp).toISOString(),
  owner: l.leaseOwner,
  leaseCounter: l.leaseCounter,
});

const changed = (leaseKey: string, what: string) =>
  new KinesisClientError('LEASE_CHANGED', `the lease ${leaseKey} changed while ${what} (another worker wrote it); nothing more was written, run the command again`, {
    details: { leaseKey },
  });

/**
 * The owner's liveness, as the takers judge it: the lease counter is watched until it moves (the
 * owner renewed: live) or stands still for failoverMs (expired). Resolves to the lease as last
 * read and whether its owner is live.
 */
export async function watchOwner(leases: LeaseStore, lease: LeaseSnapshot, failoverMs: number, pollMs = 250): Promise<{ lease: LeaseSnapshot; live: boolean }> {
  const started = performance.now();
  for (;;) {
    const now = await leases.get(lease.leaseKey);
    if (!now) throw changed(lease.leaseKey, 'its owner was watched');
    if (now.leaseCounter !== lease.leaseCounter || now.leaseOwner !== lease.leaseOwner) return { lease: now, live: !!now.leaseOwner };
    if (performance.now() - started >= failoverMs) return { lease: now, live: false };
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

export interface ResetInput {
  leases: LeaseStore;
  /** The lease as found by its shard's address (find.ts). */
  found: Found;
  /** How messages name the shard. */
  name: string;
  target: ResetTarget;
  force: boolean;
  failoverMs: number;
  me: string;
}

/**
 * Takes the lease at the counter read. A live owner renews between the read and the take, so
 * --force reads again and retries a few times; each take is still conditional, so it never
 * overwrites a write it did not see. Without --force the owner was judged gone: a failed take
 * means someone else wrote the lease.
 */
async function takeLease(leases: LeaseStore, lease: LeaseSnapshot, me: string, force: boolean): Promise<LeaseSnapshot> {
  let current = lease;
  for (let attempt = 1; ; attempt++) {
    if (await leases.take(current, me)) return current;
    const fresh = await leases.get(current.leaseKey);
    if (!force || attempt >= 10 || !fresh) throw changed(current.leaseKey, 'it was taken');
    current = fresh;
  }
}

/** The writes of a lease the CLI holds at `counter`. */
async function writePosition(leases: LeaseStore, leaseKey: string, counter: number, me: string, target: ResetTarget): Promise<void> {
  // 2. the checkpoint, as the owner (it removes any anchor: a sentinel's anchor is written next)
  if (!(await leases.checkpoint(leaseKey, counter, me, target.checkpoint, 0))) throw changed(leaseKey, 'the checkpoint was written');
  if (target.timestamp === undefined) return;
  // 3. a time: its anchor, written as a take writes one (the only write that sets checkpointTimestamp)
  const held = await leases.get(leaseKey);
  if (!held || held.leaseCounter !== counter + 1 || held.leaseOwner !== me || !(await leases.take(held, me, target.timestamp))) {
    throw changed(leaseKey, 'the time was written');
  }
}

export async function reset({ leases, found, name, target, force, failoverMs, me }: ResetInput): Promise<ResetResult> {
  const { leaseKey } = found.lease;
  const { streamName, shardId } = found.address;
  let current = found.lease;
  if (current.leaseOwner) {
    const watched = force ? { lease: current, live: true } : await watchOwner(leases, current, failoverMs);
    current = watched.lease;
    if (watched.live && !force) {
      throw new KinesisClientError(
        'LEASE_HELD',
        `worker "${current.leaseOwner}" holds ${name} and renewed it within the failover time (${failoverMs} ms): stop it first, or pass --force to take the lease from it`,
        { details: { streamName, shardId, owner: current.leaseOwner } },
      );
    }
  }
  // 1. take: conditional on the counter read; a live owner's next renewal or checkpoint now fails
  current = await takeLease(leases, current, me, force);
  // as it was when taken
  const before = view(current);
  const forcedFrom = force ? current.leaseOwner : undefined;
  try {
    await writePosition(leases, leaseKey, current.leaseCounter + 1, me, target);
  } finally {
    // 4. free for any worker at once (after a failed write too: the CLI never keeps a lease)
    await leases.release(leaseKey, me);
  }
  const after = await leases.get(leaseKey);
  return { streamName, shardId, before, after: after ? view(after) : before, forcedFrom };
}
