/**
 * A network partition between one worker and its lease store (DynamoDB, PostgreSQL, Redis), with
 * real worker processes: worker A reaches the store through a loopback proxy, B directly. The proxy goes silent (no reset, no
 * reply: a half-open connection), so A can neither renew nor learn that it lost its leases, while
 * it still reads Kinesis. B takes A's shards after failover. What is checked comes from the
 * delivery log (each batch's start and end in handleBatch, on the one machine clock).
 */
import test from 'ava';
import { startLoopbackProxy } from '@kinesis-client/core';
import { CountingProducer, createStream, uniqueName, withLocalAws } from '@kinesis-client/examples/testing';
import { eventually } from './helpers/recording.js';
import { withStores, type StoreKind } from './helpers/stores.js';
import { Cluster } from './helpers/workers.js';

const FAILOVER_MS = 4_000;
const SHARDS = 2;

const aws = withLocalAws(test);
const stores = withStores(test, aws, ['postgres', 'redis']);

const partition = test.macro(async (t, kind: StoreKind) => {
  const streamName = uniqueName('partition');
  await createStream(aws.kinesis, streamName, SHARDS);
  const appName = `${streamName}-app`;
  const proxy = await startLoopbackProxy({ target: stores.target(kind as Exclude<StoreKind, 'memory'>) });
  const lease = { failoverMs: FAILOVER_MS, takeIntervalMs: 500 };
  const direct = stores.options(kind, appName);
  const cluster = new Cluster(
    t,
    { streamName, appName, clientOptions: aws.clientOptions, lease, retrieval: { idleMs: 100 }, delayMs: 20, ...direct },
    await stores.leases(kind, appName),
  );
  const producer = new CountingProducer(aws.kinesis, streamName, { keys: 32, perTick: 10, tickMs: 50 });
  t.teardown(async () => {
    await producer.stop();
    await cluster.close();
    await proxy.close();
  });
  producer.start();

  // A's store calls are cut late (just under failover): the time fence must hold whatever its calls do
  const throughProxy = kind === 'dynamodb' ? { dynamodbEndpoint: proxy.url } : stores.options(kind, appName, proxy.port);
  await cluster.start(['A'], { ...throughProxy, callTimeouts: { dynamodbMs: FAILOVER_MS - 500 } });
  await cluster.waitForOwners((owners) => owners.get('A') === SHARDS, 30_000, 'A to hold every shard');
  const aShards = () => new Set(cluster.deliveries.filter((d) => d.worker === 'A').map((d) => d.shardId));
  await eventually(async () => (aShards().size === SHARDS ? true : undefined), 30_000, 'A processing every shard');
  // B takes only free or expired leases: while A is healthy it leaves A's alone
  await cluster.start(['B'], { lease: { ...lease, maxStealPerCycle: 0 } });
  t.is(cluster.deliveries.filter((d) => d.worker === 'B').length, 0, 'B has nothing while A is healthy');

  proxy.blackhole();
  const cutAt = Date.now();
  await cluster.waitForOwners((owners) => owners.get('B') === SHARDS, 60_000, 'B to take every shard after failover');
  const bFirst = new Map<string, number>();
  await eventually(
    async () => {
      for (const d of cluster.deliveries) if (d.worker === 'B' && !bFirst.has(d.shardId)) bFirst.set(d.shardId, d.startedAt);
      return bFirst.size === SHARDS ? true : undefined;
    },
    60_000,
    'B processing every shard',
  );
  // A's side of the story ends when it gives the leases up (its renewals failed for failoverMs)
  await eventually(
    async () => (new Set(cluster.events.filter((e) => e.worker === 'A' && e.type === 'lease:lost').map((e) => e.shardId)).size === SHARDS ? true : undefined),
    60_000,
    'A to give up every lease',
  );

  t.true(
    cluster.events.some((e) => e.worker === 'A' && /did not answer within|unanswered/.test(e.message ?? '')),
    "A's store calls hung: cut at their deadline (CALL_TIMEOUT) or given up by the lease fence",
  );
  const produced = await producer.stop();
  await eventually(
    async () => {
      const handled = cluster.handledCounts();
      return produced.every((p) => handled.get(p.shardId)?.has(p.sequenceNumber)) ? true : undefined;
    },
    60_000,
    'every produced record handled by someone',
  );

  const aLast = new Map<string, number>();
  for (const d of cluster.deliveries) if (d.worker === 'A') aLast.set(d.shardId, Math.max(aLast.get(d.shardId) ?? 0, d.startedAt));
  for (const [shardId, bStart] of bFirst) {
    t.log(`${shardId}: A's last batch start ${(aLast.get(shardId) ?? 0) - cutAt} ms after the cut, B's first ${bStart - cutAt} ms after`);
  }
  const late = cluster.deliveries.filter((d) => d.worker === 'A' && d.startedAt >= (bFirst.get(d.shardId) ?? Infinity));
  t.deepEqual(
    late.map((d) => ({ shardId: d.shardId, startedAfterBMs: d.startedAt - bFirst.get(d.shardId)! })),
    [],
    'no batch of A starts on a shard after B has started on it',
  );
  t.deepEqual(cluster.overlaps(), [], 'never two workers in one shard’s handleBatch at once');
  t.true(produced.length > 0);
});

const title = 'partition: a worker cut off from DynamoDB starts no batch on a shard after the worker that took it over has started; nothing is lost';
test(title, partition, 'dynamodb');
test(title.replace('DynamoDB', 'PostgreSQL'), partition, 'postgres');
test(title.replace('DynamoDB', 'Redis'), partition, 'redis');
