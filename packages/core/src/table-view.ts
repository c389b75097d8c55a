import type { LeaseSnapshot, UnreadableRow } from '@kinesis-client/worker/lease';
import type { StreamUnit } from './stream-unit.js';

/**
 * A lease table scan as one stream's coordinator needs it (pure). The table may hold the leases
 * of several streams (multi-stream mode), and of streams this application does not consume (any
 * more, or under another epoch): those are left out of everything. Balancing counts every stream's
 * leases (`table`, global keys); shard sync and cleanup see this stream's alone under their shard
 * ids (`ours`), since parentShardIds and childShardIds hold shard ids, as the Java KCL writes them.
 */
export interface TableView {
  /** The leases of every stream of the system, by their lease keys. */
  table: LeaseSnapshot[];
  /** This stream's leases, keyed by shard id. */
  ours: LeaseSnapshot[];
  /** This stream's unreadable rows (by their lease keys, as stored). */
  unreadableRows: UnreadableRow[];
  /** Shard ids of this stream's unreadable rows. */
  unreadableOurs: Set<string>;
  /** Lease keys of every stream's unreadable rows. */
  unreadable: Set<string>;
  /** Lease keys of the shards the streams list; a stream not listed yet counts its leases and their parents. */
  listed: Set<string>;
  /** The lease key of a lease's parent shard. */
  parentKey(lease: LeaseSnapshot, parentShardId: string): string;
  /** Whether a lease (global key) is this stream's. */
  mine(lease: LeaseSnapshot): boolean;
}

export function tableView(
  scan: { leases: readonly LeaseSnapshot[]; unreadable: readonly UnreadableRow[] },
  stream: StreamUnit,
  streams: readonly StreamUnit[],
  listings: ReadonlyMap<string, ReadonlySet<string>>,
): TableView {
  const units = streams.includes(stream) ? streams : [stream, ...streams];
  const owner = (leaseKey: string) => {
    for (const unit of units) {
      const shardId = unit.shardOf(leaseKey);
      if (shardId !== undefined) return { unit, shardId };
    }
    return undefined;
  };
  const table: LeaseSnapshot[] = [];
  const ours: LeaseSnapshot[] = [];
  const listed = new Set<string>();
  for (const unit of units) for (const shardId of listings.get(unit.streamName) ?? []) listed.add(unit.leaseKeyOf(shardId));
  const unitOf = new Map<string, StreamUnit>();
  for (const lease of scan.leases) {
    const found = owner(lease.leaseKey);
    if (!found) continue;
    table.push(lease);
    unitOf.set(lease.leaseKey, found.unit);
    if (found.unit === stream) ours.push(stream.identifier ? { ...lease, leaseKey: found.shardId } : lease);
    if (!listings.has(found.unit.streamName)) {
      listed.add(lease.leaseKey);
      for (const parent of lease.parentShardIds) listed.add(found.unit.leaseKeyOf(parent));
    }
  }
  const unreadableRows: UnreadableRow[] = [];
  const unreadableOurs = new Set<string>();
  const unreadable = new Set<string>();
  for (const row of scan.unreadable) {
    const found = owner(row.leaseKey);
    if (!found) continue;
    unreadable.add(row.leaseKey);
    if (found.unit !== stream) continue;
    unreadableRows.push(row);
    unreadableOurs.add(found.shardId);
  }
  return {
    table,
    ours,
    unreadableRows,
    unreadableOurs,
    unreadable,
    listed,
    parentKey: (lease, parentShardId) => (unitOf.get(lease.leaseKey) ?? stream).leaseKeyOf(parentShardId),
    mine: (lease) => unitOf.get(lease.leaseKey) === stream,
  };
}
