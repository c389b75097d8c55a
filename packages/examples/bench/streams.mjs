/**
 * Several streams in one system (issue 14). Against one set of local services (kinesalite +
 * dynalite in child processes), in one run, on the same preloaded records: cold drains of two
 * 4-shard streams by ONE system with `streams` (multi-stream mode), against TWO single-stream
 * systems started together, one per stream, each with the default options. A drain runs from the
 * createSystem call(s) to the last checkpoint of every shard of both streams; each round runs
 * both, alternating which goes first, on fresh lease tables. Prints the medians and the ratio
 * (two systems' time / one system's time: 1 means as fast; the goal is >= 0.95). Asserts nothing.
 *
 *   pnpm bench:streams [--records 40000] [--rounds 3]   (records per stream)
 */
import { parseArgs } from 'node:util';
import { startLocalAws } from '@kinesis-client/examples/testing';
import { benchSystem } from './bench-system.mjs';
import { cpuMs, preload, settle } from './measure.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values } = parseArgs({ options: { records: { type: 'string', default: '40000' }, rounds: { type: 'string', default: '3' } } });
const RECORDS = Number(values.records);
const ROUNDS = Number(values.rounds);
const SHARDS = 4;
const STREAMS = ['bench-streams-a', 'bench-streams-b'];
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(`streams benchmark: ${STREAMS.length} streams x ${SHARDS} shards x ${fmt(RECORDS)} records of ~200 bytes, kinesalite + dynalite in child processes`);
const aws = await startLocalAws();
const kinesis = aws.kinesisClient();
/** Per stream: shard -> its last sequence number. */
const last = new Map();
for (const stream of STREAMS) last.set(stream, await preload(kinesis, stream, SHARDS, RECORDS));
let apps = 0;
const app = () => `bench-streams-app-${++apps}`;

/** Watches systems until every shard of every stream has its last record checkpointed (by whichever system runs it). */
function drainTracker() {
  const remaining = new Set([...last].flatMap(([stream, shards]) => [...shards.keys()].map((shardId) => `${stream}/${shardId}`)));
  let resolve;
  const done = new Promise((r) => (resolve = r));
  return {
    done,
    // in createSystem's continuation: its events open only after it, so none is missed
    watch(system) {
      system.events.on('checkpoint', (e) => {
        if (last.get(e.streamName)?.get(e.shardId) === e.sequenceNumber) remaining.delete(`${e.streamName}/${e.shardId}`);
        if (remaining.size === 0) resolve();
      });
      return system;
    },
  };
}

/** `start` makes the system(s), each passed to `watch`; measured from the call to the last checkpoint. */
async function drain(start) {
  const cpu0 = cpuMs();
  const started = performance.now();
  const tracker = drainTracker();
  const systems = await start(tracker.watch);
  await tracker.done;
  const result = { ms: performance.now() - started, cpuMs: cpuMs() - cpu0 };
  await Promise.all(systems.map((s) => s.stop()));
  return result;
}

/** One system, both streams. */
const oneSystem = () => drain(async (watch) => [watch(await benchSystem(aws, STREAMS[0], { appName: app(), streams: STREAMS.map((streamName) => ({ streamName })) }))]);
/** Two single-stream systems, one per stream, started together. */
const twoSystems = () => drain((watch) => Promise.all(STREAMS.map(async (stream) => watch(await benchSystem(aws, stream, { appName: app() })))));

// warm-up, unmeasured: the code paths of both shapes and the emulators
await oneSystem();
await settle();
await twoSystems();
await settle();
console.log('  warmed up');

const runs = { one: [], two: [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const shape of round % 2 === 0 ? ['one', 'two'] : ['two', 'one']) {
    runs[shape].push(shape === 'one' ? await oneSystem() : await twoSystems());
    await settle();
  }
  console.log(`  round ${round + 1}/${ROUNDS}: one system ${fmt(runs.one.at(-1).ms)} ms, two systems ${fmt(runs.two.at(-1).ms)} ms`);
}

const total = RECORDS * STREAMS.length;
const row = (name, rs) => {
  const ms = median(rs.map((r) => r.ms));
  const cpu = median(rs.map((r) => r.cpuMs));
  return `| ${name} | ${fmt(ms)} | ${fmt((total / ms) * 1_000)} | ${((cpu * 1_000) / total).toFixed(1)} |`;
};
const ratio = median(runs.two.map((r) => r.ms)) / median(runs.one.map((r) => r.ms));
console.log('');
console.log(`| ${STREAMS.length} x ${SHARDS} shards, ${fmt(total)} records (medians of ${ROUNDS}) | cold drain ms | records/s | CPU µs/record |`);
console.log('| --- | --- | --- | --- |');
console.log(row('one system, `streams` (multi-stream)', runs.one));
console.log(row('two single-stream systems together', runs.two));
console.log('');
console.log(`ratio (two systems' ms / one system's ms): ${ratio.toFixed(2)} (goal >= 0.95)`);

kinesis.destroy();
await aws.stop();
