/**
 * Drain benchmark (issue 2): 100 000 records of about 200 bytes preloaded into a 4-shard stream,
 * drained by createSystem with a no-op consumer, from the createSystem call until every record is
 * checkpointed; and in the same run a bare GetRecords loop (no leases, no checkpoints) over an
 * identical stream, before and after. Prints both rates and their ratio; asserts nothing.
 *
 *   pnpm bench  (node packages/examples/bench/drain.mjs) [--records N] [--shards N]
 */
import { parseArgs } from 'node:util';
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { createSystem } from '@kinesis-client/core';
import { createStream, putRecords, startLocalAws } from '../dist/local-aws.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values } = parseArgs({ options: { records: { type: 'string', default: '100000' }, shards: { type: 'string', default: '4' } } });
const total = Number(values.records);
const shards = Number(values.shards);
const fmt = (n) => Math.round(n).toLocaleString('en-US');

const aws = await startLocalAws();
const kinesis = aws.kinesisClient();

async function preload(streamName) {
  await createStream(kinesis, streamName, shards);
  const payload = 'x'.repeat(180);
  const last = new Map();
  const chunk = 5_000;
  for (let start = 0; start < total; start += chunk) {
    const entries = Array.from({ length: Math.min(chunk, total - start) }, (_, j) => ({
      PartitionKey: `key-${start + j}`,
      Data: new TextEncoder().encode(`{"i":${start + j},"p":"${payload}"}`),
    }));
    for (const r of await putRecords(kinesis, streamName, entries)) {
      if (!last.has(r.shardId) || BigInt(r.sequenceNumber) > BigInt(last.get(r.shardId))) last.set(r.shardId, r.sequenceNumber);
    }
    process.stdout.write(`\r  preloading ${streamName}: ${fmt(Math.min(total, start + chunk))} / ${fmt(total)}`);
  }
  process.stdout.write('\n');
  return last;
}

async function bareLoop(streamName) {
  const started = performance.now();
  const { Shards } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  let count = 0;
  await Promise.all(
    Shards.map(async (shard) => {
      let { ShardIterator: iterator } = await kinesis.send(
        new GetShardIteratorCommand({ StreamName: streamName, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
      );
      for (;;) {
        const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
        count += out.Records.length;
        iterator = out.NextShardIterator;
        if (out.Records.length === 0) break;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  if (count !== total) throw new Error(`bare loop read ${count} records, expected ${total}`);
  return total / seconds;
}

async function systemDrain(streamName, last) {
  const started = performance.now();
  const system = await createSystem({
    streamName,
    appName: `${streamName}-app`,
    consumer: new URL('./noop-consumer.mjs', import.meta.url),
    ...aws.clientOptions,
  });
  const done = new Promise((resolve) => {
    const remaining = new Set(last.keys());
    system.events.on('checkpoint', (e) => {
      if (last.get(e.shardId) === e.sequenceNumber) remaining.delete(e.shardId);
      if (remaining.size === 0) resolve();
    });
  });
  let handled = 0;
  system.events.on('batch:handled', (e) => (handled += e.count));
  const progress = setInterval(() => process.stdout.write(`\r  createSystem: ${fmt(handled)} / ${fmt(total)} handled`), 250);
  await done;
  const seconds = (performance.now() - started) / 1000;
  clearInterval(progress);
  process.stdout.write(`\r  createSystem: ${fmt(handled)} / ${fmt(total)} handled\n`);
  await system.stop();
  return total / seconds;
}

console.log(`drain benchmark: ${fmt(total)} records of ~200 bytes, ${shards} shards, kinesalite + dynalite on loopback`);
const bareLast = await preload('bench-bare');
const systemLast = await preload('bench-system');
if (bareLast.size !== shards || systemLast.size !== shards) throw new Error('records did not reach every shard');

const bare1 = await bareLoop('bench-bare');
console.log(`  bare GetRecords loop, run 1: ${fmt(bare1)} records/s`);
const sys = await systemDrain('bench-system', systemLast);
const bare2 = await bareLoop('bench-bare');
console.log(`  bare GetRecords loop, run 2: ${fmt(bare2)} records/s`);
const baseline = (bare1 + bare2) / 2;
console.log('');
console.log(`bare GetRecords loop (mean of 2): ${fmt(baseline)} records/s`);
console.log(`createSystem, no-op consumer:     ${fmt(sys)} records/s (createSystem call to last checkpoint)`);
console.log(`ratio createSystem / bare:        ${(sys / baseline).toFixed(2)} (target >= 0.80)`);

kinesis.destroy();
await aws.stop();
