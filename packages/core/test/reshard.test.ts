import test, { type ExecutionContext } from 'ava';
import { type System } from '@kinesis-client/core';
import { listAllShards } from '@kinesis-client/core/internal';
import { SHARD_END } from '@kinesis-client/worker/lease';
import { CountingProducer, createStream, mergeShards, shortShardId as short, splitShard, startSystem, uniqueName, withLocalAws, type Produced } from '@kinesis-client/examples/testing';
import { Deliveries, eventually, fixture } from './helpers/recording.js';

const aws = withLocalAws(test);
import { withStores, type StoreKind } from './helpers/stores.js';

const stores = withStores(test, aws, ['postgres', 'redis', 'memory']);

// odd and small, so a parent's last records rarely fill a whole batch: the shard end comes mid-batch
const BATCH_SIZE = 7;

interface Run {
  kind: StoreKind;
  stream: string;
  tableName: string;
  produced: Produced[];
  deliveries: Deliveries;
  /** Per shard, every checkpoint event in the order the system emitted it. */
  checkpoints: Map<string, string[]>;
  ended: Set<string>;
  /** Per worker, the shards whose lease it acquired. */
  owners: Map<string, string[]>;
  errors: string[];
}

/**
 * A continuous producer writes per-key counters into a 2-shard stream while the test splits
 * shard 0, merges the two children, then splits the merged shard: three generations below it.
 * Each step waits until the new shards' records are being handled, so every step happens under load.
 */
async function reshardUnderLoad(workers: number, kind: StoreKind = 'dynamodb'): Promise<Run> {
  const stream = uniqueName('reshard');
  const appName = uniqueName('app');
  await createStream(aws.kinesis, stream, 2);
  const deliveries = new Deliveries();
  const checkpoints = new Map<string, string[]>();
  const ended = new Set<string>();
  const owners = new Map<string, string[]>();
  const errors: string[] = [];
  const producer = new CountingProducer(aws.kinesis, stream, { keys: 24, perTick: 24, tickMs: 40 });
  producer.start();
  const systems: System[] = [];
  try {
    const start = async (i: number) => {
      const { system } = await startSystem({
        aws,
        stream,
        app: appName,
        // a slow consumer, so a burst written just before each split leaves the parent a backlog
        // to work through while its children are already listed: an early child would show
        consumer: fixture('recording-consumer.mjs', { channel: deliveries.channelName, delayMs: 5 }),
        options: {
          workerId: `worker-${i}`,
          ...stores.options(kind, appName),
          batchers: { batchSize: BATCH_SIZE },
          retrieval: { idleMs: 100 },
          processors: { concurrency: 2 },
          shardHosts: { threads: 2 },
          lease: { failoverMs: 10_000, takeIntervalMs: 200 },
        },
      });
      systems.push(system);
      // in the same task as createSystem's return, before its held start-up events are delivered: none is missed
      system.events.on('checkpoint', (e) => checkpoints.set(e.shardId, [...(checkpoints.get(e.shardId) ?? []), e.sequenceNumber]));
      system.events.on('error', (e) => errors.push(`${e.shardId ?? '-'}: ${e.error.message}`));
      system.events.on('shard:ended', (e) => ended.add(e.shardId));
      system.events.on('lease:acquired', (e) => owners.set(e.workerId, [...(owners.get(e.workerId) ?? []), short(e.shardId)]));
    };
    await Promise.all(Array.from({ length: workers }, (_, i) => start(i)));
    const handled = (shardId: string) => deliveries.batches.some((b) => b.shardId === shardId);
    const whileHandled = (ids: string[], what: string) => deliveries.waitFor(() => ids.every(handled), 60_000, what);

    await whileHandled(['shardId-000000000000', 'shardId-000000000001'], 'both initial shards');
    const reshard = async <T>(change: () => Promise<T>) => {
      await producer.burst(1_000);
      return change();
    };
    const split = await reshard(() => splitShard(aws.kinesis, stream, 'shardId-000000000000'));
    await whileHandled(split.map((s) => s.ShardId!), 'the children of the first split');
    const merged = await reshard(() => mergeShards(aws.kinesis, stream, split[0]!.ShardId!, split[1]!.ShardId!));
    await whileHandled([merged.ShardId!], 'the merged shard');
    const again = await reshard(() => splitShard(aws.kinesis, stream, merged.ShardId!));
    await whileHandled(again.map((s) => s.ShardId!), 'the children of the second split');

    const produced = await producer.stop();
    const wanted = new Set(produced.map((p) => p.sequenceNumber));
    const seen = new Set<string>();
    await deliveries.waitFor(
      () => {
        for (const b of deliveries.batches) for (const s of b.sequenceNumbers) seen.add(s);
        return [...wanted].every((s) => seen.has(s));
      },
      60_000,
      `all ${produced.length} produced records`,
    );
    return { kind, stream, tableName: appName, produced, deliveries, checkpoints, ended, owners, errors };
  } finally {
    await producer.stop().catch(() => undefined);
    await Promise.all(systems.map((s) => s.stop()));
    deliveries.close();
  }
}

