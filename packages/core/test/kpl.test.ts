import test from 'ava';
import { ListShardsCommand } from '@aws-sdk/client-kinesis';
import { aggregate, type SystemOptions } from '@kinesis-client/core';
import { putRecords, withLocalAws } from '@kinesis-client/examples/testing';
import { eventually, startRecordingSystem, writeCheckpoint, type SystemRun } from './helpers/recording.js';

const aws = withLocalAws(test);

const enc = new TextEncoder();
const options: Partial<SystemOptions> = { batchers: { batchSize: 7, backoff: { baseMs: 5, maxMs: 20 } }, retrieval: { idleMs: 200 } };
const PER_AGGREGATE = 25;

/**
 * Per shard: aggregates of user records hashed inside that shard (as the KPL builds them), plain
 * records between them, one corrupt aggregate, and one aggregate carrying a user record hashed
 * into the other shard, which consumers must drop.
 */
async function produce(run: SystemRun) {
  const shards = (await aws.kinesis.send(new ListShardsCommand({ StreamName: run.stream }))).Shards!;
  const expected: { body: string; shardId: string }[] = [];
  const entries: { PartitionKey: string; ExplicitHashKey?: string; Data: Uint8Array }[] = [];
  shards.forEach((shard, s) => {
    const inside = (BigInt(shard.HashKeyRange!.StartingHashKey!) + 7n).toString();
    const outside = (BigInt(shards[(s + 1) % shards.length]!.HashKeyRange!.StartingHashKey!) + 7n).toString();
    for (let a = 0; a < 6; a++) {
      const users = Array.from({ length: PER_AGGREGATE }, (_, i) => ({ partitionKey: `pk-${s}-${a}-${i}`, explicitHashKey: inside, data: enc.encode(`s${s}-a${a}-u${i}`) }));
      if (a === 3 && shards.length > 1) users[5] = { partitionKey: 'stray', explicitHashKey: outside, data: enc.encode(`s${s}-stray`) };
      for (const u of users) if (u.partitionKey !== 'stray') expected.push({ body: new TextDecoder().decode(u.data), shardId: shard.ShardId! });
      entries.push(aggregate(users));
      entries.push({ PartitionKey: `plain-${s}-${a}`, ExplicitHashKey: inside, Data: enc.encode(`s${s}-plain${a}`) });
      expected.push({ body: `s${s}-plain${a}`, shardId: shard.ShardId! });
    }
    const corrupt = aggregate([{ partitionKey: 'c', explicitHashKey: inside, data: enc.encode('never seen') }]);
    corrupt.Data[corrupt.Data.length - 1]! ^= 0xff;
    entries.push(corrupt);
    expected.push({ body: new TextDecoder().decode(corrupt.Data), shardId: shard.ShardId! });
  });
  const put = await putRecords(aws.kinesis, run.stream, entries);
  return { put, entries, expected };
}

test.serial('KPL aggregates are expanded in the pool: every user record once, with its sub-sequence number; corrupt ones pass through', async (t) => {
  const run = await startRecordingSystem(t, aws, 2, options);
  try {
    const { put, expected } = await produce(run);
    await run.deliveries.waitFor(() => run.deliveries.bodies().length >= expected.length);
    const bodies = run.deliveries.bodies();
    t.deepEqual([...bodies].sort(), expected.map((e) => e.body).sort(), 'every user and plain record, the stray one dropped, the corrupt one whole');
    t.is(new Set(bodies).size, bodies.length, 'none twice');
    for (const b of run.deliveries.batches) {
      b.bodies.forEach((body, i) => {
        const m = /^s\d-a\d-u(\d+)$/.exec(body);
        if (m) t.is(b.subSequenceNumbers[i], Number(m[1]), `${body} carries its index in the aggregate`);
        else t.is(b.subSequenceNumbers[i], 0);
      });
    }
    const byShard = new Map<string, string[]>();
    for (const b of run.deliveries.batches) byShard.set(b.shardId, [...(byShard.get(b.shardId) ?? []), ...b.bodies]);
    for (const [shardId, seen] of byShard) {
      t.deepEqual(seen, expected.filter((e) => e.shardId === shardId).map((e) => e.body), `${shardId}: in order`);
    }
    const last = new Map(put.map((p) => [p.shardId, p.sequenceNumber]));
    await eventually(async () => ((await aws.leaseTable(run.app).scan()).every((l) => l.checkpoint === last.get(l.leaseKey)) ? true : undefined), 20_000, 'final checkpoints');
  } finally {
    await run.stop();
  }
});

