import test, { type ExecutionContext } from 'ava';
import type { SystemOptions } from '@kinesis-client/core';
import { putRecords, withLocalAws } from '@kinesis-client/examples/testing';
import { eventually, isAscending, jsonRecords, sortedSeqs, startRecordingSystem, type SystemRun } from './helpers/recording.js';

const aws = withLocalAws(test);

const start = (t: ExecutionContext, shards: number, options: Partial<SystemOptions>) =>
  startRecordingSystem(t, aws, shards, { batchers: { batchSize: 100, backoff: { baseMs: 5, maxMs: 20 } }, ...options });

/** Exactly what was put, each once, in shard order, and checkpointed to the end. */
async function checkExactlyOnce(t: { is: Function; true: Function; deepEqual: Function }, run: SystemRun, put: { shardId: string; sequenceNumber: string }[]) {
  await run.deliveries.waitFor(() => run.deliveries.count >= put.length, 60_000);
  const byShard = run.deliveries.byShard();
  const all = [...byShard.values()].flat();
  t.deepEqual(sortedSeqs(all), sortedSeqs(put.map((p) => p.sequenceNumber)), 'every record handled');
  t.is(all.length, put.length, 'none twice: no replays');
  for (const [shardId, seqs] of byShard) t.true(isAscending(seqs), `${shardId} in shard order`);
  const last = new Map(put.map((p) => [p.shardId, p.sequenceNumber]));
  await eventually(async () => ((await aws.leaseTable(run.app).scan()).every((l) => l.checkpoint === last.get(l.leaseKey)) ? true : undefined), 20_000, 'final checkpoints');
}

test.serial('20 throttled GetRecords in a row, expired iterators and throttled UpdateItem: every record once, in order', async (t) => {
  const run = await start(t, 1, { retrieval: { idleMs: 200, throttleBackoff: { baseMs: 5, maxMs: 40 } } });
  const throttled: number[] = [];
  const lost: string[] = [];
  run.system.events.on('shard:throttled', (e) => throttled.push(e.consecutive));
  run.system.events.on('lease:lost', (e) => lost.push(e.shardId));
  try {
    const first = await putRecords(aws.kinesis, run.stream, jsonRecords(500));
    await run.deliveries.waitFor(() => run.deliveries.count >= 200);
    const throttles = await run.system.faults.failCalls({ command: 'GetRecords', error: 'ProvisionedThroughputExceededException', times: 20 });
    const second = await putRecords(aws.kinesis, run.stream, jsonRecords(500, { offset: 500 }));
    await eventually(async () => (throttles.remaining === 0 ? true : undefined), 20_000, 'the throttles to be used up');
    const expired = await run.system.faults.failCalls({ command: 'GetRecords', error: 'ExpiredIteratorException', times: 3 });
    const ddb = await run.system.faults.failCalls({ command: 'UpdateItem', error: 'ProvisionedThroughputExceededException', times: 5 });
    const third = await putRecords(aws.kinesis, run.stream, jsonRecords(500, { offset: 1_000 }));
    await checkExactlyOnce(t, run, [...first, ...second, ...third]);
    t.is(expired.remaining, 0);
    t.is(ddb.remaining, 0);
    t.is(Math.max(...throttled), 20, 'one shard saw 20 throttles in a row, backing off each time');
    t.deepEqual(lost, [], 'throttled lease writes do not lose the lease');
  } finally {
    await run.stop();
  }
});

test.serial('an iterator older than iteratorMaxAgeMs is replaced before use, right after the last record read', async (t) => {
  const run = await start(t, 2, { retrieval: { idleMs: 1_000, iteratorMaxAgeMs: 300 } });
  try {
    const first = await putRecords(aws.kinesis, run.stream, jsonRecords(300));
    await run.deliveries.waitFor(() => run.deliveries.count >= 300);
    // caught up: the reader now waits up to idleMs between polls, so its iterators outlive 300 ms
    await new Promise((r) => setTimeout(r, 2_500));
    const second = await putRecords(aws.kinesis, run.stream, jsonRecords(300, { offset: 300 }));
    await checkExactlyOnce(t, run, [...first, ...second]);
    const shards = (await run.system.inspect()).shards;
    t.true(shards.every((s) => (s.getShardIteratorCalls ?? 0) >= 3), `iterators were replaced (${shards.map((s) => s.getShardIteratorCalls).join(', ')} GetShardIterator calls)`);
    t.deepEqual(run.errors, [], 'replacing an aged iterator is routine, not an error');
  } finally {
    await run.stop();
  }
});