async function validate(t: ExecutionContext, run: Run) {
  const { produced, deliveries } = run;
  const shards = await listAllShards(aws.kinesis, run.stream);
  const parentsOf = new Map(shards.map((s) => [s.ShardId!, [s.ParentShardId, s.AdjacentParentShardId].filter((p): p is string => !!p)]));
  const closed = shards.filter((s) => s.SequenceNumberRange?.EndingSequenceNumber).map((s) => s.ShardId!);
  t.is(shards.length, 2 + 2 + 1 + 2, 'two initial shards, a split, a merge and a split');
  t.deepEqual(run.errors, [], 'no error events');

  // every record handled, by the shard it was written to
  const deliveredOn = new Map<string, string>();
  for (const b of deliveries.batches) for (const s of b.sequenceNumbers) deliveredOn.set(s, b.shardId);
  t.deepEqual(
    produced.filter((p) => deliveredOn.get(p.sequenceNumber) !== p.shardId),
    [],
    'every produced record was handled, on its own shard',
  );

  // per partition key, first deliveries follow the counter: 0, 1, 2, ... with none missing or out of order
  const firsts = new Map<string, number[]>();
  const seen = new Set<string>();
  for (const body of deliveries.bodies()) {
    if (seen.has(body)) continue;
    seen.add(body);
    const { k, n } = JSON.parse(body) as { k: number; n: number };
    firsts.set(`key-${k}`, [...(firsts.get(`key-${k}`) ?? []), n]);
  }
  const perKey = new Map<string, number>();
  for (const p of produced) perKey.set(p.partitionKey, Math.max(perKey.get(p.partitionKey) ?? -1, p.n));
  for (const [key, max] of perKey) {
    t.deepEqual(firsts.get(key), Array.from({ length: max + 1 }, (_, i) => i), `${key} in counter order`);
  }

  // no record of a child handled before every record of each of its parents
  const firstIndex = new Map<string, number>();
  const lastIndex = new Map<string, number>();
  deliveries.batches.forEach((b, i) => {
    if (!firstIndex.has(b.shardId)) firstIndex.set(b.shardId, i);
    lastIndex.set(b.shardId, i);
  });
  let gated = 0;
  for (const [child, parents] of parentsOf) {
    for (const parent of parents) {
      t.true(firstIndex.get(child)! > lastIndex.get(parent)!, `${child} started after ${parent}'s last batch`);
      gated++;
    }
  }
  t.is(gated, 2 + 2 + 2, 'five children, one of them with two parents');

  // a parent's last records are checkpointed before its SHARD_END, and SHARD_END is its last word
  const lastProduced = new Map<string, string>();
  for (const p of produced) {
    const last = lastProduced.get(p.shardId);
    if (!last || BigInt(p.sequenceNumber) > BigInt(last)) lastProduced.set(p.shardId, p.sequenceNumber);
  }
  for (const shardId of closed) {
    t.deepEqual(run.checkpoints.get(shardId)?.slice(-2), [lastProduced.get(shardId), SHARD_END], `${shardId}: last record, then SHARD_END`);
    t.true(run.ended.has(shardId), `shard:ended for ${shardId}`);
  }
  const lastBatchSizes = closed.map((id) => deliveries.batches[lastIndex.get(id)!]!.sequenceNumbers.length);
  t.log(`leases acquired: ${[...run.owners].map(([w, ids]) => `${w}: ${ids.join(',')}`).join('; ')}`);
  t.log(`closed shards' last batch sizes (batch size ${BATCH_SIZE}): ${lastBatchSizes.join(', ')}`);

  // the lease table: closed shards at SHARD_END; children carry their parents, parents their children
  const table = new Map((await (await stores.leases(run.kind, run.tableName)).scan()).map((l) => [l.leaseKey, l]));
  for (const shardId of closed) t.is(table.get(shardId)?.checkpoint, SHARD_END, `${shardId} lease at SHARD_END`);
  for (const shard of shards.filter((s) => !s.SequenceNumberRange?.EndingSequenceNumber)) {
    t.not(table.get(shard.ShardId!)?.checkpoint, SHARD_END, `open ${shard.ShardId} is not at SHARD_END`);
  }
  for (const [child, parents] of parentsOf) {
    t.deepEqual([...(table.get(child)?.parentShardIds ?? [])].sort(), [...parents].sort(), `${child} lease carries its parents`);
    for (const parent of parents) t.true(table.get(parent)?.childShardIds.includes(child), `${parent} lease lists child ${child}`);
  }
}

test.serial('split, merge and split again under a continuous producer, one worker', async (t) => {
  await validate(t, await reshardUnderLoad(1));
});

test.serial('the same with two workers sharing the lease table', async (t) => {
  await validate(t, await reshardUnderLoad(2));
});

test.serial('the same with two workers sharing a PostgreSQL lease table', async (t) => {
  await validate(t, await reshardUnderLoad(2, 'postgres'));
});

test.serial('the same with two workers sharing a Redis key prefix', async (t) => {
  await validate(t, await reshardUnderLoad(2, 'redis'));
});

test.serial('the same with two systems of one process sharing the memory store', async (t) => {
  await validate(t, await reshardUnderLoad(2, 'memory'));
});
