import test from 'ava';
import type { KinesisClientError } from '@kinesis-client/core';
import { createStream, putRecords, uniqueName, withLocalAws } from '@kinesis-client/examples/testing';
import { checkpointedAtLast, eventually, isAscending, jsonRecords, sortedSeqs, startRecordingSystem } from './helpers/recording.js';

const aws = withLocalAws(test);

test.serial('listeners that throw on every call are reported as LISTENER_FAILED and change nothing the system does', async (t) => {
  const stream = uniqueName('listeners');
  const app = uniqueName('app');
  await createStream(aws.kinesis, stream, 2);
  const put = await putRecords(aws.kinesis, stream, jsonRecords(1_000));
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  const { system, deliveries, stop } = await startRecordingSystem(t, aws, { stream, app }, {
    processors: { concurrency: 2 },
    shardHosts: { threads: 2 },
    batchers: { batchSize: 100 },
    lease: { failoverMs: 6_000, checkpointIntervalMs: 0 },
  });
  const seen = { failed: 0, crashed: 0, shardFailed: 0, hostDied: 0, fatal: 0 };
  const listenerFailures: KinesisClientError[] = [];
  // every one of these throws on every call, synchronously or as a rejected promise
  system.events.on('batch:handled', () => {
    throw new Error('batch:handled listener bug');
  });
  system.events.on('checkpoint', async () => {
    throw new Error('checkpoint listener bug');
  });
  system.events.on('lease:acquired', () => {
    throw new Error('lease:acquired listener bug');
  });
  system.events.on('error', (e) => {
    if ((e.error as KinesisClientError).code === 'LISTENER_FAILED') listenerFailures.push(e.error as KinesisClientError);
    else if ((e.error as KinesisClientError).code === 'HOST_THREAD_DIED') seen.hostDied++;
  });
  system.events.on('error', () => {
    throw new Error('error listener bug');
  });
  system.events.on('batch:failed', () => seen.failed++);
  system.events.on('actor:crashed', () => seen.crashed++);
  system.events.on('shard:stopped', (e) => (e.reason === 'failed' ? seen.shardFailed++ : undefined));
  system.events.on('fatal', () => seen.fatal++);
  try {
    await deliveries.waitFor(() => deliveries.count >= 1_000, 60_000, 'every record');
    await checkpointedAtLast(aws, app, put);
    await eventually(async () => (listenerFailures.some((e) => e.details.event === 'checkpoint') ? true : undefined), 10_000, 'the checkpoint listener reported');
  } finally {
    await stop();
    process.off('warning', onWarning);
  }
  const all = [...deliveries.byShard().values()].flat();
  t.is(all.length, 1_000, 'each record handled once: no batch failed because of a listener');
  t.deepEqual(sortedSeqs(all), sortedSeqs(put.map((p) => p.sequenceNumber)));
  for (const [shardId, seqs] of deliveries.byShard()) t.true(isAscending(seqs), `${shardId} in order`);
  t.deepEqual(seen, { failed: 0, crashed: 0, shardFailed: 0, hostDied: 0, fatal: 0 });
  for (const event of ['batch:handled', 'checkpoint', 'lease:acquired']) {
    const failure = listenerFailures.find((e) => e.details.event === event);
    t.truthy(failure, `a throwing ${event} listener is reported`);
    t.is(failure?.name, 'KinesisClientError');
    t.regex(String((failure?.cause as Error | undefined)?.message), new RegExp(`${event} listener bug`), 'the cause is what it threw');
  }
  const listenerWarnings = warnings.filter((w) => /error listener bug/.test(`${w.message} ${(w as { cause?: Error }).cause?.message ?? ''}`));
  t.true(listenerWarnings.length >= 1, 'the error listener throwing becomes a warning');
  // one per kind of failure (the three listeners above), not one per failing call
  t.true(listenerFailures.length > 10, `listeners failed many times (${listenerFailures.length})`);
  t.true(listenerWarnings.length <= 3, `warnings are bounded (${listenerWarnings.length})`);
});
