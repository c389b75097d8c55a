/**
 * A lease table shared with the Java KCL 3.x (docs/java-kcl.md): rows that are not leases, as
 * 3.x keeps them in the lease table, are skipped and never touched; the graceful handoff through
 * checkpointOwner works in both directions with a Java worker played by the test (the conditional
 * writes of its source, helpers/java-kcl.ts); a handoff whose holder stops renewing is forced.
 */
import test from 'ava';
import { GetItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { KinesisClientError } from '@kinesis-client/worker';
import { createStream, putRecords, uniqueName, withLocalAws } from '@kinesis-client/examples/testing';
import { JavaKclWorker, createJavaTable } from './helpers/java-kcl.js';
import { eventually, jsonRecords, sortedSeqs, startRecordingSystem } from './helpers/recording.js';

const aws = withLocalAws(test);
const FAILOVER_MS = 3_000;
const LEASE = { failoverMs: FAILOVER_MS, takeIntervalMs: 1_000 };
const SHARDS = ['shardId-000000000000', 'shardId-000000000001'];

type Item = Record<string, AttributeValue>;

/** A lease as the Java KCL 3.5 creates it (DynamoDBLeaseSerializer.toDynamoRecord): free, entityType LEASE. */
const javaLease = (leaseKey: string): Item => ({
  leaseKey: { S: leaseKey },
  leaseCounter: { N: '0' },
  ownerSwitchesSinceCheckpoint: { N: '0' },
  checkpoint: { S: 'TRIM_HORIZON' },
  checkpointSubSequenceNumber: { N: '0' },
  entityType: { S: 'LEASE' },
});

/**
 * Rows the Java KCL 3.5 keeps in the lease table once it has moved them there (keyed by
 * leaseKey, marked by entityType): a worker's metrics (LeaseTableWorkerMetricStats: leaseKey =
 * worker id), the leader lock (LeaderLock "Leader", with the DynamoDB lock client's attributes),
 * the 2.x -> 3.x migration state ("Migration3.0") and the table migration state ("TableMigration3.5").
 */
const NON_LEASE_ROWS: Item[] = [
  {
    leaseKey: { S: 'java-worker-1' },
    entityType: { S: 'WORKER_METRIC_STATS' },
    lut: { N: '1765000000' },
    sts: { M: { C: { L: [{ N: '41.5' }, { N: '38.25' }] } } },
    opr: { M: { C: { L: [{ N: '100' }] } } },
    properties: { M: {} },
    sup: { N: '1' },
    slu: { N: '1765000000' },
  },
  {
    leaseKey: { S: 'Leader' },
    entityType: { S: 'LEADER' },
    ownerName: { S: 'java-worker-1' },
    leaseDuration: { S: '10000' },
    recordVersionNumber: { S: '5b1bd7c1-4a5c-4a35-9a0c-0d8d5e0f7a11' },
  },
  {
    leaseKey: { S: 'Migration3.0' },
    entityType: { S: 'CLIENT_VERSION_MIGRATION' },
    cv: { S: 'CLIENT_VERSION_3X' },
    mb: { S: 'java-worker-1' },
    mts: { N: '1765000000000' },
    h: { L: [{ M: { cv: { S: 'CLIENT_VERSION_UPGRADE_FROM_2X' }, mb: { S: 'java-worker-1' }, mts: { N: '1764990000000' } } }] },
  },
  {
    leaseKey: { S: 'TableMigration3.5' },
    entityType: { S: 'TABLE_MIGRATION' },
    tm: { S: 'TABLE_MIGRATION_STATUS_COMPLETE' },
    mb: { S: 'java-worker-1' },
    mts: { N: '1765000000000' },
  },
];

/** A stream and a lease table as the Java KCL 3.x creates it (key schema only; its GSI comes later, or never). */
async function javaTable(shards = 2) {
  const stream = uniqueName('java3');
  const app = uniqueName('app');
  await createStream(aws.kinesis, stream, shards);
  await createJavaTable(aws, app);
  const java = new JavaKclWorker(aws.dynamodb, app, 'java3');
  for (const key of SHARDS.slice(0, shards)) await java.put(javaLease(key));
  return { stream, app, java };
}

const rowOf = async (app: string, leaseKey: string) =>
  (await aws.dynamodb.send(new GetItemCommand({ TableName: app, Key: { leaseKey: { S: leaseKey } }, ConsistentRead: true }))).Item;

test.serial('a 3.x table with worker-metrics and coordinator rows: every record consumed, the other rows untouched and never reported', async (t) => {
  const { stream, app, java } = await javaTable();
  for (const row of NON_LEASE_ROWS) await java.put(row);
  const before = await Promise.all(NON_LEASE_ROWS.map((r) => rowOf(app, r.leaseKey!.S!)));

  const run = await startRecordingSystem(t, aws, { stream, app }, { lease: LEASE, retrieval: { idleMs: 100 } });
  const written = await putRecords(aws.kinesis, stream, jsonRecords(200));
  await run.deliveries.waitFor(() => written.every((w) => run.deliveries.byShard().get(w.shardId)?.includes(w.sequenceNumber)), 30_000, 'every record');
  // several take cycles over the table while consuming
  await new Promise((r) => setTimeout(r, 3 * LEASE.takeIntervalMs));
  await run.stop();

  const after = await Promise.all(NON_LEASE_ROWS.map((r) => rowOf(app, r.leaseKey!.S!)));
  t.deepEqual(JSON.stringify(after), JSON.stringify(before), 'the rows that are not leases, byte for byte');
  t.deepEqual(
    run.errors.filter((e) => e instanceof KinesisClientError && e.code === 'LEASE_ROW_INVALID'),
    [],
    'none reported as an unreadable lease',
  );
  const leases = await aws.leaseTable(app).scan();
  t.deepEqual(leases.map((l) => l.leaseKey).sort(), SHARDS, 'only the leases are leases');
  for (const key of SHARDS) t.is((await rowOf(app, key))?.entityType?.S, 'LEASE', 'a lease keeps its entityType');
});

test.serial('handoff from a Java 3.x worker: it drains, checkpoints and transfers; the library waits, then reads on from its checkpoint', async (t) => {
  const { stream, app, java } = await javaTable();
  for (const key of SHARDS) t.true(await java.take3x(key, 0));
  const written = await putRecords(aws.kinesis, stream, jsonRecords(200));
  // what the Java worker has handled of each shard: the first half
  const handledByJava = new Map(
    SHARDS.map((s) => {
      const of = written.filter((w) => w.shardId === s);
      return [s, of.slice(0, Math.ceil(of.length / 2))] as const;
    }),
  );
  const counters = new Map(SHARDS.map((s) => [s, 1]));
  const transferredAt = new Map<string, number>();
  let running = true;
  const javaLoop = (async () => {
    const shuttingDown = new Map<string, number>();
    while (running) {
      for (const key of SHARDS) {
        if (transferredAt.has(key)) continue;
        const n = counters.get(key)!;
        if (await java.renew3x(key, n, shuttingDown.has(key))) {
          counters.set(key, n + 1);
        } else {
          // the renewal's condition failed: a shutdown requested of this worker (checkpointOwner = it)?
          const row = await java.row(key);
          if (row?.checkpointOwner?.S === 'java3' && row.leaseOwner?.S !== 'java3' && !shuttingDown.has(key)) shuttingDown.set(key, Date.now());
          continue;
        }
        // its shard consumer drains for two seconds, checkpoints what it handled, then transfers
        const since = shuttingDown.get(key);
        if (since !== undefined && Date.now() - since > 2_000) {
          const last = handledByJava.get(key)!.at(-1)!.sequenceNumber;
          t.true(await java.checkpoint(key, counters.get(key)!, last));
          counters.set(key, counters.get(key)! + 1);
          const next = (await java.row(key))!.leaseOwner!.S!;
          t.true(await java.transfer(key, next));
          transferredAt.set(key, Date.now());
        }
      }
      // a renewal every failoverMs / 3, as the Java KCL's (leaseDuration / 3)
      await new Promise((r) => setTimeout(r, FAILOVER_MS / 3));
    }
  })();
  t.teardown(async () => {
    running = false;
    await javaLoop;
  });

  const run = await startRecordingSystem(t, aws, { stream, app }, { lease: LEASE, retrieval: { idleMs: 100 } });
  const moved = await eventually(async () => [...transferredAt.keys()][0], 30_000, 'a lease transferred by the Java worker');
  const rest = written.filter((w) => w.shardId === moved).slice(handledByJava.get(moved)!.length);
  await run.deliveries.waitFor(() => rest.every((w) => run.deliveries.byShard().get(moved)?.includes(w.sequenceNumber)), 30_000, 'the rest of the shard');

  const batches = run.deliveries.batches.filter((b) => b.shardId === moved);
  t.true(
    batches.every((b) => b.startedAt > transferredAt.get(moved)!),
    'nothing handled by the library while checkpointOwner was set',
  );
  t.deepEqual(sortedSeqs(new Set(run.deliveries.byShard().get(moved))), sortedSeqs(rest.map((w) => w.sequenceNumber)), 'from the Java checkpoint on: nothing lost, nothing twice');
  const row = (await rowOf(app, moved))!;
  t.is(row.leaseOwner?.S, run.system.workerId);
  t.is(row.checkpointOwner, undefined, 'checkpointOwner cleared');
  t.is(transferredAt.size, 1, 'one lease each: the other stays with the Java worker');
  t.false(run.deliveries.byShard().has(SHARDS.find((s) => s !== moved)!));
});

test.serial('handoff to a Java 3.x worker: its leader asks, the library drains, checkpoints and hands the lease over in one write', async (t) => {
  const { stream, app, java } = await javaTable(1);
  const shard = SHARDS[0]!;
  const run = await startRecordingSystem(t, aws, { stream, app }, { lease: { ...LEASE, maxStealPerCycle: 0 }, retrieval: { idleMs: 100 } });
  const released: { to?: string }[] = [];
  run.system.events.on('lease:released', (e) => released.push(e));
  const written = await putRecords(aws.kinesis, stream, jsonRecords(100));
  await run.deliveries.waitFor(() => written.every((w) => run.deliveries.byShard().get(shard)?.includes(w.sequenceNumber)), 30_000, 'the first records');
  const counterBefore = Number((await rowOf(app, shard))!.leaseCounter!.N);

  // the Java leader's assignment: a graceful handoff to its worker, counter untouched
  t.true(await java.initiateGracefulLeaseHandoff(shard, run.system.workerId, 'java3'));
  const row = await eventually(async () => {
    const r = await rowOf(app, shard);
    return r && r.checkpointOwner === undefined ? r : undefined;
  }, 20_000, 'the handoff completed');
  t.is(row.leaseOwner?.S, 'java3');
  t.true(Number(row.leaseCounter!.N) > counterBefore, 'the completion bumped the counter');
  t.deepEqual(released.map((e) => e.to), ['java3'], 'released to the Java worker');
  const handled = sortedSeqs(new Set(run.deliveries.byShard().get(shard)));
  t.is(row.checkpoint?.S, handled.at(-1), 'the checkpoint covers everything the library handled: the Java worker repeats nothing and loses nothing');

  // the Java worker picks it up (leaseOwner = itself, no checkpointOwner) and renews it; the library keeps off
  let counter = Number(row.leaseCounter!.N);
  const more = await putRecords(aws.kinesis, stream, jsonRecords(20, { offset: 100 }));
  for (let i = 0; i < (2 * FAILOVER_MS) / 300; i++) {
    t.true(await java.renew3x(shard, counter++, false));
    await new Promise((r) => setTimeout(r, 300));
  }
  t.false(
    more.some((w) => run.deliveries.byShard().get(shard)!.includes(w.sequenceNumber)),
    'nothing read by the library after it let go',
  );
});

test.serial('a handoff whose Java holder stops renewing is forced once the lease expires: taken, checkpointOwner cleared', async (t) => {
  const { stream, app, java } = await javaTable();
  for (const key of SHARDS) t.true(await java.take3x(key, 0));
  const written = await putRecords(aws.kinesis, stream, jsonRecords(60));
  const counters = new Map(SHARDS.map((s) => [s, 1]));
  let lastRenewal = Date.now();
  let running = true;
  // renews until a shutdown is requested of it, then dies without a word (a hung or killed JVM)
  const javaLoop = (async () => {
    while (running) {
      for (const key of SHARDS) {
        if (!(await java.renew3x(key, counters.get(key)!, false))) return;
        counters.set(key, counters.get(key)! + 1);
      }
      lastRenewal = Date.now();
      await new Promise((r) => setTimeout(r, 300));
    }
  })();
  t.teardown(async () => {
    running = false;
    await javaLoop;
  });
  // the Java worker holds both leases, one above the target of two workers: the library asks for one
  const run = await startRecordingSystem(t, aws, { stream, app }, { lease: LEASE, retrieval: { idleMs: 100 } });
  const acquired: { shardId: string; at: number }[] = [];
  run.system.events.on('lease:acquired', (e) => acquired.push({ shardId: e.shardId, at: Date.now() }));
  const pending = await eventually(async () => (await aws.leaseTable(app).scan()).find((l) => l.checkpointOwner === 'java3')?.leaseKey, 20_000, 'a pending handoff');
  await javaLoop;
  await run.deliveries.waitFor(() => written.every((w) => run.deliveries.byShard().get(w.shardId)?.includes(w.sequenceNumber)), 30_000, 'every record');
  const forced = acquired.find((a) => a.shardId === pending)!;
  t.true(forced.at - lastRenewal >= FAILOVER_MS, `forced only after failoverMs without a renewal (${forced.at - lastRenewal} ms)`);
  t.deepEqual(sortedSeqs(new Set(run.deliveries.byShard().get(pending))), sortedSeqs(written.filter((w) => w.shardId === pending).map((w) => w.sequenceNumber)));
  const row = (await rowOf(app, pending))!;
  t.is(row.leaseOwner?.S, run.system.workerId);
  t.is(row.checkpointOwner, undefined, 'checkpointOwner cleared');
});
