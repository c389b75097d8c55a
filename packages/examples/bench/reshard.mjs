/**
 * Reshard-pause benchmark (issue 4): a producer writes a fixed rate into a 2-shard stream while
 * the benchmark splits shard 0, merges the two children, splits the merged shard, and so on
 * (`--cycles` splits and as many merges). For each split or merge, the pause is the time from
 * the parent's last record handled (the last of both parents' for a merge) to the first record
 * of any of its children handled, as `batch:handled` events on the main thread see it. Prints
 * every pause and their median, split into "last record -> SHARD_END written" and
 * "SHARD_END -> child's first record"; asserts nothing.
 *
 *   pnpm bench:reshard  (node packages/examples/bench/reshard.mjs) [--cycles N] [--rate RECORDS_PER_SECOND]
 *
 * Everything that shapes the numbers is fixed and printed: rate, keys, cycles, options. The pause
 * is mostly the reader's idle wait (polling.idleMs) before it sees the closed shard, so the run
 * is repeated with a shorter idleMs.
 */
import { parseArgs } from 'node:util';
import { CountingProducer, createStream, mergeShards, shortShardId, splitShard, startLocalAws } from '@kinesis-client/examples/testing';
import { benchSystem } from './bench-system.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values } = parseArgs({ options: { cycles: { type: 'string', default: '3' }, rate: { type: 'string', default: '1000' } } });
const cycles = Number(values.cycles);
const rate = Number(values.rate);
const tickMs = 20;
const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
const keys = 64;

const aws = await startLocalAws();
const kinesis = aws.kinesisClient();

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x) => `${Math.round(x)} ms`;

async function run(name, extra, index) {
  const streamName = `bench-reshard-${index}`;
  await createStream(kinesis, streamName, 2);
  const producer = new CountingProducer(kinesis, streamName, { keys, perTick, tickMs });
  producer.start();
  const system = await benchSystem(aws, streamName, extra);
  const first = new Map();
  const last = new Map();
  const ended = new Map();
  system.events.on('batch:handled', (e) => {
    const now = performance.now();
    if (!first.has(e.shardId)) first.set(e.shardId, now);
    last.set(e.shardId, now);
  });
  system.events.on('shard:ended', (e) => ended.set(e.shardId, performance.now()));
  const handled = async (ids) => {
    while (!ids.every((id) => first.has(id))) await new Promise((r) => setTimeout(r, 20));
  };

  const events = [];
  let target = 'shardId-000000000000';
  await handled([target, 'shardId-000000000001']);
  for (let c = 0; c < cycles; c++) {
    const children = (await splitShard(kinesis, streamName, target)).map((s) => s.ShardId);
    events.push({ kind: 'split', parents: [target], children });
    await handled(children);
    const merged = (await mergeShards(kinesis, streamName, children[0], children[1])).ShardId;
    events.push({ kind: 'merge', parents: children, children: [merged] });
    await handled([merged]);
    target = merged;
  }
  await producer.stop();
  await system.stop();

  console.log(`\n${name}`);
  const pauses = [];
  const toEnd = [];
  const fromEnd = [];
  for (const e of events) {
    const parentsDone = Math.max(...e.parents.map((p) => last.get(p)));
    const parentsEnded = Math.max(...e.parents.map((p) => ended.get(p)));
    const childStart = Math.min(...e.children.map((c) => first.get(c)));
    pauses.push(childStart - parentsDone);
    toEnd.push(parentsEnded - parentsDone);
    fromEnd.push(childStart - parentsEnded);
    console.log(
      `  ${e.kind.padEnd(5)} ${e.parents.map(shortShardId).join('+').padEnd(7)} -> ${e.children.map(shortShardId).join('+').padEnd(7)}` +
        ` pause ${ms(childStart - parentsDone).padStart(8)}  (to SHARD_END ${ms(parentsEnded - parentsDone)}, then ${ms(childStart - parentsEnded)})`,
    );
  }
  console.log(
    `  median reshard pause over ${events.length} splits and merges: ${ms(median(pauses))}` +
      ` (last record -> SHARD_END ${ms(median(toEnd))}, SHARD_END -> child's first record ${ms(median(fromEnd))})`,
  );
  return median(pauses);
}

console.log(
  `reshard-pause benchmark: ${rate} records/s over ${keys} keys into 2 shards, ${cycles} splits and ${cycles} merges per run,` +
    ' no-op consumer, kinesalite + dynalite on loopback',
);
const configs = [
  ['defaults (polling.idleMs 1000)', {}],
  ['retrieval.idleMs 200', { retrieval: { idleMs: 200 } }],
];
const results = [];
for (let i = 0; i < configs.length; i++) results.push(await run(configs[i][0], configs[i][1], i));
console.log('');
configs.forEach(([name], i) => console.log(`median reshard pause, ${name}: ${ms(results[i])}`));

kinesis.destroy();
await aws.stop();