test.serial('a checkpoint inside an aggregate resumes at the next user record; a whole aggregate is checkpointed at its last', async (t) => {
  const first = await startRecordingSystem(t, aws, 1, options);
  let app: string | undefined;
  let stream: string | undefined;
  let aggregateSeq = '';
  try {
    const { put, entries, expected } = await produce(first);
    app = first.app;
    stream = first.stream;
    await first.deliveries.waitFor(() => first.deliveries.bodies().length >= expected.length);
    // the stream ends with a corrupt aggregate (one plain record): its checkpoint has sub-sequence 0
    const lastAggregate = entries.length - 3;
    aggregateSeq = put[lastAggregate]!.sequenceNumber;
    const leases = aws.leaseTable(app);
    await eventually(async () => ((await leases.scan())[0]!.checkpoint === put[put.length - 1]!.sequenceNumber ? true : undefined), 20_000, 'final checkpoint');
    t.is((await leases.scan())[0]!.checkpointSubSequenceNumber, 0);
  } finally {
    await first.stop();
  }
  // as a worker that stopped after the 10th user record of that aggregate would have left it
  await writeCheckpoint(aws, app!, 'shardId-000000000000', aggregateSeq, 9);
  const second = await startRecordingSystem(t, aws, { stream: stream!, app: app! }, options);
  try {
    const want = [...Array.from({ length: PER_AGGREGATE - 10 }, (_, i) => `s0-a5-u${i + 10}`), 's0-plain5'];
    await second.deliveries.waitFor(() => second.deliveries.bodies().length >= want.length + 1);
    const bodies = second.deliveries.bodies();
    t.deepEqual(bodies.slice(0, want.length), want, 'from user record 10 of the aggregate on, then what follows it');
    t.is(bodies.length, want.length + 1, 'and the corrupt record after them: nothing before the checkpoint again');
    t.deepEqual(second.deliveries.batches.find((b) => b.bodies[0] === 's0-a5-u10')!.subSequenceNumbers.slice(0, 3), [10, 11, 12]);
    const leases = aws.leaseTable(app);
    await eventually(async () => ((await leases.scan())[0]!.checkpointSubSequenceNumber === 0 ? true : undefined), 20_000, 'checkpoint moved on');
    // a whole aggregate as the last record of a batch: checkpointed at its last user record
    const tail = aggregate(Array.from({ length: 4 }, (_, i) => ({ partitionKey: `t${i}`, explicitHashKey: '7', data: enc.encode(`tail${i}`) })));
    await putRecords(aws.kinesis, stream, [tail]);
    await second.deliveries.waitFor(() => second.deliveries.bodies().includes('tail3'));
    await eventually(async () => ((await leases.scan())[0]!.checkpointSubSequenceNumber === 3 ? true : undefined), 20_000, 'checkpoint at sub-sequence 3');
  } finally {
    await second.stop();
  }
});

test.serial('a Java-written checkpoint at sub-sequence 0 inside an aggregate resumes at user record 1, not after the aggregate', async (t) => {
  const first = await startRecordingSystem(t, aws, 1, options);
  const { app, stream } = first;
  let aggregateSeq = '';
  try {
    const { put, entries, expected } = await produce(first);
    await first.deliveries.waitFor(() => first.deliveries.bodies().length >= expected.length);
    aggregateSeq = put[entries.length - 3]!.sequenceNumber;
    await eventually(async () => ((await aws.leaseTable(app).scan())[0]!.checkpoint === put[put.length - 1]!.sequenceNumber ? true : undefined), 20_000, 'final checkpoint');
  } finally {
    await first.stop();
  }
  // the Java KCL checkpoints (seq, 0) after the first user record of an aggregate
  await writeCheckpoint(aws, app, 'shardId-000000000000', aggregateSeq, 0);
  const second = await startRecordingSystem(t, aws, { stream, app }, options);
  try {
    const want = [...Array.from({ length: PER_AGGREGATE - 1 }, (_, i) => `s0-a5-u${i + 1}`), 's0-plain5'];
    await second.deliveries.waitFor(() => second.deliveries.bodies().length >= want.length + 1);
    t.deepEqual(second.deliveries.bodies().slice(0, want.length), want, 'user records 1..n-1 of that aggregate, then what follows it');
    t.is(second.deliveries.bodies().length, want.length + 1, 'and the corrupt record: nothing at or before the checkpoint again');
  } finally {
    await second.stop();
  }
});

test.serial('a poison aggregate (an explicit hash key that is not a number) is delivered whole and the shard goes on', async (t) => {
  const run = await startRecordingSystem(t, aws, 2, options);
  try {
    const failures: unknown[] = [];
    run.system.events.on('batch:failed', (e) => failures.push(e.error));
    run.system.events.on('actor:crashed', (e) => failures.push(e.error));
    const shards = (await aws.kinesis.send(new ListShardsCommand({ StreamName: run.stream }))).Shards!;
    const inside = (BigInt(shards[0]!.HashKeyRange!.StartingHashKey!) + 7n).toString();
    const poison = aggregate([
      { partitionKey: 'first', explicitHashKey: inside, data: enc.encode('poison-0') },
      { partitionKey: 'second', explicitHashKey: 'not-a-number', data: enc.encode('poison-1') },
    ]);
    const after = Array.from({ length: 20 }, (_, i) => ({ PartitionKey: `a${i}`, ExplicitHashKey: inside, Data: enc.encode(`after-${i}`) }));
    await putRecords(aws.kinesis, run.stream, [{ PartitionKey: 'before', ExplicitHashKey: inside, Data: enc.encode('before') }, poison, ...after]);
    await run.deliveries.waitFor(() => run.deliveries.bodies().includes('after-19'), 30_000, 'the records after the poison one');
    const bodies = run.deliveries.bodies();
    t.deepEqual(bodies.slice(0, 1), ['before']);
    t.is(bodies[1], new TextDecoder().decode(poison.Data), 'the poison record whole, as a corrupt aggregate');
    t.deepEqual(bodies.slice(2), after.map((_, i) => `after-${i}`));
    t.deepEqual(failures, [], 'no failed batch, no crash');
  } finally {
    await run.stop();
  }
});
