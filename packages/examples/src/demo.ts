/**
 * The demo: local Kinesis and DynamoDB, a 4-shard stream with a producer writing orders, and
 * createSystem consuming them. A progress line every second; a summary on exit.
 *
 *   node dist/demo.js [--duration SECONDS] [--shards N] [--rate RECORDS_PER_SECOND] [--reshard]
 *                     [--workers N [--kill-after SECONDS]] [--store dynamodb|postgres|redis|memory]
 *                     [--port N]
 *
 * --duration 0 (the default) runs until Ctrl-C. --reshard splits a shard after a few seconds,
 * merges its two children a few seconds later, splits the merged shard, and so on while the
 * producer keeps writing; the progress line then shows the shard graph as it changes.
 * --workers N runs N worker processes of the application instead of one (see demo-workers.ts),
 * over 12 shards unless --shards says otherwise, and prints which worker holds which shard.
 * --store keeps the leases in DynamoDB (the default: local dynalite), a private PostgreSQL or Redis
 * server the demo starts (see demo-store.ts), or this process's memory (one worker only).
 * The live dashboard (the `http` option) is served on loopback at --port (default 0: a free port)
 * and its URL printed; with --workers, the first worker serves it and it shows them all.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { listAllShards } from '@kinesis-client/core/internal';
import { fmt, OrderProducer, stopOn } from './demo-common.js';
import { runWorkersDemo } from './demo-workers.js';
import { createStream, formatShardGraph, mergeShards, shortShardId, splitShard, startLocalAws, startSystem } from './testing/index.js';
import { DEMO_STORES, startDemoStore, type DemoStoreKind } from './demo-store.js';

// the SDK's notice that it will drop Node 20 next year is noise in a demo
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '0' },
    shards: { type: 'string' },
    rate: { type: 'string', default: '2000' },
    reshard: { type: 'boolean', default: false },
    workers: { type: 'string', default: '1' },
    'kill-after': { type: 'string', default: '0' },
    store: { type: 'string', default: 'dynamodb' },
    port: { type: 'string', default: '0' },
  },
});
const storeKind = values.store as DemoStoreKind;
if (!DEMO_STORES.includes(storeKind)) {
  console.error(`--store must be one of ${DEMO_STORES.join(', ')}`);
  process.exit(2);
}
const durationS = Number(values.duration);
const workers = Number(values.workers);
const shardCount = Number(values.shards ?? (workers > 1 ? 12 : 4));
const rate = Number(values.rate);
const killAfterS = Number(values['kill-after']);
const port = Number(values.port);
for (const [name, v] of [['duration', durationS], ['shards', shardCount], ['rate', rate], ['workers', workers], ['kill-after', killAfterS], ['port', port]] as const) {
  if (!Number.isFinite(v) || v < 0) {
    console.error(`--${name} must be a non-negative number`);
    process.exit(2);
  }
}
if (workers > 1 && storeKind === 'memory') {
  console.error('--store memory holds leases in one process: --workers needs dynamodb, postgres or redis');
  process.exit(2);
}
if (workers > 1 && values.reshard) {
  console.error('--reshard runs with one worker; drop --workers');
  process.exit(2);
}

if (workers > 1) {
  await runWorkersDemo({ workers, shardCount, rate, durationS, killAfterS, store: storeKind, port });
} else {
  const streamName = 'demo-orders';

  console.log('starting local Kinesis (kinesalite) and DynamoDB (dynalite) on loopback...');
  const aws = await startLocalAws();
  const { kinesis } = aws;
  const store = await startDemoStore(storeKind, 'demo-billing', aws);
  await createStream(kinesis, streamName, shardCount);
  console.log(`stream ${streamName}: ${shardCount} shards; producing ${fmt(rate)} records/s; leases in ${store.describe}`);

  const producer = new OrderProducer(kinesis, streamName, rate);

  const { system } = await startSystem({
    aws,
    stream: streamName,
    app: 'demo-billing',
    consumer: new URL('./consumer.js', import.meta.url),
    options: { lease: { failoverMs: 10_000 }, http: { port }, ...(store.option ? { store: store.option } : {}) },
  });
  console.log(`dashboard: ${system.http!.url}`);

  let handled = 0;
  let handledThisSecond = 0;
  let checkpoints = 0;
  let errors = 0;
  const leases = new Set<string>();
  const ended = new Set<string>();
  const behind = new Map<string, number | undefined>();
  system.events.on('lease:acquired', (e) => leases.add(e.shardId));
  system.events.on('lease:lost', (e) => leases.delete(e.shardId));
  system.events.on('lease:released', (e) => leases.delete(e.shardId));
  system.events.on('batch:handled', (e) => {
    handled += e.count;
    handledThisSecond += e.count;
    behind.set(e.shardId, e.millisBehindLatest);
  });
  system.events.on('checkpoint', () => checkpoints++);
  system.events.on('shard:ended', (e) => {
    // its lease stays in the table at SHARD_END but is no longer held, and it has no lag
    ended.add(e.shardId);
    leases.delete(e.shardId);
    behind.delete(e.shardId);
  });
  system.events.on('error', (e) => {
    errors++;
    console.error(`error${e.shardId ? ` on ${e.shardId}` : ''}: ${e.error.message}`);
  });

  // --reshard: split, then merge the two children, then split the merged shard, ... until stopped
  const resharding = new AbortController();
  let reshards = 0;
  const reshardLoop = (async () => {
    if (!values.reshard) return;
    const step = 4_000;
    let target = 'shardId-000000000000';
    try {
      await sleep(3_000, undefined, { signal: resharding.signal });
      for (;;) {
        const children = await splitShard(kinesis, streamName, target);
        reshards++;
        console.log(`reshard: split ${shortShardId(target)} into ${children.map((c) => shortShardId(c.ShardId!)).join(' + ')}`);
        await sleep(step, undefined, { signal: resharding.signal });
        const merged = await mergeShards(kinesis, streamName, children[0]!.ShardId!, children[1]!.ShardId!);
        reshards++;
        console.log(`reshard: merged ${children.map((c) => shortShardId(c.ShardId!)).join(' + ')} into ${shortShardId(merged.ShardId!)}`);
        target = merged.ShardId!;
        await sleep(step, undefined, { signal: resharding.signal });
      }
    } catch (error) {
      if (!resharding.signal.aborted) console.error(`reshard failed: ${(error as Error).message}`);
    }
  })();
  let graph = '';
  const refreshGraph = async () => {
    graph = formatShardGraph(await listAllShards(kinesis, streamName), ended);
  };

  const startedAt = Date.now();
  const progress = setInterval(async () => {
    if (values.reshard) await refreshGraph().catch(() => undefined);
    if (stopping) return;
    const elapsed = Math.round((Date.now() - startedAt) / 1000);
    const lag = [...behind.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([shard, ms]) => `${shortShardId(shard)}=${ms ?? '?'}ms`)
      .join(' ');
    console.log(`[${String(elapsed).padStart(4)}s] ${fmt(handledThisSecond).padStart(7)} rec/s | handled ${fmt(handled)} of ${fmt(producer.produced)} | leases ${leases.size} | behind ${lag}${graph ? ` | ${graph}` : ''}`);
    handledThisSecond = 0;
  }, 1_000);

  let stopping: Promise<void> | undefined;
  const stop = (why: string) => {
    stopping ??= (async () => {
      console.log(`\n${why}: stopping (draining in-flight batches, checkpointing, releasing leases)...`);
      clearInterval(progress);
      resharding.abort();
      await reshardLoop;
      await producer.stop();
      await system.stop();
      const seconds = (Date.now() - startedAt) / 1000;
      console.log(
        [
          'summary:',
          `  produced    ${fmt(producer.produced)} records`,
          `  handled     ${fmt(handled)} records in ${seconds.toFixed(1)} s (${fmt(Math.round(handled / seconds))} records/s)`,
          `  checkpoints ${fmt(checkpoints)}`,
          `  errors      ${errors}`,
          ...(values.reshard ? [`  reshards    ${reshards} (shards ended: ${[...ended].map(shortShardId).join(', ') || 'none'})`] : []),
          `  leases held after stop: ${leases.size}`,
        ].join('\n'),
      );
      await store.stop();
      await aws.stop();
    })();
    return stopping;
  };

  stopOn(stop, durationS);
}
