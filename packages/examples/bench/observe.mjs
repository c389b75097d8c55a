/**
 * Observability benchmark (issue 13), in one process run against one kinesalite and one dynalite:
 * - drain: cold drains of a preloaded 4-shard stream, plain against observed: a global OpenTelemetry
 *   MeterProvider with an in-memory reader collecting every second (whatever the library records
 *   through @opentelemetry/api), plus the `http` endpoint with a server-sent-events client reading
 *   `/events` (what an open dashboard page does). Alternating, `--rounds` each; ratio = plain time /
 *   observed time (goal >= 0.97);
 * - latency: a worker serving the dashboard and a second worker joining and stopping, `--moves`
 *   times: from each lease event on the serving worker (`system.events`) to the SSE client receiving
 *   its `lease` frame, and to the first `state` frame that shows the move (read from the store).
 * Prints; asserts nothing.
 *
 *   pnpm bench:observe [--records 40000] [--rounds 3] [--moves 3]
 */
import { parseArgs } from 'node:util';
import { metrics } from '@opentelemetry/api';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { createStream, listenEvents, startLocalAws } from '@kinesis-client/examples/testing';
import { benchSystem, systemDrain } from './bench-system.mjs';
import { median } from './drain-parts.mjs';
import { preload, settle, sleep } from './measure.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values } = parseArgs({ options: { records: { type: 'string', default: '40000' }, rounds: { type: 'string', default: '3' }, moves: { type: 'string', default: '3' } } });
const total = Number(values.records);
const SHARDS = 4;
const fmt = (n, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Runs `fn` with a global MeterProvider whose in-memory reader collects every second; the data points it collected. */
async function withMeterProvider(fn) {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 1_000 });
  const provider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(provider);
  try {
    const result = await fn();
    await reader.forceFlush();
    const points = exporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.descriptor.name)));
    return { ...result, metricNames: new Set(points) };
  } finally {
    metrics.disable();
    await provider.shutdown();
  }
}

console.log(`observability benchmark: ${SHARDS}-shard stream of ${fmt(total)} ~200-byte records, kinesalite + dynalite in child processes on loopback`);
const aws = await startLocalAws();
const kinesis = aws.kinesisClient();
let apps = 0;
const app = () => `bench-observe-${++apps}`;

const last = await preload(kinesis, 'bench-observe', SHARDS, total, (n) => n % 25_000 === 0 && console.log(`  preloading: ${fmt(n)} / ${fmt(total)}`));
const warm = await preload(kinesis, 'bench-observe-warm', SHARDS, 4_000);
await systemDrain(aws, 'bench-observe-warm', app(), warm, { http: { port: 0 } });
console.log('  warmed up');

const plain = [];
const observed = [];
let sseFrames = 0;
let metricNames = new Set();
for (let round = 1; round <= Number(values.rounds); round++) {
  await settle();
  plain.push(await systemDrain(aws, 'bench-observe', app(), last, {}));
  await settle();
  let client;
  const run = await withMeterProvider(async () => {
    const drain = await systemDrain(aws, 'bench-observe', app(), last, { http: { port: 0 } }, (system) => (client = listenEvents(`${system.http.url}events`)));
    await client.close();
    return drain;
  });
  sseFrames += client.frames.length;
  metricNames = new Set([...metricNames, ...run.metricNames]);
  observed.push(run);
  console.log(`  round ${round}: plain ${fmt(plain.at(-1).ms / 1000, 2)} s, observed ${fmt(run.ms / 1000, 2)} s (${client.frames.length} SSE frames)`);
}

