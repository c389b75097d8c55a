/**
 * Many workers, one application: each worker is a real process (fixtures/balance-worker.mjs)
 * running createSystem against the same local Kinesis and DynamoDB, while a producer keeps
 * records flowing. What the tests check comes from the lease table and from the delivery log
 * (every batch each worker's consumer handled, with when), never from timings: those are
 * logged here and measured in bench:failover.
 */
import test, { type ExecutionContext } from 'ava';
import { CountingProducer, createStream, uniqueName, withLocalAws } from '@kinesis-client/examples/testing';
import { withStores, type StoreKind } from './helpers/stores.js';
import { Cluster } from './helpers/workers.js';

// three or four worker processes beside the other test files on two cores: a failoverMs of 3 s
// let a busy moment's late renewals lose leases, and losses are not what these tests are about
const FAILOVER_MS = 6_000;
const TAKE_INTERVAL_MS = 6_000;
const SHARDS = 12;

const aws = withLocalAws(test);
const stores = withStores(test, aws, ['postgres', 'redis']);

interface Run {
  cluster: Cluster;
  producer: CountingProducer;
  /** Stops producing and waits until every produced record was handled by someone. */
  drain(): Promise<void>;
}

async function setUp(t: ExecutionContext, shards = SHARDS, lease: Record<string, number> = {}, kind: StoreKind = 'dynamodb'): Promise<Run> {
  const streamName = uniqueName('balance');
  await createStream(aws.kinesis, streamName, shards);
  const appName = `${streamName}-app`;
  const cluster = new Cluster(
    t,
    { streamName, appName, clientOptions: aws.clientOptions, lease: { failoverMs: FAILOVER_MS, takeIntervalMs: TAKE_INTERVAL_MS, ...lease }, retrieval: { idleMs: 250 }, ...stores.options(kind, appName) },
    await stores.leases(kind, appName),
  );
  const producer = new CountingProducer(aws.kinesis, streamName, { keys: 96, perTick: 12, tickMs: 50 });
  producer.start();
  // before the cluster is killed (teardowns run last first)
  t.teardown(() => producer.stop().then(() => undefined));
  return {
    cluster,
    producer,
    async drain() {
      const produced = await producer.stop();
      const deadline = Date.now() + 60_000;
      for (;;) {
        const handled = cluster.handledCounts();
        const missing = produced.filter((p) => !handled.get(p.shardId)?.has(p.sequenceNumber));
        if (missing.length === 0) return;
        if (Date.now() > deadline) throw new Error(`${missing.length} of ${produced.length} records never handled (first: ${JSON.stringify(missing[0])})`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

const workers = ['w1', 'w2', 'w3'];

/** Three workers over 12 shards, at 4/4/4 by the table and by their own events. */
async function balancedThree(t: ExecutionContext, kind: StoreKind = 'dynamodb'): Promise<Run> {
  const run = await setUp(t, SHARDS, {}, kind);
  await run.cluster.start(workers);
  await run.cluster.waitForBalance(workers, 4, 90_000);
  return run;
}

/** Owner moves seen as lease:acquired events, for the "stay put" checks. */
const acquisitions = (cluster: Cluster, since = 0) => cluster.events.filter((e) => e.type === 'lease:acquired' && e.at >= since).length;

const converge = test.macro(async (t, kind: StoreKind) => {
  const { cluster, drain } = await setUp(t, SHARDS, {}, kind);
  await cluster.start(workers);
  const ms = await cluster.waitForBalance(workers, 4, 90_000);
  t.log(`converged to 4/4/4 ${ms} ms after all three were up (${(ms / TAKE_INTERVAL_MS).toFixed(1)} take intervals of ${TAKE_INTERVAL_MS} ms)`);
  const firstOwner = new Map<string, string>();
  for (const e of cluster.events) if (e.type === 'lease:acquired' && !firstOwner.has(e.shardId!)) firstOwner.set(e.shardId!, e.worker);
  t.log(`first takes per worker: ${workers.map((w) => [...firstOwner.values()].filter((o) => o === w).length).join('/')}`);
  const t0 = cluster.events[0]?.at ?? 0;
  t.log(`lease events: ${cluster.events.filter((e) => e.type !== 'error').map((e) => `${e.at - t0} ${e.worker} ${e.type.slice(6)} ${e.shardId?.slice(-2)}${e.to ? `>${e.to}` : ''}`).join('; ')}`);

  const settled = await cluster.owners();
  const since = Date.now();
  // an observation window of two full take cycles: a balanced table must not move
  await new Promise((r) => setTimeout(r, 2 * TAKE_INTERVAL_MS + 500));
  t.deepEqual(await cluster.owners(), settled, 'no lease changed owner once balanced');
  t.is(acquisitions(cluster, since), 0, 'no lease taken once balanced');
  // 12 first takes, then moves only from a worker above target to one below it. The worst start
  // is one worker up alone and the others joining one at a time: 12/0/0, then 6 moves to 6/6/0,
  // then 4 more to 4/4/4 (workers joining together need at most 8)
  t.true(acquisitions(cluster) <= SHARDS + 10, `owner switches bounded (${acquisitions(cluster)} acquisitions)`);

  await drain();
  t.deepEqual(cluster.duplicates(), [], 'steals are handoffs: the owner checkpoints before it lets go');
  t.deepEqual(cluster.overlaps(), [], 'no shard handled by two workers at once');
  await cluster.stopAll();
  t.deepEqual([...(await cluster.owners()).keys()], [''], 'every lease released');
});

const sigkill = test.macro(async (t, kind: StoreKind) => {
  const { cluster, drain } = await balancedThree(t, kind);

  await cluster.kill('w3');
  // the dead worker can write no more: what the table holds now is its last checkpoint of each shard
  const table = await cluster.table.scan();
  const lastCheckpoint = new Map(table.filter((l) => l.leaseOwner === 'w3').map((l) => [l.leaseKey, l.checkpoint]));
  t.is(lastCheckpoint.size, 4);
  const ms = await cluster.waitForBalance(['w1', 'w2'], 6, 60_000);
  t.log(`survivors held all ${SHARDS} leases ${ms} ms after the kill (failoverMs + one take interval + 1 s = ${FAILOVER_MS + TAKE_INTERVAL_MS + 1_000} ms)`);

  await drain();
  const duplicates = cluster.duplicates();
  t.log(`${duplicates.length} records handled twice`);
  for (const d of duplicates) {
    const checkpoint = lastCheckpoint.get(d.shardId);
    t.true(checkpoint !== undefined, `a duplicate on ${d.shardId}, which the dead worker did not hold`);
    t.true(d.workers.includes('w3'), 'the dead worker handled it first');
    t.true(!/^\d+$/.test(checkpoint!) || BigInt(d.sequenceNumber) > BigInt(checkpoint!), 'after its last checkpoint');
    t.is(d.workers.length, 2);
  }
  await cluster.stopAll();
});

const onStore = (title: string, kind: StoreKind) => (kind === 'dynamodb' ? title : `${title} (${kind} store)`);

const gracefulStop = test.macro(async (t, kind: StoreKind) => {
  const { cluster, drain } = await balancedThree(t, kind);

  const stoppedAt = Date.now();
  await cluster.stop('w3');
  // handoffs while converging are releases too, with a `to`: count only the stop's
  const released = cluster.events.filter((e) => e.worker === 'w3' && e.type === 'lease:released' && e.at >= stoppedAt && !e.to).length;
  t.is(released, 4, 'stop() released every lease after its final checkpoint');
  const ms = await cluster.waitForBalance(['w1', 'w2'], 6, 60_000);
  t.log(`released leases all taken ${ms} ms after the stop (take interval ${TAKE_INTERVAL_MS} ms, failoverMs ${FAILOVER_MS} ms)`);
  t.false(cluster.events.some((e) => e.type === 'lease:lost'), 'nothing was lost: the leases were free');

  await drain();
  t.deepEqual(cluster.duplicates(), []);
  t.deepEqual(cluster.overlaps(), []);
  await cluster.stopAll();
});

const fourthJoins = test.macro(async (t, kind: StoreKind) => {
  const { cluster, drain } = await balancedThree(t, kind);

  const joined = Date.now();
  await cluster.start(['w4']);
  const ms = await cluster.waitForBalance([...workers, 'w4'], 3, 90_000);
  t.log(`3/3/3/3 ${ms} ms after w4 joined (${(ms / TAKE_INTERVAL_MS).toFixed(1)} take intervals)`);
  const moves = cluster.events.filter((e) => e.at >= joined && e.type !== 'error');
  t.log(`lease events since: ${moves.map((e) => `${e.at - joined} ${e.worker} ${e.type} ${e.shardId?.slice(-2)}${e.to ? `>${e.to}` : ''}`).join('; ')}`);
  const handedOver = cluster.events.filter((e) => e.type === 'lease:released' && e.to === 'w4');
  t.is(handedOver.length, 3, 'three leases handed to w4 by their owners');
  t.false(cluster.events.some((e) => e.type === 'lease:lost'), 'no lease taken from under its owner');

  await drain();
  t.deepEqual(cluster.overlaps(), [], 'per shard, the delivering workers’ intervals do not overlap');
  t.deepEqual(cluster.duplicates(), [], 'each owner checkpointed before handing over');
  await cluster.stopAll();
});

const picky = test.macro(async (t, kind: StoreKind) => {
  const { cluster, drain } = await setUp(t, 6, {}, kind);
  const allowed = ['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002'];
  await cluster.start(['picky'], { allow: allowed });
  await cluster.waitForOwners((c) => c.get('picky') === 3 && c.get('') === 3, 30_000, 'picky on its three');
  t.deepEqual((await cluster.owners()).get('picky'), allowed);

  await cluster.start(['any']);
  await cluster.waitForOwners((c) => c.get('picky') === 3 && c.get('any') === 3, 60_000, 'any on the other three');
  // a full cycle later nothing moved: "any" is at target, and picky may not take the rest
  await new Promise((r) => setTimeout(r, TAKE_INTERVAL_MS + 500));
  t.deepEqual((await cluster.owners()).get('picky'), allowed);
  const picked = cluster.events.filter((e) => e.worker === 'picky' && e.type === 'lease:acquired').map((e) => e.shardId);
  t.true(picked.every((s) => allowed.includes(s!)), `picky acquired only allowed shards: ${picked.join(', ')}`);

  await drain();
  t.deepEqual(cluster.duplicates(), []);
  await cluster.stopAll();
});

for (const kind of ['dynamodb', 'postgres', 'redis'] as const) {
  test.serial(onStore('3 workers over 12 shards converge to 4/4/4 and then stay put; no record handled twice or by two workers at once', kind), converge, kind);
  test.serial(onStore('SIGKILL: the survivors take every lease and every record is handled; duplicates only from the dead worker’s unchecked batches', kind), sigkill, kind);
  test.serial(onStore('graceful stop: its leases are taken by the others, and no record is handled twice', kind), gracefulStop, kind);
  test.serial(onStore('a fourth worker joins: stealing moves leases to it, no shard is handled by two workers at once', kind), fourthJoins, kind);
  test.serial(onStore('shouldProcess: a worker takes only the leases it returns true for', kind), picky, kind);
}
