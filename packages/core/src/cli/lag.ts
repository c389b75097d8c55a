/**
 * How far a shard's checkpoint is behind the stream, read the cheap way: an iterator right after
 * the checkpoint and one GetRecords of at most one record. Kinesis answers MillisBehindLatest
 * (how far that position is from the tip), and the record, if any, is the oldest one not yet
 * checkpointed: its arrival time says how long it has waited. Two calls per shard, so `watch`
 * costs each shard one GetRecords per interval of its five per second.
 */
import { GetRecordsCommand, GetShardIteratorCommand, type GetShardIteratorCommandInput, type KinesisClient } from '@aws-sdk/client-kinesis';
import { SHARD_END, type LeaseSnapshot } from '@kinesis-client/worker/lease';
import { shardKey, type ShardAddress } from '@kinesis-client/worker/internal';

export interface Lag {
  /** Kinesis's MillisBehindLatest at the checkpoint. */
  millisBehindLatest?: number;
  /** Epoch ms: ApproximateArrivalTimestamp of the first record after the checkpoint; absent when there is none. */
  oldestUnreadArrival?: number;
  /** Why it could not be read (a throttled call, a sequence number out of the retention). */
  error?: string;
}

/** Where a status read starts for this lease, or why it does not (at shard end, a LATEST lease never read). */
export function lagStart(lease: LeaseSnapshot): Omit<GetShardIteratorCommandInput, 'StreamName' | 'ShardId'> | 'at shard end' | 'not started' {
  switch (lease.checkpoint) {
    case SHARD_END:
      return 'at shard end';
    case 'TRIM_HORIZON':
      return { ShardIteratorType: 'TRIM_HORIZON' };
    case 'LATEST':
    case 'AT_TIMESTAMP':
      // a sentinel names no record; its anchor, once a worker took it, is where reading starts
      return lease.checkpointTimestamp === undefined ? 'not started' : { ShardIteratorType: 'AT_TIMESTAMP', Timestamp: new Date(lease.checkpointTimestamp) };
    default:
      return { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: lease.checkpoint };
  }
}

/** The lag of a lease of the shard at `address` (its stream and shard id: a lease key is not a shard id). */
export async function readLag(kinesis: KinesisClient, address: ShardAddress, lease: LeaseSnapshot): Promise<Lag | 'at shard end' | 'not started'> {
  const start = lagStart(lease);
  if (typeof start === 'string') return start;
  try {
    const { ShardIterator } = await kinesis.send(new GetShardIteratorCommand({ StreamName: address.streamName, ShardId: address.shardId, ...start }));
    const out = await kinesis.send(new GetRecordsCommand({ ShardIterator, Limit: 1 }));
    const arrival = out.Records?.[0]?.ApproximateArrivalTimestamp?.getTime();
    return { ...(out.MillisBehindLatest === undefined ? {} : { millisBehindLatest: out.MillisBehindLatest }), ...(arrival === undefined ? {} : { oldestUnreadArrival: arrival }) };
  } catch (error) {
    return { error: `${(error as Error)?.name ?? 'Error'}: ${(error as Error)?.message ?? String(error)}` };
  }
}

/** Every lease's lag, a few shards at a time, by shardKey (`stream/shardId`). */
export async function readLags(
  kinesis: KinesisClient,
  leases: readonly LeaseSnapshot[],
  addressOf: (lease: LeaseSnapshot) => ShardAddress,
  parallel = 8,
): Promise<Map<string, Lag | 'at shard end' | 'not started'>> {
  const out = new Map<string, Lag | 'at shard end' | 'not started'>();
  const queue = [...leases];
  await Promise.all(
    Array.from({ length: Math.min(parallel, queue.length) }, async () => {
      for (let lease = queue.shift(); lease; lease = queue.shift()) {
        const address = addressOf(lease);
        out.set(shardKey(address), await readLag(kinesis, address, lease));
      }
    }),
  );
  return out;
}
