import test, { type ExecutionContext } from 'ava';
import { createStream, putRecords, uniqueName, withLocalAws } from '@kinesis-client/examples/testing';
import { jsonRecords, startRecordingSystem } from './helpers/recording.js';

const aws = withLocalAws(test);

async function startedSystem(t: ExecutionContext, stream: string, initialPosition: 'LATEST' | { timestamp: Date }) {
  const started = new Set<string>();
  const run = await startRecordingSystem(t, aws, { stream, app: uniqueName('app') }, { initialPosition, processors: { concurrency: 1 }, shardHosts: { threads: 1 } });
  run.system.events.on('shard:started', (e) => started.add(e.shardId));
  await run.deliveries.waitFor(() => started.size === 2, 15_000, 'both shards started');
  return run;
}

test.serial('LATEST: only records put after the shards started are handled', async (t) => {
  const stream = uniqueName('latest');
  await createStream(aws.kinesis, stream, 2);
  await putRecords(aws.kinesis, stream, jsonRecords(500, { tag: 'before' }));
  const { system, deliveries } = await startedSystem(t, stream, 'LATEST');
  try {
    await putRecords(aws.kinesis, stream, jsonRecords(300, { tag: 'after' }));
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
  await createStream(aws.kinesis, stream, 2);
  await putRecords(aws.kinesis, stream, jsonRecords(400, { tag: 'old' }));
  // arrival timestamps have millisecond resolution: leave a clear gap on both sides
  await new Promise((r) => setTimeout(r, 1_100));
  const timestamp = new Date();
  await new Promise((r) => setTimeout(r, 1_100));
  await putRecords(aws.kinesis, stream, jsonRecords(250, { tag: 'new' }));
  const { system, deliveries } = await startedSystem(t, stream, { timestamp });
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
