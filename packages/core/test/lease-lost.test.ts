import test from 'ava';
import { createStream, putRecords, uniqueName, withLocalAws } from '@kinesis-client/examples/testing';
import { handingTo, holderOf } from '@kinesis-client/worker/lease';
import { JavaKclWorker } from './helpers/java-kcl.js';
import { eventually, jsonRecords, startRecordingSystem } from './helpers/recording.js';

const aws = withLocalAws(test);

// what a worker that does not hand over (or a Java KCL worker) does: take the lease on its counter
test.serial('a lease taken from under its owner: the reader stops, nothing is handled until it is ours again, lease:lost, and it is taken back later', async (t) => {
  const run = await startRecordingSystem(t, aws, 1, { lease: { failoverMs: 3_000 }, retrieval: { idleMs: 200 } });
  const lost: { reason: string; at: number }[] = [];
  const acquired: { workerId: string; at: number }[] = [];
  const stopped: string[] = [];
  run.system.events.on('lease:lost', (e) => lost.push({ reason: e.reason, at: Date.now() }));
  run.system.events.on('lease:acquired', (e) => acquired.push({ workerId: e.workerId, at: Date.now() }));
  run.system.events.on('shard:stopped', (e) => stopped.push(e.reason));
  const table = aws.leaseTable(run.app);
  try {
    const first = await putRecords(aws.kinesis, run.stream, jsonRecords(200));
    const last = first.at(-1)!.sequenceNumber;
    await eventually(async () => ((await table.scan())[0]?.checkpoint === last ? true : undefined), 20_000, 'the first checkpoint');

    // the take races the owner's renewals; retry on a fresh read until it lands
    const row = await eventually(async () => {
      const lease = (await table.scan())[0]!;
      return (await table.take(lease, 'intruder')) ? lease : undefined;
    });
    await eventually(async () => (lost.length > 0 ? true : undefined), 10_000, 'lease:lost');
    t.deepEqual(stopped, ['lost'], 'the shard stopped at once');
    const second = await putRecords(aws.kinesis, run.stream, jsonRecords(100, { offset: 200 }));
    // the intruder never renews: the owner takes the lease back once it expires, and reads on from the last checkpoint
    await eventually(async () => (acquired.length === 2 ? true : undefined), 20_000, 'the lease taken back');
    const between = run.deliveries.batches.filter((b) => b.startedAt > lost[0]!.at && b.startedAt < acquired[1]!.at);
    t.deepEqual(between, [], 'nothing was handled while the lease was not ours');
    t.regex(lost[0]!.reason, /condition failed/);
    t.is((await table.scan())[0]!.leaseOwner, run.system.workerId);
    t.true((await table.scan())[0]!.leaseCounter > row.leaseCounter + 1);
    await run.deliveries.waitFor(() => run.deliveries.byShard().get(second[0]!.shardId)!.includes(second.at(-1)!.sequenceNumber));
    t.deepEqual(
      acquired.map((a) => a.workerId),
      [run.system.workerId, run.system.workerId],
    );
  } finally {
    await run.stop();
  }
});

// a worker that renews but never answers handoffs (a Java KCL 2.x worker sharing the table: it knows no checkpointOwner)
test.serial('a live owner that ignores handoffs keeps its leases while it renews; they are taken once it stops renewing', async (t) => {
  const stream = uniqueName('java');
  const app = uniqueName('app');
  await createStream(aws.kinesis, stream, 2);
  const table = aws.leaseTable(app);
  await table.ensure();
  const keys = ['shardId-000000000000', 'shardId-000000000001'];
  const counters = new Map<string, number>();
  for (const key of keys) {
    await table.create({ leaseKey: key, checkpoint: 'TRIM_HORIZON', parentShardIds: [] });
    t.true(await table.take((await table.get(key))!, 'java'));
    counters.set(key, 1);
  }
  // renews every 500 ms with the Java KCL 2.x's write (on leaseCounter alone), and never looks at checkpointOwner
  const java = new JavaKclWorker(aws.dynamodb, table.tableName, 'java');
  let renewing = true;
  const renewer = (async () => {
    while (renewing) {
      for (const key of keys) if (await java.renew2x(key, counters.get(key)!)) counters.set(key, counters.get(key)! + 1);
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  const run = await startRecordingSystem(t, aws, { stream, app }, { lease: { failoverMs: 3_000, takeIntervalMs: 1_000 }, retrieval: { idleMs: 100 } });
  const acquired: string[] = [];
  run.system.events.on('lease:acquired', (e) => acquired.push(e.shardId));
  try {
    const written = await putRecords(aws.kinesis, stream, jsonRecords(100));
    await eventually(async () => ((await table.scan()).some((l) => handingTo(l) === run.system.workerId) ? true : undefined), 20_000, 'a handoff to the library');
    // several failoverMs of the owner renewing: the pending handoff is never turned into a take (it is cancelled after handoffTimeoutMs)
    await new Promise((r) => setTimeout(r, 4 * 3_000));
    t.deepEqual(acquired, [], 'nothing taken from a live owner');
    t.deepEqual(run.deliveries.batches, []);
    t.true((await table.scan()).every((l) => holderOf(l) === 'java'));

    renewing = false;
    await renewer;
    await run.deliveries.waitFor(() => written.every((w) => run.deliveries.byShard().get(w.shardId)?.includes(w.sequenceNumber)), 30_000, 'every record, once the owner expired');
    t.deepEqual([...acquired].sort(), keys, 'both taken on expiry');
  } finally {
    renewing = false;
    await renewer;
    await run.stop();
  }
});
