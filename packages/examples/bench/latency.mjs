/**
 * End-to-end latency benchmark (issue 6): from just before PutRecord to the start of handleBatch
 * for the record, with GetRecords polling and with enhanced fan-out, measured in the same run
 * against the same kinesis-mock, so the ratio compares like with like. The producer puts one
 * record at a time at random intervals (so records land at random points of a polling cycle),
 * after a warm-up that waits for the reader to be running. Both modes use their defaults.
 * Baselines, in the same run: a bare SubscribeToShard loop and a bare GetRecords loop at the
 * 5 calls/s Kinesis allows, each timing a record from PutRecord to its arrival (no leases, no
 * pool): what the emulator itself costs. Prints p50/p99 per row and the ratios; asserts nothing.
 *
 *   pnpm bench:latency  [--records 100] [--gap-ms 200]
 */
import { parseArgs } from 'node:util';
import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  PutRecordCommand,
  RegisterStreamConsumerCommand,
  DescribeStreamConsumerCommand,
  SubscribeToShardCommand,
} from '@aws-sdk/client-kinesis';
import { createSystem } from '@kinesis-client/core';
import { createSubscriptionClient } from '@kinesis-client/worker/internal';
import { createStream, startLocalAws } from '@kinesis-client/examples/testing';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values } = parseArgs({ options: { records: { type: 'string', default: '100' }, 'gap-ms': { type: 'string', default: '200' } } });
const records = Number(values.records);
const gapMs = Number(values['gap-ms']);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const wallNow = () => performance.timeOrigin + performance.now();
const quantile = (xs, q) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
const encoder = new TextEncoder();

const aws = await startLocalAws({ kinesis: 'kinesis-mock' });
const kinesis = aws.kinesisClient();

/** Puts `records` records one at a time after a warm-up record has been seen; `seen` maps n -> latency. */
async function produce(streamName, seen) {
  const put = (n) =>
    kinesis.send(new PutRecordCommand({ StreamName: streamName, PartitionKey: `k${n}`, Data: encoder.encode(JSON.stringify({ n, t: wallNow() })) }));
  const waitFor = async (done) => {
    for (let i = 0; i < 600 && !done(); i++) await sleep(50);
  };
  await put(-1);
  await waitFor(() => seen.has(-1));
  for (let n = 0; n < records; n++) {
    await put(n);
    await sleep(gapMs * (0.5 + Math.random()));
  }
  await waitFor(() => [...Array(records).keys()].every((n) => seen.has(n)));
  const latencies = [...Array(records).keys()].map((n) => seen.get(n)).filter((x) => x !== undefined);
  return { count: latencies.length, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}

const arrived = (seen, data) => {
  const { n, t } = JSON.parse(new TextDecoder().decode(data));
  if (!seen.has(n)) seen.set(n, wallNow() - t);
};

async function measure(mode) {
  const streamName = `bench-latency-${mode}`;
  await createStream(kinesis, streamName, 1);
  const channelName = `latency-${mode}-${process.pid}`;
  const channel = new BroadcastChannel(channelName);
  const seen = new Map();
  channel.onmessage = (event) => {
    for (const r of event.data) if (!seen.has(r.n)) seen.set(r.n, r.latencyMs);
  };
  const consumer = new URL('./latency-consumer.mjs', import.meta.url);
  consumer.searchParams.set('channel', channelName);
  const system = await createSystem({
    streamName,
    appName: `${streamName}-app`,
    consumer,
    ...aws.clientOptions,
    processors: { concurrency: 1 },
    shardHosts: { threads: 1 },
    ...(mode === 'fanout' ? { retrieval: { mode: 'fanout', consumerName: 'bench-latency', ...aws.fanout } } : {}),
  });
  try {
    return { name: `createSystem, ${mode}`, ...(await produce(streamName, seen)) };
  } finally {
    await system.stop();
    channel.close();
  }
}

async function bareSubscribe() {
  const streamName = 'bench-latency-bare-subscribe';
  await createStream(kinesis, streamName, 1);
  const { StreamDescriptionSummary } = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
  const { Consumer } = await kinesis.send(new RegisterStreamConsumerCommand({ StreamARN: StreamDescriptionSummary.StreamARN, ConsumerName: 'bare' }));
  while ((await kinesis.send(new DescribeStreamConsumerCommand({ ConsumerARN: Consumer.ConsumerARN }))).ConsumerDescription.ConsumerStatus !== 'ACTIVE') await sleep(100);
  const client = createSubscriptionClient({ region: aws.clientOptions.region, ...aws.clientOptions.kinesis }, aws.fanout);
  const abort = new AbortController();
  const seen = new Map();
  const out = await client.send(
    new SubscribeToShardCommand({ ConsumerARN: Consumer.ConsumerARN, ShardId: 'shardId-000000000000', StartingPosition: { Type: 'TRIM_HORIZON' } }),
    { abortSignal: abort.signal },
  );
  const reading = (async () => {
    for await (const event of out.EventStream) for (const r of event.SubscribeToShardEvent?.Records ?? []) arrived(seen, r.Data);
  })().catch(() => undefined);
  try {
    return { name: 'bare SubscribeToShard loop', ...(await produce(streamName, seen)) };
  } finally {
    abort.abort();
    await reading;
    client.destroy();
  }
}

async function bareGetRecords() {
  const streamName = 'bench-latency-bare-getrecords';
  await createStream(kinesis, streamName, 1);
  const seen = new Map();
  let reading = true;
  const loop = (async () => {
    let { ShardIterator: iterator } = await kinesis.send(
      new GetShardIteratorCommand({ StreamName: streamName, ShardId: 'shardId-000000000000', ShardIteratorType: 'TRIM_HORIZON' }),
    );
    while (reading) {
      const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator }));
      for (const r of out.Records ?? []) arrived(seen, r.Data);
      iterator = out.NextShardIterator;
      await sleep(200);
    }
  })();
  try {
    return { name: 'bare GetRecords loop, 5 calls/s', ...(await produce(streamName, seen)) };
  } finally {
    reading = false;
    await loop;
  }
}

try {
  const rows = [await bareGetRecords(), await measure('polling'), await bareSubscribe(), await measure('fanout')];
  const [bareGet, polling, bareSub, fanout] = rows;
  console.log(`end-to-end latency, PutRecord -> handleBatch, ${records} records one at a time (${gapMs} ms apart on average), kinesis-mock + dynalite on this machine`);
  for (const r of rows) {
    console.log(`  ${r.name.padEnd(32)} p50 ${r.p50.toFixed(0).padStart(5)} ms   p99 ${r.p99.toFixed(0).padStart(5)} ms   (${r.count}/${records} records)`);
  }
  const ratio = (a, b) => `p50 ${(a.p50 / b.p50).toFixed(2)}, p99 ${(a.p99 / b.p99).toFixed(2)}`;
  console.log(`  fan-out / polling:                   ${ratio(fanout, polling)}`);
  console.log(`  fan-out / bare SubscribeToShard:     ${ratio(fanout, bareSub)}`);
  console.log(`  polling / bare GetRecords loop:      ${ratio(polling, bareGet)}`);
} finally {
  kinesis.destroy();
  await aws.stop();
}
