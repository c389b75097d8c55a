/**
 * A LeaseStore in this process's memory: the same semantics as the DynamoDB table (the contract
 * suite runs both), for tests and single-process use. Each write checks its condition and applies
 * in one synchronous step, so concurrent callers in one process see the same atomicity a
 * conditional write gives; nothing is shared between processes or threads.
 */
import { SHARD_END, holderOf, type HeldWrite, type LeaseSnapshot, type LeaseStore, type NewLease, type UnreadableRow } from './lease.js';

/** Copies, so a caller's snapshot never aliases the stored lease. */
const copy = (lease: LeaseSnapshot): LeaseSnapshot => ({ ...lease, parentShardIds: [...lease.parentShardIds], childShardIds: [...lease.childShardIds] });

/** Set union in the order first seen, as a string set would hold it. */
const union = (a: readonly string[], b: readonly string[]): string[] => [...new Set([...a, ...b])];

export class MemoryLeaseStore implements LeaseStore {
  private readonly rows = new Map<string, LeaseSnapshot>();
  private ready = false;

  async ensure(): Promise<'existed' | 'created'> {
    const existed = this.ready;
    this.ready = true;
    return existed ? 'existed' : 'created';
  }

  async scan(): Promise<LeaseSnapshot[]> {
    return [...this.rows.values()].map(copy);
  }

  /** Only leases are ever written here, so no row is unreadable. */
  async scanRows(): Promise<{ leases: LeaseSnapshot[]; unreadable: UnreadableRow[] }> {
    return { leases: await this.scan(), unreadable: [] };
  }

  async get(leaseKey: string): Promise<LeaseSnapshot | undefined> {
    const row = this.rows.get(leaseKey);
    return row && copy(row);
  }

  async create(lease: NewLease): Promise<boolean> {
    if (this.rows.has(lease.leaseKey)) return false;
    this.rows.set(lease.leaseKey, {
      leaseKey: lease.leaseKey,
      leaseOwner: undefined,
      leaseCounter: 0,
      checkpoint: lease.checkpoint,
      checkpointSubSequenceNumber: 0,
      ownerSwitchesSinceCheckpoint: 0,
      parentShardIds: union([], lease.parentShardIds),
      childShardIds: union([], lease.childShardIds ?? []),
      startingHashKey: lease.startingHashKey || undefined,
      endingHashKey: lease.endingHashKey || undefined,
    });
    return true;
  }

  async take(lease: LeaseSnapshot, owner: string, anchor?: number): Promise<boolean> {
    const row = this.rows.get(lease.leaseKey);
    if (!row || row.leaseCounter !== lease.leaseCounter) return false;
    // a switch is judged against the snapshot the taker decided on, as the DynamoDB adapter does
    if (holderOf(lease) !== owner) row.ownerSwitchesSinceCheckpoint += 1;
    row.leaseOwner = owner;
    row.leaseCounter += 1;
    delete row.checkpointOwner;
    if (anchor !== undefined && row.checkpointTimestamp === undefined) row.checkpointTimestamp = Math.floor(anchor);
    return true;
  }

  /** The row when `owner` holds it (holderOf) at `counter`: the condition of every owner's write. */
  private held(leaseKey: string, counter: number, owner: string): LeaseSnapshot | undefined {
    const row = this.rows.get(leaseKey);
    return row && row.leaseCounter === counter && holderOf(row) === owner ? row : undefined;
  }

  private static heldWrite(row: LeaseSnapshot, owner: string): HeldWrite {
    return { nextOwner: row.checkpointOwner === owner ? row.leaseOwner : undefined };
  }

  async renew(leaseKey: string, counter: number, owner: string): Promise<false | HeldWrite> {
    const row = this.held(leaseKey, counter, owner);
    if (!row) return false;
    row.leaseCounter += 1;
    return MemoryLeaseStore.heldWrite(row, owner);
  }

  async checkpoint(
    leaseKey: string,
    counter: number,
    owner: string,
    checkpoint: string,
    subSequenceNumber: number,
    childShardIds: readonly string[] = [],
  ): Promise<false | HeldWrite> {
    const row = this.held(leaseKey, counter, owner);
    if (!row) return false;
    row.leaseCounter += 1;
    row.checkpoint = checkpoint;
    row.checkpointSubSequenceNumber = subSequenceNumber;
    row.ownerSwitchesSinceCheckpoint = 0;
    delete row.checkpointTimestamp;
    row.childShardIds = union(row.childShardIds, childShardIds);
    return MemoryLeaseStore.heldWrite(row, owner);
  }

  async addChildShardIds(leaseKey: string, childShardIds: readonly string[]): Promise<boolean> {
    const row = this.rows.get(leaseKey);
    if (!row) return false;
    row.childShardIds = union(row.childShardIds, childShardIds);
    return true;
  }

  /** A plain owner frees the lease; a checkpointOwner lets it go to the worker it is handed to. */
  async release(leaseKey: string, owner: string): Promise<boolean> {
    const row = this.rows.get(leaseKey);
    if (!row || holderOf(row) !== owner) return false;
    if (row.checkpointOwner === owner) {
      delete row.checkpointOwner;
      row.ownerSwitchesSinceCheckpoint += 1;
    } else {
      row.leaseOwner = undefined;
    }
    row.leaseCounter += 1;
    return true;
  }

  async initiateHandoff(leaseKey: string, owner: string, to: string): Promise<boolean> {
    const row = this.rows.get(leaseKey);
    if (!row || row.leaseOwner !== owner || row.checkpointOwner !== undefined) return false;
    row.leaseOwner = to;
    row.checkpointOwner = owner;
    return true;
  }

  /** The row while a handoff from `owner` to `to` is pending. */
  private pending(leaseKey: string, owner: string, to: string): LeaseSnapshot | undefined {
    const row = this.rows.get(leaseKey);
    return row && row.leaseOwner === to && row.checkpointOwner === owner ? row : undefined;
  }

  async completeHandoff(leaseKey: string, owner: string, to: string): Promise<boolean> {
    const row = this.pending(leaseKey, owner, to);
    if (!row) return false;
    delete row.checkpointOwner;
    row.leaseCounter += 1;
    row.ownerSwitchesSinceCheckpoint += 1;
    return true;
  }

  async cancelHandoff(leaseKey: string, owner: string, to: string): Promise<boolean> {
    const row = this.pending(leaseKey, owner, to);
    if (!row) return false;
    row.leaseOwner = owner;
    delete row.checkpointOwner;
    return true;
  }

  async deleteReleased(leaseKey: string): Promise<boolean> {
    const row = this.rows.get(leaseKey);
    if (!row || row.leaseOwner !== undefined) return false;
    return this.rows.delete(leaseKey);
  }

  async deleteFinished(leaseKey: string): Promise<boolean> {
    if (this.rows.get(leaseKey)?.checkpoint !== SHARD_END) return false;
    return this.rows.delete(leaseKey);
  }
}
