/**
 * Resharding a stream from the outside, as an operator would: SplitShard at a shard's hash-range
 * midpoint, MergeShards of two adjacent shards, waiting for ACTIVE in between (a stream takes no
 * second update while UPDATING). Used by the demo, the reshard test and the reshard benchmark.
 */
import {
  DescribeStreamSummaryCommand,
  MergeShardsCommand,
  SplitShardCommand,
  type KinesisClient,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { listAllShards as listShards } from '@kinesis-client/core/internal';

export async function waitForActive(kinesis: KinesisClient, streamName: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { StreamDescriptionSummary } = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    if (StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    if (Date.now() > deadline) throw new Error(`stream ${streamName} not ACTIVE after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const openShards = (shards: readonly Shard[]) => shards.filter((s) => !s.SequenceNumberRange?.EndingSequenceNumber);

/** The shards that the last split or merge created, once the stream is ACTIVE again. */
async function created(kinesis: KinesisClient, streamName: string, before: readonly Shard[]): Promise<Shard[]> {
  await waitForActive(kinesis, streamName);
  const known = new Set(before.map((s) => s.ShardId));
  return (await listShards(kinesis, streamName)).filter((s) => !known.has(s.ShardId));
}

/** Splits an open shard in two at the middle of its hash range; resolves to the two children. */
export async function splitShard(kinesis: KinesisClient, streamName: string, shardId: string): Promise<Shard[]> {
  await waitForActive(kinesis, streamName);
  const before = await listShards(kinesis, streamName);
  const shard = before.find((s) => s.ShardId === shardId);
  if (!shard?.HashKeyRange) throw new Error(`no shard ${shardId} in ${streamName}`);
  const start = BigInt(shard.HashKeyRange.StartingHashKey!);
  const end = BigInt(shard.HashKeyRange.EndingHashKey!);
  const middle = start + (end - start + 1n) / 2n;
  await kinesis.send(new SplitShardCommand({ StreamName: streamName, ShardToSplit: shardId, NewStartingHashKey: middle.toString() }));
  return created(kinesis, streamName, before);
}

/** Merges two adjacent open shards; resolves to the merged child. */
export async function mergeShards(kinesis: KinesisClient, streamName: string, shardId: string, adjacentShardId: string): Promise<Shard> {
  await waitForActive(kinesis, streamName);
  const before = await listShards(kinesis, streamName);
  await kinesis.send(new MergeShardsCommand({ StreamName: streamName, ShardToMerge: shardId, AdjacentShardToMerge: adjacentShardId }));
  const [child] = await created(kinesis, streamName, before);
  if (!child) throw new Error(`merging ${shardId} and ${adjacentShardId} created no shard`);
  return child;
}

/** `shardId-000000000004` -> `s4`. */
export const shortShardId = (shardId: string) => `s${Number(shardId.replace(/^shardId-/, ''))}`;

/**
 * The shard graph on one line: open shards, then every split ("s0>s4+s5") and merge
 * ("s4+s5>s6") so far; `ended` marks shards whose SHARD_END this worker has written.
 */
export function formatShardGraph(shards: readonly Shard[], ended: ReadonlySet<string> = new Set()): string {
  const openIds = openShards(shards).map((s) => shortShardId(s.ShardId!));
  // keyed by the parents, in the order the children were created: "s0" -> s4,s5; "s4+s5" -> s6
  const edges = new Map<string, string[]>();
  for (const s of shards) {
    const parents = [s.ParentShardId, s.AdjacentParentShardId].filter((p): p is string => !!p).map(shortShardId);
    if (parents.length > 0) edges.set(parents.join('+'), [...(edges.get(parents.join('+')) ?? []), shortShardId(s.ShardId!)]);
  }
  const reshards = [...edges].map(([parents, kids]) => `${parents}>${kids.join('+')}`);
  const endedIds = shards.filter((s) => ended.has(s.ShardId!)).map((s) => shortShardId(s.ShardId!));
  return [`open ${openIds.join(',')}`, reshards.length ? `reshards ${reshards.join(' ')}` : '', endedIds.length ? `ended ${endedIds.join(',')}` : '']
    .filter(Boolean)
    .join(' | ');
}
