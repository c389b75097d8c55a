import test from 'ava';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { createStream, putRecords, uniqueName, withLocalAws } from '@kinesis-client/examples/testing';
import { eventually, isAscending, jsonRecords, startRecordingSystem } from './helpers/recording.js';

const aws = withLocalAws(test);

const base = () => ({ lease: { failoverMs: 6_000 }, processors: { concurrency: 2 } });

test.serial('stop() then a new system with the same appName: new records handled, nothing replayed, no lease owned', async (t) => {
  const stream = uniqueName('restart');
  const app = uniqueName('app');
  await createStream(aws.kinesis, stream, 4);
  await putRecords(aws.kinesis, stream, jsonRecords(4_000, { tag: 'first' }));

  const { system: system1, deliveries: first } = await startRecordingSystem(t, aws, { stream, app }, base());
  const released: string[] = [];
  system1.events.on('lease:released', (e) => released.push(e.shardId));
  await first.waitFor(() => first.count >= 4_000);
  await system1.stop();
  await system1.stop(); // idempotent
  first.close();
  t.is(released.length, 4, 'every lease released by stop()');
  const afterStop = await aws.leaseTable(app).scan();
  t.true(afterStop.every((l) => l.leaseOwner === undefined), 'no lease owned after stop()');
  t.true(afterStop.every((l) => /^\d+$/.test(l.checkpoint)), 'every shard checkpointed at a sequence number');

  await putRecords(aws.kinesis, stream, jsonRecords(3_000, { tag: 'second', offset: 4_000 }));

  const { deliveries: second, stop } = await startRecordingSystem(t, aws, { stream, app }, base());
  try {
    await second.waitFor(() => second.count >= 3_000);
    // give a replay the chance to show itself before judging
    await new Promise((r) => setTimeout(r, 1_500));
  } finally {
    await stop();
  }
  const firstSeqs = new Set([...first.byShard().values()].flat());
  const secondSeqs = [...second.byShard().values()].flat();
  t.is(secondSeqs.length, 3_000, 'exactly the records put in between');
  t.true(secondSeqs.every((s) => !firstSeqs.has(s)), 'nothing already checkpointed is handed over again');
  t.true(second.bodies().every((b) => JSON.parse(b).tag === 'second'));
  for (const [shardId, seqs] of second.byShard()) t.true(isAscending(seqs), `${shardId} in order`);
});

test.serial('a lease row written by the Java KCL is used as it is: resume after its checkpoint', async (t) => {
  const stream = uniqueName('java');
  const app = uniqueName('app');
  await createStream(aws.kinesis, stream, 1);
  const put = await putRecords(aws.kinesis, stream, jsonRecords(100));
  const table = aws.leaseTable(app);
  await table.ensure();
  // as the Java KCL 2.x leaves it: its own extra attributes, free, checkpointed at record 59
  const item = {
    leaseKey: { S: put[0]!.shardId },
    leaseCounter: { N: '42' },
    checkpoint: { S: put[59]!.sequenceNumber },
    checkpointSubSequenceNumber: { N: '0' },
    ownerSwitchesSinceCheckpoint: { N: '3' },
    pendingCheckpoint: { S: 'IGNORED' },
    throughputKBps: { N: '0' },
  };
  await aws.dynamodb.send(new PutItemCommand({ TableName: app, Item: item }));

  const { deliveries, stop } = await startRecordingSystem(t, aws, { stream, app }, base());
  try {
    await deliveries.waitFor(() => deliveries.count >= 40);
    await eventually(async () => ((await table.get(put[0]!.shardId))?.checkpoint === put[99]!.sequenceNumber ? true : undefined), 10_000, 'checkpoint');
  } finally {
    await stop();
  }
  t.deepEqual([...deliveries.byShard().values()].flat(), put.slice(60).map((p) => p.sequenceNumber));
  const row = await table.get(put[0]!.shardId);
  t.true(row!.leaseCounter > 42, 'leaseCounter continued from the Java value');
  t.is(row!.ownerSwitchesSinceCheckpoint, 0, 'reset by the checkpoint');
});
