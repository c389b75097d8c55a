import test, { type ExecutionContext } from 'ava';
import { createStream, putRecords, uniqueName, withLocalAws } from '@kinesis-client/examples/testing';
import { eventually, isAscending, jsonRecords, sortedSeqs, startRecordingSystem, type Deliveries } from './helpers/recording.js';

const aws = withLocalAws(test);

async function run(t: ExecutionContext, records: number, consumerQuery: Record<string, string | number>, extra: object, until: (d: Deliveries) => boolean) {
  const stream = uniqueName('retry');
  const app = uniqueName('app');
  await createStream(aws.kinesis, stream, 2);
  const put = await putRecords(aws.kinesis, stream, jsonRecords(records));
  const events: { crashed: number; restarted: number; failedBatches: number; errors: Error[] } = { crashed: 0, restarted: 0, failedBatches: 0, errors: [] };
  const { system, deliveries, stop } = await startRecordingSystem(
    t,
    aws,
    { stream, app },
    { batchers: { batchSize: 100, backoff: { baseMs: 5, maxMs: 20 } }, supervision: { shard: { backoff: { baseMs: 5, maxMs: 20 } } }, ...extra },
    consumerQuery,
  );
  system.events.on('actor:crashed', () => events.crashed++);
  system.events.on('actor:restarted', () => events.restarted++);
  system.events.on('batch:failed', () => events.failedBatches++);
  system.events.on('error', (e) => events.errors.push(e.error));
  try {
    await deliveries.waitFor(() => until(deliveries));
    const last = new Map<string, string>();
    for (const p of put) last.set(p.shardId, p.sequenceNumber);
    await eventually(async () => {
      const leases = await aws.leaseTable(app).scan();
      return leases.every((l) => l.checkpoint === last.get(l.leaseKey)) ? true : undefined;
    }, 15_000, 'checkpoints at the last records');
  } finally {
    await stop();
  }
  return { put, deliveries, events };
}

test.serial('handleBatch that throws on some batches is retried: nothing lost, order kept', async (t) => {
  const { put, deliveries, events } = await run(t, 3_000, { failMod: 3, failAttempts: 2 }, { batchers: { batchSize: 100, maxAttempts: 5, backoff: { baseMs: 5, maxMs: 20 } } }, (d) => d.count >= 3_000);
  t.true(deliveries.threw.length > 0, 'some batches did throw');
  t.true(deliveries.threw.every((x) => x.attempt <= 2));
  t.true(events.failedBatches >= deliveries.threw.length);
  const byShard = deliveries.byShard();
  const all = [...byShard.values()].flat();
  t.is(all.length, 3_000, 'each record handed to a successful handleBatch once');
  t.deepEqual(sortedSeqs(all), sortedSeqs(put.map((p) => p.sequenceNumber)));
  for (const [shardId, seqs] of byShard) t.true(isAscending(seqs), `${shardId} in order despite retries`);
  t.true(deliveries.batches.some((b) => b.attempt > 1), 'retried batches succeed on a later attempt');
  t.is(events.crashed, 0, 'retries within maxAttempts do not crash the reader');
});

test.serial('after the last attempt, batches go to handleFailed and are then checkpointed', async (t) => {
  const { put, deliveries } = await run(
    t,
    600,
    { alwaysFail: 1, withFailed: 1 },
    { batchers: { batchSize: 100, maxAttempts: 2, backoff: { baseMs: 5, maxMs: 20 } } },
    (d) => d.failed.reduce((n, f) => n + f.sequenceNumbers.length, 0) >= 600,
  );
  const failed = deliveries.failed.flatMap((f) => f.sequenceNumbers);
  t.is(deliveries.batches.length, 0);
  t.deepEqual(sortedSeqs(failed), sortedSeqs(put.map((p) => p.sequenceNumber)), 'every record reached handleFailed');
  t.is(failed.length, 600, 'once each');
});

test.serial('without handleFailed, exhausted retries crash the reader, which restarts from the last checkpoint', async (t) => {
  const { put, deliveries, events } = await run(
    t,
    1_000,
    { failTimes: 3 },
    {
      processors: { concurrency: 1 },
      batchers: { batchSize: 100, maxAttempts: 2, backoff: { baseMs: 5, maxMs: 20 } },
      // each of the 10 batches costs one restart: stay under the limit, which would give the shard up for a take cycle
      supervision: { shard: { maxRestarts: 20, backoff: { baseMs: 5, maxMs: 20 } } },
    },
    (d) => d.count >= 1_000,
  );
  t.true(events.crashed > 0, 'the reader crashed');
  t.true(events.restarted > 0, 'and was restarted');
  t.true(events.errors.length === 0 || events.errors.every((e) => e instanceof Error));
  const byShard = deliveries.byShard();
  const all = [...byShard.values()].flat();
  t.deepEqual(sortedSeqs(all), sortedSeqs(put.map((p) => p.sequenceNumber)), 'nothing skipped');
  t.is(all.length, 1_000, 'a batch that never succeeded was never checkpointed past, nor delivered twice');
  for (const [shardId, seqs] of byShard) t.true(isAscending(seqs), `${shardId} in order across restarts`);
});
