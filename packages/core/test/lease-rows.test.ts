/**
 * A lease row the library cannot read (written by hand, or by another tool) is reported and left
 * alone, never silently stuck; the other shards are unaffected.
 */
import test from 'ava';
import { GetItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { KinesisClientError } from '@kinesis-client/core';
import { createStream, putRecords, uniqueName, withLocalAws } from '@kinesis-client/examples/testing';
import { eventually, jsonRecords, startRecordingSystem } from './helpers/recording.js';

const aws = withLocalAws(test);

const TAKE_INTERVAL_MS = 500;

test.serial('a row whose leaseCounter is not a number: one LEASE_ROW_INVALID error per change of the row, never written; other shards go on', async (t) => {
  const stream = uniqueName('rows');
  const app = uniqueName('app');
  await createStream(aws.kinesis, stream, 2);
  const table = aws.leaseTable(app);
  await table.ensure();
  const bad = 'shardId-000000000001';
  const write = (item: Record<string, AttributeValue>) => aws.dynamodb.send(new PutItemCommand({ TableName: app, Item: item }));
  const read = async () => (await aws.dynamodb.send(new GetItemCommand({ TableName: app, Key: { leaseKey: { S: bad } }, ConsistentRead: true }))).Item;
  const row = (counter: AttributeValue) => ({ leaseKey: { S: bad }, leaseCounter: counter, checkpoint: { S: 'TRIM_HORIZON' } });
  await write(row({ S: 'abc' }));

  const run = await startRecordingSystem(t, aws, { stream, app }, { lease: { failoverMs: 3_000, takeIntervalMs: TAKE_INTERVAL_MS }, retrieval: { idleMs: 100 } });
  const invalid = () => run.errors.filter((e): e is KinesisClientError => e instanceof KinesisClientError && e.code === 'LEASE_ROW_INVALID');
  try {
    const written = await putRecords(aws.kinesis, stream, jsonRecords(200));
    const good = written.filter((w) => w.shardId !== bad);
    t.true(good.length > 0 && good.length < written.length, 'records on both shards');
    await run.deliveries.waitFor(() => good.every((w) => run.deliveries.byShard().get(w.shardId)?.includes(w.sequenceNumber)), 30_000, 'the good shard');

    await eventually(async () => (invalid().length > 0 ? true : undefined), 20_000, 'LEASE_ROW_INVALID');
    // several take cycles later it is still reported once, and the row is as it was written
    await new Promise((r) => setTimeout(r, 6 * TAKE_INTERVAL_MS));
    t.is(invalid().length, 1, 'reported once, not every cycle');
    t.is(invalid()[0]!.details.leaseKey, bad);
    t.regex(String(invalid()[0]!.details.reason), /leaseCounter/);
    t.deepEqual(await read(), row({ S: 'abc' }), 'never written');
    t.false(run.deliveries.byShard().has(bad), 'nothing read from the unreadable lease');

    // a change of the row is reported again
    await write(row({ S: 'xyz' }));
    await eventually(async () => (invalid().length === 2 ? true : undefined), 20_000, 'the second report');
    await new Promise((r) => setTimeout(r, 4 * TAKE_INTERVAL_MS));
    t.is(invalid().length, 2);

    // repaired, it is taken like any other lease and its records are handled
    await write(row({ N: '0' }));
    const rest = written.filter((w) => w.shardId === bad);
    await run.deliveries.waitFor(() => rest.every((w) => run.deliveries.byShard().get(bad)?.includes(w.sequenceNumber)), 30_000, 'the repaired shard');
    t.is(invalid().length, 2, 'no report once readable');
    t.deepEqual(
      run.errors.filter((e) => !invalid().includes(e as KinesisClientError)).map((e) => e.message),
      [],
      'no other error',
    );
  } finally {
    await run.stop();
  }
});

