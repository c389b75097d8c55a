/**
 * Lease moves between live workers, each a real process (fixtures/balance-worker.mjs): a handoff
 * waits for the owner's slow batch however long it takes, and a worker whose shouldProcess says
 * no is never handed a lease. What is checked comes from the delivery log (each batch's start and
 * end in handleBatch) and the lease table.
 */
import test, { type ExecutionContext } from 'ava';
import { CountingProducer, createStream, uniqueName, withLocalAws, type Produced } from '@kinesis-client/examples/testing';
import { Cluster, type WorkerSpec } from './helpers/workers.js';

const FAILOVER_MS = 3_000;

const aws = withLocalAws(test);

async function setUp(
  t: ExecutionContext,
  shards: number,
  spec: Partial<WorkerSpec>,
  producing: ConstructorParameters<typeof CountingProducer>[2],
  failoverMs = FAILOVER_MS,
) {
  const streamName = uniqueName('handoff');
  await createStream(aws.kinesis, streamName, shards);
  const appName = `${streamName}-app`;
  const cluster = new Cluster(
    t,
    { streamName, appName, clientOptions: aws.clientOptions, lease: { failoverMs }, retrieval: { idleMs: 250 }, ...spec },
    aws.leaseTable(appName),
  );
  const producer = new CountingProducer(aws.kinesis, streamName, producing);
  producer.start();
  // before the cluster is killed (teardowns run last first)
  t.teardown(() => producer.stop().then(() => undefined));
  /** Stops producing; resolves once every produced record was handled by someone. */
  const drain = async (timeoutMs: number): Promise<Produced[]> => {
    const produced = await producer.stop();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const handled = cluster.handledCounts();
      const missing = produced.filter((p) => !handled.get(p.shardId)?.has(p.sequenceNumber));
      if (missing.length === 0) return produced;
      if (Date.now() > deadline) throw new Error(`${missing.length} of ${produced.length} records never handled (first: ${JSON.stringify(missing[0])})`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  return { cluster, drain };
}

/** One shard each for two workers, while every batch takes several failoverMs; w2 joins while w1 is inside handleBatch. */
async function slowBatchJoin(t: ExecutionContext, lease: WorkerSpec['lease']) {
  const BATCH_MS = 10_000;
  const { cluster, drain } = await setUp(t, 2, { delayMs: BATCH_MS, lease }, { keys: 8, perTick: 2, tickMs: 200 });
  await cluster.start(['w1']);
  await cluster.waitForOwners((c) => c.get('w1') === 2, 30_000, 'w1 on both shards');
  // w1's first batches are in handleBatch now (a batch reports when it ends)
  await new Promise((r) => setTimeout(r, 2_000));
  await cluster.start(['w2']);
  const ms = await cluster.waitForBalance(['w1', 'w2'], 1, 120_000);
  t.log(`1/1 ${ms} ms after w2 joined, with batches of ${BATCH_MS} ms and failoverMs ${lease.failoverMs}`);

  const produced = await drain(120_000);
  t.log(`${produced.length} records, ${cluster.deliveries.length} batches`);
  t.deepEqual(cluster.overlaps(), [], 'per shard, no two workers’ batches overlap in time');
  t.deepEqual(
    cluster.events.filter((e) => e.type === 'lease:lost'),
    [],
    'no lease was taken from under an owner that was renewing',
  );
  return cluster;
}

test.serial('a handoff waits for the owner’s slow batch: batches of several failoverMs, never two workers in one shard’s handleBatch', async (t) => {
  const cluster = await slowBatchJoin(t, { failoverMs: FAILOVER_MS });
  t.true(
    cluster.events.some((e) => e.type === 'lease:released' && e.worker === 'w1' && e.to === 'w2'),
    'w1 handed a lease to w2 after its batch',
  );
  await cluster.stopAll();
});

test.serial('cancelling handoffs while the owner drains is safe: whether it hands over or frees the lease, it does so after its batch', async (t) => {
  // handoffs are cancelled long before the 10 s batch ends (and started again), so the owner may find
  // its completion failing its condition and release the lease to anyone instead
  const cluster = await slowBatchJoin(t, { failoverMs: FAILOVER_MS, handoffTimeoutMs: 1_500 });
  const released = cluster.events.filter((e) => e.type === 'lease:released' && e.worker === 'w1');
  t.log(`w1 released: ${released.map((e) => `${e.shardId}${e.to ? ` to ${e.to}` : ' to anyone'}`).join(', ')}`);
  t.true(released.length > 0, 'w1 gave a lease up after its batch');
  await cluster.stopAll();
});

test.serial('shouldProcess: a worker is never handed a lease it may not process, so every shard keeps moving', async (t) => {
  const SHARDS = 8;
  // a longer failoverMs, so a shard left unread until expiry stands out from any stall of a loaded machine
  const failoverMs = 5_000;
  const { cluster, drain } = await setUp(t, SHARDS, {}, { keys: 96, perTick: 12, tickMs: 50 }, failoverMs);
  const shardId = (i: number) => `shardId-${String(i).padStart(12, '0')}`;
  const allowed = [shardId(0), shardId(1)];
  await cluster.start(['any']);
  await cluster.waitForOwners((c) => c.get('any') === SHARDS, 30_000, 'any on every shard');
  await cluster.start(['picky'], { allow: allowed });
  // picky may take only its two: it stays below target, and any keeps the other six
  await cluster.waitForOwners((c) => c.get('picky') === 2 && c.get('any') === SHARDS - 2, 60_000, 'picky on its two');
  t.deepEqual((await cluster.owners()).get('picky'), allowed);

  // an observation window of two take cycles: every shard must keep being handled
  const from = Date.now();
  await new Promise((r) => setTimeout(r, 2 * 2 * failoverMs));
  const to = Date.now();
  const gaps = new Map<string, number>();
  for (let i = 0; i < SHARDS; i++) {
    const starts = cluster.deliveries
      .filter((d) => d.shardId === shardId(i) && d.startedAt >= from && d.startedAt <= to)
      .map((d) => d.startedAt)
      .sort((a, b) => a - b);
    const points = [from, ...starts, to];
    gaps.set(shardId(i), Math.max(...points.slice(1).map((p, j) => p - points[j]!)));
  }
  t.log(`longest time without a batch, per shard: ${[...gaps.values()].join(', ')} ms`);
  for (const [shard, gap] of gaps) t.true(gap < failoverMs, `${shard} went ${gap} ms without a batch`);
  const picked = cluster.events.filter((e) => e.worker === 'picky' && e.type === 'lease:acquired').map((e) => e.shardId!);
  t.true(
    picked.every((s) => allowed.includes(s)),
    `picky acquired only allowed shards: ${picked.join(', ')}`,
  );
  t.false(
    cluster.events.some((e) => e.type === 'lease:released' && e.to === 'picky' && !allowed.includes(e.shardId!)),
    'no lease handed to a worker that may not process it',
  );

  await drain(60_000);
  t.deepEqual(cluster.overlaps(), []);
  await cluster.stopAll();
});
