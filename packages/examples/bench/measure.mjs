/**
 * Measuring helpers of the drain benchmark: the process's own CPU time (every thread of this
 * process: main, shard hosts, pool; the local services run in child processes and are not in it),
 * preloading streams with identical records, and the bare SDK loops the system is compared with.
 */
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { createStream, putRecords } from '@kinesis-client/examples/testing';

/** CPU time of this process (all its threads) in ms. */
export const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1_000;
};
/** Collects the main thread's garbage between runs (with --expose-gc), so no run pays for the one before. */
export const settle = async () => {
  globalThis.gc?.();
  await new Promise((r) => setTimeout(r, 200));
};
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A stream of `total` records of about 200 bytes, the same payloads for every stream; returns each shard's last sequence number. */
export async function preload(kinesis, streamName, shards, total, log = () => {}) {
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
    log(Math.min(total, start + chunk));
  }
  if (last.size !== shards) throw new Error(`records of ${streamName} did not reach every shard`);
  return last;
}

/**
 * The bare loop: a fresh SDK client (built like the shard hosts' own), ListShards, then per shard
 * GetShardIterator(TRIM_HORIZON) and GetRecords (limit 10 000, the SDK parsing every response)
 * until an empty page. No leases, no checkpoints. `startupCpuMs`: the CPU spent until every shard
 * had its first page; `firstCallMs`: when its first GetRecords went out.
 */
export async function bareDrain(aws, streamName, expected) {
  const kinesis = aws.kinesisClient();
  const cpu0 = cpuMs();
  const started = performance.now();
  const { Shards } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  let count = 0;
  let firstPages = 0;
  let startupCpuMs;
  let firstCallMs;
  await Promise.all(
    Shards.map(async (shard) => {
      let { ShardIterator: iterator } = await kinesis.send(
        new GetShardIteratorCommand({ StreamName: streamName, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
      );
      firstCallMs ??= performance.now() - started;
      for (let page = 0; ; page++) {
        const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
        if (page === 0 && ++firstPages === Shards.length) startupCpuMs = cpuMs() - cpu0;
        count += out.Records.length;
        iterator = out.NextShardIterator;
        if (out.Records.length === 0) break;
      }
    }),
  );
  const result = { ms: performance.now() - started, cpuMs: cpuMs() - cpu0, startupCpuMs, firstCallMs };
  kinesis.destroy();
  if (count !== expected) throw new Error(`bare loop read ${count} records of ${streamName}, expected ${expected}`);
  return result;
}

/** The bare loop's idle cost: every shard polled with GetRecords every `idleMs` (the system's polling.idleMs) for `seconds`; CPU ms per shard per second. */
export async function bareIdle(aws, streamName, seconds, idleMs = 1_000) {
  const kinesis = aws.kinesisClient();
  const { Shards } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  let running = true;
  const loops = Shards.map(async (shard) => {
    let { ShardIterator: iterator } = await kinesis.send(
      new GetShardIteratorCommand({ StreamName: streamName, ShardId: shard.ShardId, ShardIteratorType: 'LATEST' }),
    );
    while (running) {
      iterator = (await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }))).NextShardIterator;
      await sleep(idleMs);
    }
  });
  await sleep(2_000);
  const cpu0 = cpuMs();
  const t0 = performance.now();
  await sleep(seconds * 1_000);
  const perShardSecond = (cpuMs() - cpu0) / Shards.length / ((performance.now() - t0) / 1_000);
  running = false;
  await Promise.all(loops);
  kinesis.destroy();
  return perShardSecond;
}
