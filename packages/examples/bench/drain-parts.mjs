// The drain benchmark's measured parts, each against the bare loop in the same run.
import { Worker } from 'node:worker_threads';
import { ListShardsCommand } from '@aws-sdk/client-kinesis';
import { systemDrain, systemStartup } from './bench-system.mjs';
import { bareDrain, preload, settle } from './measure.mjs';

const fmt = (n) => Math.round(n).toLocaleString('en-US');
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const medians = (runs, keys) => Object.fromEntries(keys.map((k) => [k, median(runs.map((r) => r[k]))]));

/**
 * Start-up of each configuration over `streamName` (a few records per shard), median of `runs`;
 * the bare loop's (key 'bare'): CPU until every shard's first page of the same stream.
 */
export async function measureStartup(aws, streamName, shards, configs, runs, app) {
  const bare = [];
  const byConfig = new Map(configs.map(([name]) => [name, []]));
  for (let r = 0; r < runs; r++) {
    await settle();
    bare.push((await bareDrain(aws, streamName, 40)).startupCpuMs);
    for (const [name, extra] of configs) {
      await settle();
      byConfig.get(name).push(await systemStartup(aws, streamName, app(), shards, extra));
    }
  }
  const startup = new Map([['bare', median(bare)]]);
  for (const [name, list] of byConfig) startup.set(name, medians(list, ['resolvedMs', 'firstMs', 'allMs', 'cpuMs']));
  return startup;
}

/**
 * Cold drains of a preloaded stream per size, `rounds` times: the bare loop, then each configuration
 * followed by the bare loop again. Per size and configuration: the system's medians, and every bare
 * run beside one of its runs.
 */
export async function measureDrains(aws, kinesis, shards, sizes, configs, rounds, app) {
  const lasts = new Map();
  for (const total of sizes) {
    const stream = `bench-drain-${total}`;
    lasts.set(total, await preload(kinesis, stream, shards, total, (n) => n % 25_000 === 0 && console.log(`  preloading ${stream}: ${fmt(n)} / ${fmt(total)}`)));
  }
  const runs = new Map();
  for (let round = 1; round <= rounds; round++) {
    for (const total of sizes) {
      const stream = `bench-drain-${total}`;
      await settle();
      let before = await bareDrain(aws, stream, total);
      for (const [name, extra] of configs) {
        await settle();
        const system = await systemDrain(aws, stream, app(), lasts.get(total), extra);
        await settle();
        const after = await bareDrain(aws, stream, total);
        const key = `${total} ${name}`;
        const entry = runs.get(key) ?? { total, name, systems: [], bare: [] };
        entry.systems.push(system);
        entry.bare.push(before, after);
        runs.set(key, entry);
        console.log(`  round ${round}, ${fmt(total)} records, ${name}: ${(system.ms / 1000).toFixed(2)} s (bare ${(before.ms / 1000).toFixed(2)} s, ${(after.ms / 1000).toFixed(2)} s)`);
        before = after;
      }
    }
  }
  return [...runs.values()].map(({ total, name, systems, bare }) => ({
    total,
    name,
    system: { ...medians(systems, ['ms', 'cpuMs', 'lastHandledMs']), cpuRange: [Math.min(...systems.map((x) => x.cpuMs)), Math.max(...systems.map((x) => x.cpuMs))] },
    bare: medians(bare, ['ms', 'cpuMs', 'firstCallMs']),
  }));
}

/**
 * The fresh-thread floor: ms from starting a new worker thread until its first GetRecords can go
 * out, loading nothing but the Kinesis client (fresh-thread-read.mjs); median of `runs`. Every
 * reader in a thread its system starts waits at least this long for its first GetRecords, where
 * the bare loop waits `firstCallMs`; the emulator serves both alike from then on.
 */
export async function freshThreadFloor(aws, streamName, runs = 5) {
  const { Shards } = await aws.kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  const clientConfig = { region: aws.clientOptions.region, ...aws.clientOptions.kinesis };
  const times = [];
  for (let i = 0; i < runs; i++) {
    await settle();
    const origin = performance.timeOrigin + performance.now();
    const worker = new Worker(new URL('./fresh-thread-read.mjs', import.meta.url), { workerData: { clientConfig, streamName, shardId: Shards[0].ShardId } });
    const { at } = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    times.push(at - origin);
    await worker.terminate();
  }
  return median(times);
}
