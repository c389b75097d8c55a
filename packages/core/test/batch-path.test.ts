import test from 'ava';
import { Worker } from 'node:worker_threads';
import { createSystem } from '@kinesis-client/core';
import { createStream, putRecords, uniqueName, withLocalAws } from '@kinesis-client/examples/testing';
import { Deliveries, eventually, fixture, jsonRecords } from './helpers/recording.js';

const aws = withLocalAws(test);

/** Holds the calling thread, as a main thread busy with something else would be. */
const busyFor = (ms: number) => {
  const until = Date.now() + ms;
  while (Date.now() < until);
  return Date.now();
};

test.serial('a batch is acknowledged and checkpointed while the main thread is busy: its outcome goes from the pool to the shard host directly', async (t) => {
  const stream = uniqueName('path');
  const app = uniqueName('app');
  await createStream(aws.kinesis, stream, 1);
  const put = await putRecords(aws.kinesis, stream, jsonRecords(20));
  const last = put[put.length - 1]!;
  const deliveries = new Deliveries();
  const system = await createSystem({
    streamName: stream,
    appName: app,
    consumer: fixture('announcing-consumer.mjs', { channel: deliveries.channelName, delayMs: 300 }),
    ...aws.clientOptions,
    processors: { concurrency: 1 },
    shardHosts: { threads: 1 },
    batchers: { batchSize: 20 },
  });
  const seen: { at: number; checkpoint: string | undefined }[] = [];
  const watcher = new Worker(new URL('./fixtures/lease-watcher.mjs', import.meta.url), {
    workerData: { dynamodb: { region: aws.clientOptions.region, ...aws.clientOptions.dynamodb }, table: app, leaseKey: last.shardId, everyMs: 20 },
  });
  watcher.on('message', (m: { at: number; checkpoint: string | undefined }) => seen.push(m));
  const announcements = new BroadcastChannel(deliveries.channelName);
  let busyFrom = 0;
  let busyUntil = 0;
  announcements.onmessage = ({ data }: MessageEvent) => {
    if ((data as { type: string }).type !== 'starting' || busyFrom) return;
    // the batch is in a pool thread now, for 300 ms: hold the main thread well past that and the
    // checkpoint after it, with room for a loaded machine
    busyFrom = Date.now();
    busyUntil = busyFor(5_000);
  };
  try {
    await deliveries.waitFor(() => deliveries.count >= 20);
    await eventually(async () => (seen.some((s) => s.checkpoint === last.sequenceNumber) ? true : undefined), 15_000, 'the checkpoint');
  } finally {
    announcements.close();
    await watcher.terminate();
    await system.stop();
    deliveries.close();
  }
  t.true(busyFrom > 0, 'the main thread was held while the batch ran');
  const landed = seen.find((s) => s.checkpoint === last.sequenceNumber)!;
  t.true(landed.at < busyUntil, `checkpointed ${landed.at - busyFrom} ms into the ${busyUntil - busyFrom} ms the main thread was busy`);
});