test.serial('an idle shard backs off to one GetRecords call per idleMs', async (t) => {
  const run = await start(t, 1, { retrieval: { idleMs: 1_000 } });
  try {
    await putRecords(aws.kinesis, run.stream, jsonRecords(10));
    await run.deliveries.waitFor(() => run.deliveries.count >= 10);
    const calls = async () => (await run.system.inspect()).shards[0]!.getRecordsCalls ?? 0;
    await new Promise((r) => setTimeout(r, 3_000));
    const before = await calls();
    await new Promise((r) => setTimeout(r, 3_000));
    const idleCalls = (await calls()) - before;
    t.log(`${idleCalls} GetRecords calls in 3 s while idle`);
    t.true(idleCalls <= 4, 'no more than one call per idleMs (plus one in flight at each end)');
    t.true(idleCalls >= 1, 'still polling');
  } finally {
    await run.stop();
  }
});

test.serial('throttled lease renewals are retried at once with backoff, and the lease is kept', async (t) => {
  const run = await start(t, 1, { lease: { failoverMs: 3_000 } });
  const lost: string[] = [];
  run.system.events.on('lease:lost', (e) => lost.push(e.shardId));
  try {
    const leases = aws.leaseTable(run.app);
    const counter = async () => (await leases.scan())[0]!.leaseCounter;
    await eventually(async () => ((await leases.scan())[0]?.leaseOwner === run.system.workerId ? true : undefined));
    const rule = await run.system.faults.failCalls({ command: 'UpdateItem', error: 'ProvisionedThroughputExceededException', times: 4 });
    await eventually(async () => (rule.remaining === 0 ? true : undefined), 10_000, 'the renewals to meet the throttles');
    const after = await counter();
    await eventually(async () => ((await counter()) > after ? true : undefined), 10_000, 'a renewal after the throttles');
    t.deepEqual(lost, []);
    t.is((await leases.scan())[0]!.leaseOwner, run.system.workerId);
    t.true(run.errors.filter((e) => e.name === 'ProvisionedThroughputExceededException').length >= 4);
  } finally {
    await run.stop();
  }
});

test.serial('checkpoint writes are coalesced to one per checkpointIntervalMs per shard; stop() still writes the last handled batch', async (t) => {
  const run = await start(t, 1, { lease: { checkpointIntervalMs: 1_000 }, batchers: { batchSize: 20, backoff: { baseMs: 5, maxMs: 20 } }, retrieval: { idleMs: 200 } });
  const writes: number[] = [];
  run.system.events.on('checkpoint', () => writes.push(Date.now()));
  const handled: number[] = [];
  run.system.events.on('batch:handled', () => handled.push(Date.now()));
  const put: { shardId: string; sequenceNumber: string }[] = [];
  try {
    for (let i = 0; i < 12; i++) {
      put.push(...(await putRecords(aws.kinesis, run.stream, jsonRecords(60, { offset: i * 60 }))));
      await new Promise((r) => setTimeout(r, 250));
    }
    await run.deliveries.waitFor(() => run.deliveries.count >= put.length);
    const span = writes[writes.length - 1]! - writes[0]!;
    t.log(`${handled.length} batches, ${writes.length} checkpoint writes over ${span} ms`);
    t.true(handled.length >= 2 * writes.length, 'several batches per write');
    // writes start an interval apart in the host thread; their events reach this thread after the
    // write's own latency, which varies, so the gaps seen here are allowed that much slack
    for (let i = 1; i < writes.length; i++) t.true(writes[i]! - writes[i - 1]! >= 800, `writes about an interval apart (${writes[i]! - writes[i - 1]!} ms)`);
    t.true(writes.length <= Math.ceil(span / 1_000) + 1, 'no more than one write per interval');
  } finally {
    await run.stop();
  }
  const [lease] = await aws.leaseTable(run.app).scan();
  t.is(lease!.checkpoint, put[put.length - 1]!.sequenceNumber, 'the final checkpoint is the last record handled');
});
