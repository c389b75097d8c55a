import test, { type ExecutionContext } from 'ava';
import { createStream, putRecords, uniqueName, withLocalAws } from '@kinesis-client/examples/testing';
import { eventually, jsonRecords, startRecordingSystem, type Deliveries, type SystemRun } from './helpers/recording.js';

const aws = withLocalAws(test);

interface Run extends SystemRun {
  started: string[];
}

/** One shard, one host thread, one pool thread: the restarts below are all this shard's. */
async function start(t: ExecutionContext, stream: string, app: string, extra: Record<string, unknown> = {}, query: Record<string, string | number> = {}): Promise<Run> {
  const started: string[] = [];
  const run = await startRecordingSystem(
    t,
    aws,
    { stream, app },
    { initialPosition: 'LATEST', lease: { failoverMs: 4_000 }, retrieval: { idleMs: 100 }, processors: { concurrency: 1 }, shardHosts: { threads: 1 }, ...extra },
    query,
  );
  run.system.events.on('shard:started', (e) => started.push(e.shardId));
  await eventually(async () => (started.length > 0 ? true : undefined), 15_000, 'the shard started');
  return { ...run, started };
}

const tagsOf = (d: Deliveries, tag: string) => new Set(d.bodies().map((b) => JSON.parse(b)).filter((b) => b.tag === tag).map((b) => b.i as number));

/** Waits until the shard is reading after a restart: a second shard:started. */
const restarted = (run: Run, times = 2) => eventually(async () => (run.started.length >= times ? true : undefined), 20_000, 'the shard restarted');

test.serial('LATEST: a first batch that fails every attempt (reader restarts) is read again, and nothing written after start is skipped', async (t) => {
  const stream = uniqueName('latest-fail');
  await createStream(aws.kinesis, stream, 1);
  // each batch (by first sequence number) fails twice on the pool thread: with maxAttempts 2 the reader crashes once
  const run = await start(t, stream, uniqueName('app'), { batchers: { batchSize: 500, maxAttempts: 2, backoff: { baseMs: 10, maxMs: 20 } } }, { failTimes: 2 });
  try {
    await putRecords(aws.kinesis, stream, jsonRecords(100, { tag: 'a' }));
    await restarted(run);
    await putRecords(aws.kinesis, stream, jsonRecords(100, { tag: 'b', offset: 100 }));
    await run.deliveries.waitFor(() => tagsOf(run.deliveries, 'a').size + tagsOf(run.deliveries, 'b').size >= 200, 20_000, 'every record').catch(() => undefined);
  } finally {
    await run.system.stop();
    run.deliveries.close();
  }
  t.is(tagsOf(run.deliveries, 'a').size, 100, 'the records of the batch that failed, read again after the restart');
  t.is(tagsOf(run.deliveries, 'b').size, 100, 'the records written after the restart');
});

for (const fault of ['crashActor', 'killThread'] as const) {
  test.serial(`LATEST: ${fault} while the first batch runs: records read but not handled are read again`, async (t) => {
    const stream = uniqueName(`latest-${fault}`);
    await createStream(aws.kinesis, stream, 1);
    const run = await start(t, stream, uniqueName('app'), { batchers: { batchSize: 10 } }, { delayMs: 1_500 });
    try {
      const put = await putRecords(aws.kinesis, stream, jsonRecords(50, { tag: 'a' }));
      const shardId = put[0]!.shardId;
      // the reader has the records and the first batch is in the pool
      await eventually(async () => ((await run.system.status())[0]?.bufferedRecords ?? 0) > 0 || undefined, 15_000, 'records buffered');
      if (fault === 'crashActor') t.true(await run.system.faults.crashActor(shardId, 'lease'));
      else t.true(await run.system.faults.killThread(shardId));
      await restarted(run);
      await putRecords(aws.kinesis, stream, jsonRecords(20, { tag: 'b', offset: 50 }));
      await run.deliveries.waitFor(() => tagsOf(run.deliveries, 'a').size + tagsOf(run.deliveries, 'b').size >= 70, 30_000, 'every record').catch(() => undefined);
    } finally {
      await run.system.stop();
      run.deliveries.close();
    }
    t.is(tagsOf(run.deliveries, 'a').size, 50, 'records written before the restart');
    t.is(tagsOf(run.deliveries, 'b').size, 20, 'records written after the restart');
  });
}

