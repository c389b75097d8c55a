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
import { parseLeaseKey } from '../stream-identifier.js';

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
  /**
   * Set while a graceful handoff is pending (the Java KCL 3.x protocol): the worker handing the
   * lease over, which still holds it, renews it and writes its final checkpoint; `leaseOwner` is
   * then the worker it goes to, which must not process the shard until this is cleared.
   */
  checkpointOwner?: string | undefined;
  /**
   * Epoch ms: where a LATEST or AT_TIMESTAMP lease is read from by any start but its first
   * owner's first (see docs/positions.md); removed by the first concrete checkpoint.
   */
  checkpointTimestamp?: number;
}

/**
 * The shard a lease is for. A single-stream key is the bare shard id (the Java KCL's single-stream
 * table), so its stream is the application's one, `streamName`; a multi-stream key
 * (`account:stream:epoch:shardId`) names its own stream (worker/src/stream-identifier.ts).
 */
export function leaseAddress(lease: Pick<LeaseSnapshot, 'leaseKey'>, streamName: string): ShardAddress {
  const parsed = parseLeaseKey(lease.leaseKey);
  return { streamName: parsed.stream?.streamName ?? streamName, shardId: parsed.shardId };
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

/** A renewal or checkpoint that held; `nextOwner` when a handoff of the lease to that worker is pending. */
export type HeldWrite = { nextOwner: string | undefined };

/**
 * The worker that holds a lease: processes its shard, renews it, checkpoints it. During a pending
 * handoff that is the checkpointOwner (the Java KCL's `actualOwner()`); a row without leaseOwner
 * is free, whatever else it carries.
 */
export function holderOf(lease: Pick<LeaseSnapshot, 'leaseOwner' | 'checkpointOwner'>): string | undefined {
  return lease.leaseOwner === undefined ? undefined : (lease.checkpointOwner ?? lease.leaseOwner);
}

/** The worker a lease is being handed to, while a handoff is pending. */
export function handingTo(lease: Pick<LeaseSnapshot, 'leaseOwner' | 'checkpointOwner'>): string | undefined {
  return lease.leaseOwner !== undefined && lease.checkpointOwner !== undefined ? lease.leaseOwner : undefined;
}

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
   * handoff is ended (checkpointOwner removed), a change of holder adds one to ownerSwitchesSinceCheckpoint.
   * `anchor` (epoch ms) becomes checkpointTimestamp unless one is there. false: someone else
   * wrote the lease since it was read.
   */
  take(lease: LeaseSnapshot, owner: string, anchor?: number): Promise<boolean>;
  /**
   * Only by the holder `owner` (see holderOf) at `counter`: counter + 1. false: the lease was lost
   * (taken, released, handed over, or a handoff forced).
   */
  renew(leaseKey: string, counter: number, owner: string): Promise<false | HeldWrite>;
  /**
   * Only by the holder `owner` at `counter`: sets checkpoint and sub-sequence number, resets owner switches,
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
  /**
   * Only by the holder `owner`, counter + 1, as the Java KCL 3.x's evictLease: a plain owner frees
   * the lease (no owner); a checkpointOwner removes checkpointOwner, so the lease is the worker's
   * it was being handed to. false: not the holder.
   */
  release(leaseKey: string, owner: string): Promise<boolean>;
  /**
   * Starts a graceful handoff (the Java KCL 3.x's initiateGracefulLeaseHandoff), only while
   * `owner` is leaseOwner and no handoff is pending: leaseOwner = `to`, checkpointOwner = `owner`,
   * counter untouched, so the owner keeps renewing and checkpointing until it has drained the shard.
   */
  initiateHandoff(leaseKey: string, owner: string, to: string): Promise<boolean>;
  /**
   * The holder ends the handoff after its final checkpoint, only while checkpointOwner = `owner`
   * and leaseOwner = `to` (the Java KCL 3.x's assignLease, as its old owner calls it):
   * checkpointOwner removed, counter + 1, owner switches + 1. The lease is never free in between.
   */
  completeHandoff(leaseKey: string, owner: string, to: string): Promise<boolean>;
  /**
   * The receiver `to` gives a pending handoff up, only while leaseOwner = `to` and checkpointOwner
   * = `owner`: leaseOwner = `owner` again, checkpointOwner removed, counter untouched, so an owner
   * that ignores checkpointOwner (a Java KCL 2.x worker) keeps the lease it never stopped renewing.
   */
  cancelHandoff(leaseKey: string, owner: string, to: string): Promise<boolean>;
  /** Deletes a lease only at SHARD_END. false: gone already or not finished. */
  deleteFinished(leaseKey: string): Promise<boolean>;
  /** Deletes a lease only while nobody holds it (no leaseOwner): a removed stream's rows. false: held or gone. */
  deleteReleased(leaseKey: string): Promise<boolean>;
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
  initiateHandoff: 'UpdateItem',
  completeHandoff: 'UpdateItem',
  cancelHandoff: 'UpdateItem',
  deleteFinished: 'DeleteItem',
  deleteReleased: 'DeleteItem',
} as const satisfies Record<keyof LeaseStore, string>;

export type StoreOperation = keyof typeof STORE_COMMANDS;
