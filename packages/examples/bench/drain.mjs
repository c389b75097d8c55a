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
import { benchSystem } from './bench-system.mjs';
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
    if ((start / chunk) % 5 === 4 || start + chunk >= total) console.log(`  preloading ${streamName}: ${fmt(Math.min(total, start + chunk))} / ${fmt(total)}`);
  }
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

async function systemDrain(streamName, last, extra) {
  const started = performance.now();
  const system = await benchSystem(aws, streamName, extra);
  const done = new Promise((resolve) => {
    const remaining = new Set(last.keys());
    system.events.on('checkpoint', (e) => {
      if (last.get(e.shardId) === e.sequenceNumber) remaining.delete(e.shardId);
      if (remaining.size === 0) resolve();
    });
  });
  let handled = 0;
  system.events.on('batch:handled', (e) => (handled += e.count));
  const progress = setInterval(() => console.log(`  createSystem: ${fmt(handled)} / ${fmt(total)} handled`), 1_000);
  await done;
  const seconds = (performance.now() - started) / 1000;
  clearInterval(progress);
  console.log(`  createSystem: ${fmt(handled)} / ${fmt(total)} handled`);
  await system.stop();
  return total / seconds;
}

console.log(`drain benchmark: ${fmt(total)} records of ~200 bytes, ${shards} shards, kinesalite + dynalite on loopback`);
// the default places one shard-host thread per core; on this 2-core machine the emulator needs a
// core of its own, so the run with one shard-host thread is printed beside it
const configs = [
  ['defaults (shard-host threads = cores)', {}],
  ['shardHosts.threads = 1', { shardHosts: { threads: 1 } }],
];
const bareLast = await preload('bench-bare');
const systemLasts = [];
for (let i = 0; i < configs.length; i++) systemLasts.push(await preload(`bench-system-${i}`));
if (bareLast.size !== shards || systemLasts.some((l) => l.size !== shards)) throw new Error('records did not reach every shard');

const bare = [await bareLoop('bench-bare')];
console.log(`  bare GetRecords loop, run 1: ${fmt(bare[0])} records/s`);
const rates = [];
for (let i = 0; i < configs.length; i++) {
  rates.push(await systemDrain(`bench-system-${i}`, systemLasts[i], configs[i][1]));
  bare.push(await bareLoop('bench-bare'));
  console.log(`  bare GetRecords loop, run ${bare.length}: ${fmt(bare[bare.length - 1])} records/s`);
}
const baseline = bare.reduce((a, b) => a + b, 0) / bare.length;
console.log('');
console.log(`bare GetRecords loop (mean of ${bare.length}): ${fmt(baseline)} records/s`);
configs.forEach(([name], i) => {
  console.log(`createSystem, no-op consumer, ${name}: ${fmt(rates[i])} records/s, ratio ${(rates[i] / baseline).toFixed(2)} (target >= 0.80)`);
});
console.log('(createSystem rates run from the createSystem call to the last checkpoint)');

kinesis.destroy();
await aws.stop();
