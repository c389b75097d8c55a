/**
 * Lease rows of the DynamoDB table as items, in the Java KCL's layout: which rows are leases,
 * which of those can be read, and the item a new lease is written as. lease-table.ts does the
 * writes.
 *
 * The Java KCL 3.5 may keep rows that are not leases in the same table (worker metrics, leader
 * lock, migration state), each marked by `entityType`; a lease carries `entityType = LEASE` or,
 * written by the Java KCL 2.x or 3.0–3.4 (or by earlier versions of this library), no entityType.
 * docs/java-kcl.md has the source facts.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { LeaseSnapshot, NewLease } from './lease.js';
import { parseLeaseKey, serializeStreamIdentifier } from '../stream-identifier.js';

export type Item = Record<string, AttributeValue>;

/** The attribute that marks a row's kind, and its value on leases (the Java KCL's EntityType.LEASE). */
export const ENTITY_TYPE = 'entityType';
export const LEASE_ENTITY = 'LEASE';

/**
 * The Java KCL 3.x's GSI on the lease table (DynamoDBLeaseRefresher.LEASE_OWNER_TO_LEASE_KEY_INDEX_NAME):
 * hash leaseOwner, range leaseKey, keys only.
 */
export const LEASE_OWNER_INDEX = 'LeaseOwnerToLeaseKeyIndex';

/**
 * Part of every condition on an existing row: the row is a lease. A row of another kind is never
 * written, even when its key is one a caller names.
 */
export const IS_LEASE = `(attribute_not_exists(${ENTITY_TYPE}) OR ${ENTITY_TYPE} = :leaseEntity)`;
export const IS_LEASE_VALUES: Item = { ':leaseEntity': { S: LEASE_ENTITY } };

/** True for a row that is not a lease (another entityType): skipped by scans, never reported, never written. */
export function notALease(item: Item): boolean {
  const kind = item[ENTITY_TYPE];
  return kind?.S !== undefined && kind.S !== LEASE_ENTITY;
}

const isNumber = (v: AttributeValue | undefined) => v?.N !== undefined && Number.isFinite(Number(v.N));

/**
 * Why a lease row cannot be used, or undefined when it can. Such a row can never be taken (a
 * take's condition on leaseCounter would never hold), so it is reported and left alone rather
 * than read with made-up defaults. Optional attributes may be absent, but not of another type.
 */
export function leaseRowProblem(item: Item): string | undefined {
  if (!item.leaseKey?.S) return 'leaseKey is missing or not a string';
  if (item[ENTITY_TYPE] && item[ENTITY_TYPE].S === undefined) return `${ENTITY_TYPE} is not a string`;
  if (!item.leaseCounter) return 'leaseCounter is missing';
  if (!isNumber(item.leaseCounter)) return 'leaseCounter is not a number';
  for (const key of ['checkpoint', 'leaseOwner', 'checkpointOwner', 'startingHashKey', 'endingHashKey']) {
    if (item[key] && item[key].S === undefined) return `${key} is not a string`;
  }
  for (const key of ['checkpointSubSequenceNumber', 'ownerSwitchesSinceCheckpoint']) {
    if (item[key] && !isNumber(item[key])) return `${key} is not a number`;
  }
  for (const key of ['parentShardId', 'childShardIds']) {
    if (item[key] && item[key].SS === undefined) return `${key} is not a string set`;
  }
  return undefined;
}

export const canonical = (value: unknown): string =>
  value && typeof value === 'object' && !Array.isArray(value)
    ? `{${Object.keys(value)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
        .join(',')}}`
    : JSON.stringify(value);

/**
 * A `handoffTo` left by an earlier version of this library (its own handoff request) is not read:
 * nobody answers it any more, and the next take, release or handoff of the row removes it.
 */
export function leaseFromItem(item: Item): LeaseSnapshot {
  return {
    leaseKey: item.leaseKey?.S ?? '',
    leaseOwner: item.leaseOwner?.S || undefined,
    leaseCounter: Number(item.leaseCounter?.N ?? 0),
    checkpoint: item.checkpoint?.S ?? 'TRIM_HORIZON',
    checkpointSubSequenceNumber: Number(item.checkpointSubSequenceNumber?.N ?? 0),
    ownerSwitchesSinceCheckpoint: Number(item.ownerSwitchesSinceCheckpoint?.N ?? 0),
    parentShardIds: item.parentShardId?.SS ?? [],
    childShardIds: item.childShardIds?.SS ?? [],
    startingHashKey: item.startingHashKey?.S || undefined,
    endingHashKey: item.endingHashKey?.S || undefined,
    ...(item.checkpointOwner?.S ? { checkpointOwner: item.checkpointOwner.S } : {}),
    ...(item.checkpointTimestamp?.N ? { checkpointTimestamp: Number(item.checkpointTimestamp.N) } : {}),
  };
}

/**
 * A new lease, marked `entityType = LEASE` as the Java KCL 3.x writes its own (older readers ignore
 * it). A multi-stream lease's `streamName` and `shardId` attributes are read back from its key
 * (the key holds both), so rows written by the Java KCL and by this library read alike.
 */
export function itemFromNewLease(lease: NewLease): Item {
  const item: Item = {
    leaseKey: { S: lease.leaseKey },
    leaseCounter: { N: '0' },
    checkpoint: { S: lease.checkpoint },
    checkpointSubSequenceNumber: { N: '0' },
    ownerSwitchesSinceCheckpoint: { N: '0' },
    [ENTITY_TYPE]: { S: LEASE_ENTITY },
  };
  if (lease.parentShardIds.length > 0) item.parentShardId = { SS: [...lease.parentShardIds] };
  if (lease.childShardIds?.length) item.childShardIds = { SS: [...lease.childShardIds] };
  if (lease.startingHashKey) item.startingHashKey = { S: lease.startingHashKey };
  if (lease.endingHashKey) item.endingHashKey = { S: lease.endingHashKey };
  // a multi-stream lease names its stream and shard in attributes of their own, as the Java KCL's
  // DynamoDBMultiStreamLeaseSerializer writes them (the stream identifier under `streamName`)
  const { stream, shardId } = parseLeaseKey(lease.leaseKey);
  if (stream) {
    item.streamName = { S: serializeStreamIdentifier(stream) };
    item.shardId = { S: shardId };
  }
  return item;
}
