/**
 * Which lease a `--shard` names. A lease key is not a shard id (a multi-stream table's key is
 * `account:stream:epoch:shardId`), so the lease is found by its address, and a shard id that
 * several streams share (each stream has a shardId-000000000000) must be told apart with --stream.
 */
import { leaseAddress, type LeaseSnapshot } from '@kinesis-client/worker/lease';
import type { ShardAddress } from '@kinesis-client/worker/internal';
import { usageError } from './usage.js';

export interface Found {
  lease: LeaseSnapshot;
  address: ShardAddress;
}

/** The lease of `shardId` among the leases of `streams` (the first is the stream of bare shard-id keys). */
export function findLease(leases: readonly LeaseSnapshot[], streams: readonly string[], shardId: string, appName: string): Found {
  const matches = leases
    .map((lease) => ({ lease, address: leaseAddress(lease, streams[0]!) }))
    .filter(({ address }) => address.shardId === shardId && streams.includes(address.streamName));
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) {
    const where = streams.length === 1 ? '' : ` of streams ${streams.join(', ')}`;
    throw usageError(`shard "${shardId}" has no lease${where} in application "${appName}" (status lists the shards)`);
  }
  // in the order the streams were given, not the store's scan order (a hash order in DynamoDB)
  const names = streams.filter((name) => matches.some((m) => m.address.streamName === name));
  throw usageError(`shard "${shardId}" is in ${names.length} streams of application "${appName}" (${names.join(', ')}): name one with --stream`);
}

/** How a shard is named in messages: with its stream unless it is of the one stream given. */
export const shardName = (address: ShardAddress, streams: readonly string[]) =>
  streams.length === 1 && address.streamName === streams[0] ? address.shardId : `${address.streamName}/${address.shardId}`;
