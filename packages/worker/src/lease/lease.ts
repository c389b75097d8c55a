/**
 * Leases in domain terms: what a lease store holds and the writes every store must offer. The
 * coordinator, the lease actor and the shard hosts speak only this; DynamoDB (lease-table.ts) and
 * memory (memory-lease-store.ts) are adapters behind it, and the contract suite in
 * core/test/helpers/lease-store-contract.ts pins the semantics they share.
 *
 * Fencing is by the lease counter: every write that moves ownership or progress is conditional on
 * the counter (and owner) the writer last saw, and bumps it, so a worker that has lost a lease can
 * never overwrite its new owner's progress. A condition that does not hold is `false`, not an error.
 */
import type { ShardAddress } from '../shard-address.js';

/** The checkpoint of a shard that has been read to its end; its children may start. */
export const SHARD_END = 'SHARD_END';
/** Checkpoints of a lease not yet started: where to start, not a position reached. */
const TRIM_HORIZON = 'TRIM_HORIZON';
const LATEST = 'LATEST';
const AT_TIMESTAMP = 'AT_TIMESTAMP';
/** The checkpoints that come before any record. */
export const START_SENTINELS: ReadonlySet<string> = new Set([TRIM_HORIZON, LATEST, AT_TIMESTAMP]);

/** A lease as last read from the store. */
export interface LeaseSnapshot {
  leaseKey: string;
  leaseOwner: string | undefined;
  leaseCounter: number;
  checkpoint: string;
  checkpointSubSequenceNumber: number;
  ownerSwitchesSinceCheckpoint: number;
  parentShardIds: string[];
  childShardIds: string[];
  startingHashKey: string | undefined;
  endingHashKey: string | undefined;
  /** A worker that asked the owner to hand the lease over (after a final checkpoint). */
  handoffTo?: string | undefined;
  /**
   * Epoch ms: where a LATEST or AT_TIMESTAMP lease is read from by any start but its first
   * owner's first (see docs/positions.md); removed by the first concrete checkpoint.
   */
  checkpointTimestamp?: number;
}

/**
 * The shard a lease is for. A lease key is the shard id, as in the Java KCL's single-stream table,
 * so the stream is the one the system reads; a key that names its stream would be parsed here.
 */
export function leaseAddress(lease: Pick<LeaseSnapshot, 'leaseKey'>, streamName: string): ShardAddress {
  return { streamName, shardId: lease.leaseKey };
}

/** A lease to create: free, counter 0, no owner switches. */
export interface NewLease {
  leaseKey: string;
  checkpoint: string;
  parentShardIds: string[];
  childShardIds?: string[];
  startingHashKey?: string | undefined;
  endingHashKey?: string | undefined;
}

/** A renewal or checkpoint that held; `handoffTo` when another worker asked for the lease. */
export type HeldWrite = { handoffTo: string | undefined };

/** A lease row a store holds but cannot read (written by something else), by its key and why. */
export interface UnreadableRow {
  leaseKey: string;
  reason: string;
  /** The row as stored, canonical: a change of the row changes it. */
  fingerprint: string;
}

export interface LeaseStore {
  /** Makes the store ready (creates the table if missing); whether it was there already. */
  ensure(timeoutMs?: number): Promise<'existed' | 'created'>;
  /** Every readable lease, read consistently. */
  scan(): Promise<LeaseSnapshot[]>;
  /** Every lease, and the rows that cannot be read (never taken, reported and left alone). */
  scanRows(): Promise<{ leases: LeaseSnapshot[]; unreadable: UnreadableRow[] }>;
  get(leaseKey: string): Promise<LeaseSnapshot | undefined>;
  /** Only if no lease has this key: false when another worker created it first (which is fine). */
  create(lease: NewLease): Promise<boolean>;
  /**
   * Only at `lease.leaseCounter` (the counter seen): owner becomes `owner`, counter + 1, a pending
   * handoff request is settled, a change of owner adds one to ownerSwitchesSinceCheckpoint.
   * `anchor` (epoch ms) becomes checkpointTimestamp unless one is there. false: someone else
   * wrote the lease since it was read.
   */
  take(lease: LeaseSnapshot, owner: string, anchor?: number): Promise<boolean>;
  /** Only by `owner` at `counter`: counter + 1. false: the lease was lost (taken, released, stolen). */
  renew(leaseKey: string, counter: number, owner: string): Promise<false | HeldWrite>;
  /**
   * Only by `owner` at `counter`: sets checkpoint and sub-sequence number, resets owner switches,
   * removes checkpointTimestamp, adds `childShardIds`, and renews (counter + 1). false: lost.
   */
  checkpoint(
    leaseKey: string,
    counter: number,
    owner: string,
    checkpoint: string,
    subSequenceNumber: number,
    childShardIds?: readonly string[],
  ): Promise<false | HeldWrite>;
  /** Adds children to an existing lease; counter untouched so the owner is not fenced out. false: no such lease. */
  addChildShardIds(leaseKey: string, childShardIds: readonly string[]): Promise<boolean>;
  /** Only by `owner`: no owner, no handoff request, counter + 1. false: not the owner. */
  release(leaseKey: string, owner: string): Promise<boolean>;
  /** Sets handoffTo = `to` only while `owner` holds it and no request is pending; counter untouched. */
  requestHandoff(leaseKey: string, owner: string, to: string): Promise<boolean>;
  /** Removes the request only if it is `to`'s. */
  withdrawHandoff(leaseKey: string, to: string): Promise<boolean>;
  /**
   * Only while `owner` holds it and `to` asked: owner becomes `to` directly (never free in
   * between), request removed, counter + 1, owner switches + 1. false: withdrawn or lost.
   */
  handoff(leaseKey: string, owner: string, to: string): Promise<boolean>;
  /** Deletes a lease only at SHARD_END. false: gone already or not finished. */
  deleteFinished(leaseKey: string): Promise<boolean>;
}

/**
 * The command name of each store operation, as `system.faults.failCalls` matches it, on every
 * store: the DynamoDB command the operation is (lease-table.ts sends exactly these; `ensure` starts
 * with DescribeTable). So `failCalls({ command: 'UpdateItem' })` fails the same operations
 * (take, renew, checkpoint, release, the handoff writes) whether the leases are in DynamoDB,
 * PostgreSQL or Redis, and a fault test runs unchanged on each.
 */
export const STORE_COMMANDS = {
  ensure: 'DescribeTable',
  scan: 'Scan',
  scanRows: 'Scan',
  get: 'GetItem',
  create: 'PutItem',
  take: 'UpdateItem',
  renew: 'UpdateItem',
  checkpoint: 'UpdateItem',
  addChildShardIds: 'UpdateItem',
  release: 'UpdateItem',
  requestHandoff: 'UpdateItem',
  withdrawHandoff: 'UpdateItem',
  handoff: 'UpdateItem',
  deleteFinished: 'DeleteItem',
} as const satisfies Record<keyof LeaseStore, string>;

export type StoreOperation = keyof typeof STORE_COMMANDS;