// latency: worker A serves the dashboard; B joins (A hands leases over) and stops (A takes them back)
await createStream(kinesis, 'bench-observe-moves', SHARDS);
const lease = { lease: { failoverMs: 3_000 }, shardHosts: { threads: 1 } };
const movesApp = app();
const a = await benchSystem(aws, 'bench-observe-moves', { appName: movesApp, workerId: 'worker-a', http: { port: 0 }, ...lease });
const client = listenEvents(`${a.http.url}events`);
const moves = [];
for (const type of ['lease:acquired', 'lease:released']) a.events.on(type, (e) => moves.push({ at: performance.now(), type, shardId: e.shardId }));
for (let i = 0; i < Number(values.moves); i++) {
  const b = await benchSystem(aws, 'bench-observe-moves', { appName: movesApp, workerId: 'worker-b', ...lease });
  while (moves.filter((m) => m.type === 'lease:released').length < (i + 1) * (SHARDS / 2)) await sleep(100);
  await b.stop();
  while (moves.filter((m) => m.type === 'lease:acquired').length < SHARDS + (i + 1) * (SHARDS / 2)) await sleep(100);
  console.log(`  move cycle ${i + 1}: worker-b took ${SHARDS / 2} leases and gave them back`);
}
await sleep(500);
const closedAt = performance.now();
await client.close();
await a.stop();
// from the client's first frame until it closed (a.stop()'s releases come after)
const measured = moves.filter((m) => m.at > client.frames[0].at && m.at < closedAt);
const toLease = [];
const toState = [];
for (const move of measured) {
  const pushed = client.frames.find((f) => f.event === 'lease' && f.at >= move.at && f.data.shardId === move.shardId && f.data.type === move.type);
  if (pushed) toLease.push(pushed.at - move.at);
  const shows = (owner) => (move.type === 'lease:acquired' ? owner === 'worker-a' : owner !== 'worker-a');
  const state = client.frames.find((f) => f.event === 'state' && f.at >= move.at && shows(f.data.shards.find((s) => s.shardId === move.shardId)?.owner));
  if (state) toState.push(state.at - move.at);
}
const pct = (xs, p) => [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

const p = median(plain.map((r) => r.ms));
const o = median(observed.map((r) => r.ms));
console.log('');
console.log(`| cold drain, ${fmt(total)} records, medians of ${plain.length} | time | CPU |`);
console.log('| --- | --- | --- |');
console.log(`| plain | ${fmt(p / 1000, 2)} s | ${fmt(median(plain.map((r) => r.cpuMs)))} ms |`);
console.log(`| metrics (in-memory reader, 1 s) + dashboard SSE client | ${fmt(o / 1000, 2)} s | ${fmt(median(observed.map((r) => r.cpuMs)))} ms |`);
console.log(`| ratio plain / observed (goal >= 0.97) | ${fmt(p / o, 3)} | ${fmt(median(plain.map((r) => r.cpuMs)) / median(observed.map((r) => r.cpuMs)), 3)} |`);
// each observed drain against the plain one just before it: less swayed by a machine whose load drifts
const pairs = plain.map((r, i) => [r, observed[i]]);
console.log(`| median of the rounds' own ratios | ${fmt(median(pairs.map(([x, y]) => x.ms / y.ms)), 3)} | ${fmt(median(pairs.map(([x, y]) => x.cpuMs / y.cpuMs)), 3)} |`);
console.log(`metrics collected: ${metricNames.size ? [...metricNames].sort().join(', ') : 'none (the library records nothing through @opentelemetry/api yet)'}; SSE frames read: ${sseFrames}`);
console.log('');
console.log(`| dashboard update latency, ${measured.length} lease events | p50 | p99 | max |`);
console.log('| --- | --- | --- | --- |');
console.log(`| lease event -> SSE \`lease\` frame (${toLease.length}) | ${fmt(pct(toLease, 0.5), 1)} ms | ${fmt(pct(toLease, 0.99), 1)} ms | ${fmt(Math.max(...toLease), 1)} ms |`);
console.log(`| lease event -> SSE \`state\` showing it, from the store (${toState.length}) | ${fmt(pct(toState, 0.5), 1)} ms | ${fmt(pct(toState, 0.99), 1)} ms | ${fmt(Math.max(...toState), 1)} ms |`);

kinesis.destroy();
await aws.stop();
