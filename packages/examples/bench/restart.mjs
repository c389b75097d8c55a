/**
 * Restart-latency benchmark (issue 3). A producer keeps every shard of an 8-shard stream busy
 * while the benchmark crashes shard actors with `system.faults.crashActor`, one shard after
 * another, and times each crash from the call to the first batch handled by the restarted reader.
 * Then it kills shard-host threads with `faults.killThread` and times the same up to the first
 * batch on the replacement thread. The baseline, measured in the same process, is what any
 * restart has to do at the least: GetShardIterator plus a first GetRecords on a busy shard.
 * Prints p50/p99 and their ratio to the baseline p50; asserts nothing.
 *
 *   pnpm bench:restart  [--crashes 100] [--kills 10]
 */
import { parseArgs } from 'node:util';
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { createSystem } from '@kinesis-client/core';
import { createStream, putRecords, startLocalAws } from '@kinesis-client/examples/testing';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values } = parseArgs({ options: { crashes: { type: 'string', default: '100' }, kills: { type: 'string', default: '10' } } });
const crashes = Number(values.crashes);
const kills = Number(values.kills);
const shards = 8;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const quantile = (xs, q) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
const ms = (x) => `${x.toFixed(1)} ms`;

const aws = await startLocalAws();
const kinesis = aws.kinesisClient();
const streamName = 'bench-restart';
await createStream(kinesis, streamName, shards);

let producing = true;
const producer = (async () => {
  const encoder = new TextEncoder();
  for (let n = 0; producing; n++) {
    const entries = Array.from({ length: 40 }, (_, i) => ({ PartitionKey: `key-${n}-${i}`, Data: encoder.encode(`{"n":${n},"i":${i}}`) }));
    await putRecords(kinesis, streamName, entries);
    await sleep(20);
  }
})();

async function baselineOnce(shardId) {
  const started = performance.now();
  const { ShardIterator } = await kinesis.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ShardIteratorType: 'LATEST' }));
  for (let iterator = ShardIterator; ; ) {
    const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 100 }));
    if (out.Records.length > 0) return performance.now() - started;
    iterator = out.NextShardIterator;
    await sleep(5);
  }
}

const system = await createSystem({
  streamName,
  appName: 'bench-restart-app',
  consumer: new URL('./noop-consumer.mjs', import.meta.url),
  ...aws.clientOptions,
  retrieval: { idleMs: 50 },
  // a benchmark crashes far more often than production should: lift the intensity limit only
  supervision: { shard: { maxRestarts: 1_000 }, shardHosts: { maxRestarts: 1_000 } },
});

/** Resolves with the ms from `t0` to the first batch handled on the shard after its reader restarted. */
function nextBatchAfterRestart(shardId, t0, restartedEvent = 'actor:restarted') {
  return new Promise((resolve) => {
    let restarted = false;
    const onRestart = (e) => {
      if (restartedEvent === 'actor:restarted' ? e.shardId === shardId && e.actor === 'reader' : e.shardId === shardId) restarted = true;
    };
    const onBatch = (e) => {
      if (!restarted || e.shardId !== shardId) return;
      system.events.off(restartedEvent, onRestart);
      system.events.off('batch:handled', onBatch);
      resolve(performance.now() - t0);
    };
    system.events.on(restartedEvent, onRestart);
    system.events.on('batch:handled', onBatch);
  });
}

const shardIds = (await kinesis.send(new ListShardsCommand({ StreamName: streamName }))).Shards.map((s) => s.ShardId);
await sleep(1_000);
console.log(`restart benchmark: ${shards} shards under a steady producer, kinesalite + dynalite on loopback`);

const baseline = [];
for (let i = 0; i < 40; i++) baseline.push(await baselineOnce(shardIds[i % shards]));

const byRole = { reader: [], lease: [] };
for (let i = 0; i < crashes; i++) {
  const shardId = shardIds[i % shards];
  const role = i % 2 === 0 ? 'reader' : 'lease';
  const t0 = performance.now();
  const measured = nextBatchAfterRestart(shardId, t0);
  if (!(await system.faults.crashActor(shardId, role))) throw new Error(`${shardId} is not running here`);
  byRole[role].push(await measured);
  if ((i + 1) % 20 === 0) console.log(`  ${i + 1} / ${crashes} crashes`);
  // each shard is crashed again only after a few seconds, as isolated crashes are (crash loops back off on purpose)
  await sleep(300);
}

const killTimes = [];
for (let i = 0; i < kills; i++) {
  const view = await system.inspect();
  const target = view.shards.find((s) => s.threadId !== undefined);
  const t0 = performance.now();
  const measured = nextBatchAfterRestart(target.shardId, t0, 'shard:started');
  await system.faults.killThread(target.shardId);
  killTimes.push(await measured);
  // past the thread supervisor's backoff ceiling, so each kill is an isolated one
  await sleep(2_500);
}

producing = false;
await producer;
await system.stop();
kinesis.destroy();
await aws.stop();

const all = [...byRole.reader, ...byRole.lease];
const base = quantile(baseline, 0.5);
console.log('');
console.log(`baseline (GetShardIterator + first GetRecords with records, ${baseline.length} runs): p50 ${ms(base)}, p99 ${ms(quantile(baseline, 0.99))}`);
for (const [name, xs] of [
  ['reader crash', byRole.reader],
  ['lease actor crash (restarts lease + reader)', byRole.lease],
  ['all crashes', all],
]) {
  console.log(
    `${name}, crashActor -> first batch re-delivered (${xs.length}): p50 ${ms(quantile(xs, 0.5))}, p99 ${ms(quantile(xs, 0.99))}, ratio p50/baseline ${(quantile(xs, 0.5) / base).toFixed(2)}`,
  );
}
console.log(`  target: p99 under 250 ms -> ${quantile(all, 0.99) < 250 ? 'met' : 'NOT met'}`);
console.log(
  `thread kill, killThread -> first batch on the new thread (${killTimes.length}): p50 ${ms(quantile(killTimes, 0.5))}, p99 ${ms(quantile(killTimes, 0.99))}, ratio p50/baseline ${(quantile(killTimes, 0.5) / base).toFixed(2)}`,
);
