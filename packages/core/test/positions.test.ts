import test from 'ava';
import { createSystem } from '@kinesis-client/core';
import { Deliveries, createStream, fixture, jsonRecords, putRecords, startServices, uniqueName, type Services } from './helpers/local.js';

let services: Services;
test.before(async () => {
  services = await startServices();
});
test.after.always(async () => {
  await services?.stop();
});

async function startedSystem(stream: string, initialPosition: 'LATEST' | { timestamp: Date }, deliveries: Deliveries) {
  const started = new Set<string>();
  const system = await createSystem({
    streamName: stream,
    appName: uniqueName('app'),
    consumer: fixture('recording-consumer.mjs', { channel: deliveries.channelName }),
    initialPosition,
    ...services.aws.clientOptions,
    processors: { concurrency: 1 },
    shardHosts: { threads: 1 },
  });
  system.events.on('shard:started', (e) => started.add(e.shardId));
  await deliveries.waitFor(() => started.size === 2, 15_000, 'both shards started');
  return system;
}

test.serial('LATEST: only records put after the shards started are handled', async (t) => {
  const stream = uniqueName('latest');
  await createStream(services.kinesis, stream, 2);
  await putRecords(services.kinesis, stream, jsonRecords(500, { tag: 'before' }));
  const deliveries = new Deliveries();
  const system = await startedSystem(stream, 'LATEST', deliveries);
  try {
    await putRecords(services.kinesis, stream, jsonRecords(300, { tag: 'after' }));
    await deliveries.waitFor(() => deliveries.count >= 300);
    await new Promise((r) => setTimeout(r, 1_500));
  } finally {
    await system.stop();
    deliveries.close();
  }
  const tags = deliveries.bodies().map((b) => JSON.parse(b).tag);
  t.is(tags.length, 300);
  t.true(tags.every((tag) => tag === 'after'));
});

test.serial('{ timestamp }: records from that time on, none before', async (t) => {
  const stream = uniqueName('ts');
  await createStream(services.kinesis, stream, 2);
  await putRecords(services.kinesis, stream, jsonRecords(400, { tag: 'old' }));
  // arrival timestamps have millisecond resolution: leave a clear gap on both sides
  await new Promise((r) => setTimeout(r, 1_100));
  const timestamp = new Date();
  await new Promise((r) => setTimeout(r, 1_100));
  await putRecords(services.kinesis, stream, jsonRecords(250, { tag: 'new' }));
  const deliveries = new Deliveries();
  const system = await startedSystem(stream, { timestamp }, deliveries);
  try {
    await deliveries.waitFor(() => deliveries.count >= 250);
    await new Promise((r) => setTimeout(r, 1_500));
  } finally {
    await system.stop();
    deliveries.close();
  }
  const tags = deliveries.bodies().map((b) => JSON.parse(b).tag);
  t.is(tags.length, 250);
  t.true(tags.every((tag) => tag === 'new'));
});