test.serial('LATEST: stop() before any traffic, records written while stopped are handled by the next owner', async (t) => {
  const stream = uniqueName('latest-stop');
  const app = uniqueName('app');
  await createStream(aws.kinesis, stream, 2);
  const first = await start(t, stream, app);
  await eventually(async () => (first.started.length === 2 ? true : undefined), 15_000, 'both shards started');
  await first.system.stop();
  first.deliveries.close();
  await putRecords(aws.kinesis, stream, jsonRecords(200, { tag: 'gap' }));
  const second = await start(t, stream, app, { workerId: 'second-owner' });
  try {
    await second.deliveries.waitFor(() => tagsOf(second.deliveries, 'gap').size >= 200, 15_000, 'the records written while stopped').catch(() => undefined);
    // the first concrete checkpoint removes the anchor: the table carries nothing no one clears
    const table = aws.leaseTable(app);
    await eventually(async () => ((await table.scan()).every((l) => /^\d+$/.test(l.checkpoint)) ? true : undefined), 15_000, 'concrete checkpoints').catch(() => undefined);
  } finally {
    await second.system.stop();
    second.deliveries.close();
  }
  t.is(tagsOf(second.deliveries, 'gap').size, 200, '0 of 200 lost');
  const rows = await aws.leaseTable(app).scan();
  t.true(rows.every((l) => /^\d+$/.test(l.checkpoint)), 'checkpointed at sequence numbers');
  t.true(rows.every((l) => l.checkpointTimestamp === undefined), 'no anchor left on a concrete checkpoint');
});

for (const fault of ['crashActor', 'killThread'] as const) {
  test.serial(`handled but not yet checkpointed: after ${fault} the shard resumes after the last handled record, nothing replayed`, async (t) => {
    const stream = uniqueName(`handled-${fault}`);
    await createStream(aws.kinesis, stream, 1);
    // one checkpoint write a minute: everything after the first batch stays in memory only
    const app = uniqueName('app');
    const run = await start(t, stream, app, { initialPosition: 'TRIM_HORIZON', lease: { failoverMs: 4_000, checkpointIntervalMs: 60_000 }, batchers: { batchSize: 20 } });
    try {
      const lastHandled: string[] = [];
      run.system.events.on('batch:handled', (e) => lastHandled.push(e.lastSequenceNumber));
      // the first batch alone: written at once, as its shard has nothing else to hand over
      const first = await putRecords(aws.kinesis, stream, jsonRecords(20, { tag: 'a' }));
      const shardId = first[0]!.shardId;
      const checkpoint = async () => (await aws.leaseTable(app).get(shardId))?.checkpoint;
      await eventually(async () => ((await checkpoint()) === first.at(-1)!.sequenceNumber ? true : undefined), 20_000, 'the first checkpoint');
      const put = await putRecords(aws.kinesis, stream, jsonRecords(80, { tag: 'a', offset: 20 }));
      // the last batch's outcome has reached the main thread (the host has had it first)
      await eventually(async () => (lastHandled.includes(put.at(-1)!.sequenceNumber) ? true : undefined), 20_000, 'every batch handled');
      t.is(await checkpoint(), first.at(-1)!.sequenceNumber, 'the batches after the first are handled, not checkpointed');
      if (fault === 'crashActor') t.true(await run.system.faults.crashActor(shardId, 'lease'));
      else t.true(await run.system.faults.killThread(shardId));
      await restarted(run);
      await putRecords(aws.kinesis, stream, jsonRecords(20, { tag: 'b', offset: 100 }));
      await run.deliveries.waitFor(() => tagsOf(run.deliveries, 'b').size >= 20, 20_000);
      // a replay would come first, so by now it would show
    } finally {
      await run.system.stop();
      run.deliveries.close();
    }
    const seqs = [...run.deliveries.byShard().values()].flat();
    t.is(seqs.length, 120, 'each record handled once');
    t.is(new Set(seqs).size, 120);
  });
}
