/**
 * Lease-store benchmark (issue 12). Per store (DynamoDB on dynalite, PostgreSQL, Redis, memory as
 * a shard-host thread reaches it), in one run against the same local services:
 * - conditional writes per second: renewals, then checkpoints, from 1 and from 16 concurrent
 *   shards (each shard writes one after the other, as its lease actor does), and the p50 / p99
 *   latency of a checkpoint;
 * - the drain benchmark's ratio with each store: a cold drain of a preloaded 4-shard stream by
 *   createSystem (call -> last checkpoint, checkpointIntervalMs 0 so every batch writes) against
 *   the bare GetRecords loop over the same stream, bare ms / system ms (1.0: as fast as the loop).
 * Prints tables; asserts nothing.
 *
 *   pnpm bench:stores [--seconds 2] [--records 40000] [--rounds 2] [--only writes,drain]
 */
import { parseArgs } from 'node:util';
import { openLeaseStore } from '@kinesis-client/worker/lease';
import { startLocalAws, startLocalPostgres, startLocalRedis } from '@kinesis-client/examples/testing';
import { systemDrain } from './bench-system.mjs';
import { median } from './drain-parts.mjs';
import { bareDrain, preload, settle } from './measure.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '2' },
    records: { type: 'string', default: '40000' },
    rounds: { type: 'string', default: '2' },
    only: { type: 'string', default: 'writes,drain' },
  },
});
const seconds = Number(values.seconds);
const total = Number(values.records);
const rounds = Number(values.rounds);
const only = new Set(values.only.split(','));
const fmt = (n, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

console.log('lease-store benchmark: dynalite, PostgreSQL and Redis on loopback (child processes), memory in process');
const [aws, postgres, redis] = await Promise.all([startLocalAws(), startLocalPostgres(), startLocalRedis()]);
const dynamodb = { region: aws.clientOptions.region, ...aws.clientOptions.dynamodb };

/** name -> [store config for a table, createSystem's store option, how a thread opens it] */
const stores = [
  ['dynamodb', (t) => ({ type: 'dynamodb', tableName: t }), undefined],
  ['postgres', (t) => ({ type: 'postgres', connectionString: postgres.url(), schema: 'public', table: t }), { type: 'postgres', connectionString: postgres.url() }],
  ['redis', (t) => ({ type: 'redis', url: redis.url(), prefix: `bench:${t}:` }), { type: 'redis', url: redis.url() }],
  ['memory', (t) => ({ type: 'memory', name: t }), { type: 'memory' }],
];

let tables = 0;
/** Each shard writes `write(key, counter)` one after another for `seconds`; ops/s and each write's ms. */
async function writes(store, shards, write) {
  const keys = Array.from({ length: shards }, (_, i) => `shardId-${String(i).padStart(12, '0')}`);
  const counters = new Map();
  for (const key of keys) {
    await store.create({ leaseKey: key, checkpoint: 'TRIM_HORIZON', parentShardIds: [] });
    const row = await store.get(key);
    if (!(await store.take(row, 'bench'))) throw new Error('take failed');
    counters.set(key, row.leaseCounter + 1);
  }
  const latencies = [];
  const until = performance.now() + seconds * 1_000;
  const started = performance.now();
  await Promise.all(
    keys.map(async (key) => {
      for (let n = 0; performance.now() < until; n++) {
        const t0 = performance.now();
        if (!(await write(key, counters.get(key), n))) throw new Error('a conditional write failed its condition');
        latencies.push(performance.now() - t0);
        counters.set(key, counters.get(key) + 1);
      }
    }),
  );
  const ms = performance.now() - started;
  return { perSecond: (latencies.length / ms) * 1_000, latencies: latencies.sort((a, b) => a - b) };
}

const writeRows = [];
if (only.has('writes')) {
  for (const [name, config] of stores) {
    for (const shards of [1, 16]) {
      // the memory store measured as a shard-host thread reaches it; the others as any thread does
      const opened = await openLeaseStore(config(`bench-writes-${++tables}`), { dynamodb, timeoutMs: 10_000, side: name === 'memory' ? 'thread' : 'main' });
      if (name === 'memory') await openLeaseStore(config(`bench-writes-${tables}`), { dynamodb, timeoutMs: 10_000, side: 'main' });
      await opened.store.ensure();
      const renew = await writes(opened.store, shards, (key, counter) => opened.store.renew(key, counter, 'bench'));
      const checkpoint = await writes(opened.store, shards, (key, counter, n) => opened.store.checkpoint(key, counter, 'bench', String(10n ** 20n + BigInt(n)), 0));
      writeRows.push([name, shards, renew.perSecond, checkpoint.perSecond, pct(checkpoint.latencies, 50), pct(checkpoint.latencies, 99)]);
      console.log(`  ${name}, ${shards} shard(s): ${fmt(renew.perSecond)} renewals/s, ${fmt(checkpoint.perSecond)} checkpoints/s`);
      await opened.close();
    }
  }
}

const drainRows = [];
if (only.has('drain')) {
  const last = await preload(aws.kinesisClient(), 'bench-stores-drain', 4, total);
  await bareDrain(aws, 'bench-stores-drain', total); // warm-up, unmeasured
  const byStore = new Map(stores.map(([name]) => [name, { system: [], bare: [] }]));
  for (let round = 1; round <= rounds; round++) {
    for (const [name, , option] of stores) {
      await settle();
      const bare = await bareDrain(aws, 'bench-stores-drain', total);
      await settle();
      const system = await systemDrain(aws, 'bench-stores-drain', `bench-stores-${++tables}`, last, { ...(option ? { store: option } : {}), lease: { checkpointIntervalMs: 0 } });
      byStore.get(name).system.push(system.ms);
      byStore.get(name).bare.push(bare.ms);
      console.log(`  round ${round}, ${name}: system ${(system.ms / 1000).toFixed(2)} s, bare ${(bare.ms / 1000).toFixed(2)} s`);
    }
  }
  for (const [name, { system, bare }] of byStore) drainRows.push([name, median(bare), median(system), median(bare) / median(system)]);
}

console.log('');
if (writeRows.length) {
  console.log('conditional writes (each shard one after another, as its lease actor writes)');
  console.log('store     shards  renewals/s  checkpoints/s  checkpoint p50 ms  p99 ms');
  for (const [name, shards, renew, checkpoint, p50, p99] of writeRows) {
    console.log(`${name.padEnd(9)} ${String(shards).padStart(6)}  ${fmt(renew).padStart(10)}  ${fmt(checkpoint).padStart(13)}  ${fmt(p50, 2).padStart(17)}  ${fmt(p99, 2).padStart(6)}`);
  }
}
if (drainRows.length) {
  console.log(`\ncold drain of ${fmt(total)} records, 4 shards, a checkpoint after every batch (medians of ${rounds}): rate ratio = bare ms / system ms`);
  console.log('store     bare s  system s  rate ratio');
  for (const [name, bare, system, ratio] of drainRows) {
    console.log(`${name.padEnd(9)} ${(bare / 1000).toFixed(2).padStart(6)}  ${(system / 1000).toFixed(2).padStart(8)}  ${ratio.toFixed(2).padStart(10)}`);
  }
}

await Promise.all([aws.stop(), postgres.stop(), redis.stop()]);
