import { startSystem } from '@kinesis-client/examples/testing';
import { cpuMs, sleep } from './measure.mjs';

/** The benchmarks' system: a no-op consumer on the local services, defaults unless `extra` says otherwise. */
export async function benchSystem(aws, streamName, extra = {}) {
  const { appName = `${streamName}-app`, consumer = new URL('./noop-consumer.mjs', import.meta.url), ...options } = extra;
  return (await startSystem({ aws, stream: streamName, app: appName, consumer, options })).system;
}

/**
 * Cold drain: from the createSystem call until every shard's last record (`last`: shard -> sequence
 * number) is checkpointed. `onStarted(system)` runs once createSystem has resolved, inside the time.
 */
export async function systemDrain(aws, streamName, appName, last, extra, onStarted = () => {}) {
  const cpu0 = cpuMs();
  const started = performance.now();
  const system = await benchSystem(aws, streamName, { appName, ...extra });
  onStarted(system);
  let handled = 0;
  let lastHandledMs = 0;
  system.events.on('batch:handled', (e) => {
    handled += e.count;
    lastHandledMs = performance.now() - started;
  });
  await new Promise((resolve) => {
    const remaining = new Set(last.keys());
    system.events.on('checkpoint', (e) => {
      if (last.get(e.shardId) === e.sequenceNumber) remaining.delete(e.shardId);
      if (remaining.size === 0) resolve();
    });
  });
  const result = { ms: performance.now() - started, cpuMs: cpuMs() - cpu0, lastHandledMs, handled };
  await system.stop();
  return result;
}

/**
 * Start-up over a stream with a few records in each of its `shards`: ms from the createSystem call
 * until it resolves, until the first batch is handled (the consumer's handleBatch returned) and
 * until every shard's first batch is; CPU ms from the call until then.
 */
export async function systemStartup(aws, streamName, appName, shards, extra) {
  const channel = new BroadcastChannel('bench:first-batch');
  const firsts = [];
  let allCpuMs;
  const allHandled = new Promise((resolve) => {
    channel.onmessage = ({ data }) => {
      firsts.push(data.at);
      if (firsts.length === shards) {
        allCpuMs = cpuMs() - cpu0;
        resolve();
      }
    };
  });
  const cpu0 = cpuMs();
  const origin = performance.timeOrigin + performance.now();
  const system = await benchSystem(aws, streamName, { appName, consumer: new URL('./first-batch-consumer.mjs', import.meta.url), ...extra });
  const resolvedMs = performance.timeOrigin + performance.now() - origin;
  await allHandled;
  channel.close();
  await system.stop();
  return { resolvedMs, firstMs: Math.min(...firsts) - origin, allMs: Math.max(...firsts) - origin, cpuMs: allCpuMs };
}

/** Idle cost: once every shard of an empty stream has started (and `settleMs` more), CPU ms per shard per second over `seconds`. */
export async function systemIdle(aws, streamName, shards, seconds, settleMs = 3_000) {
  const system = await benchSystem(aws, streamName);
  let started = 0;
  system.events.on('shard:started', () => started++);
  const t0 = performance.now();
  while (started < shards) {
    if (performance.now() - t0 > 120_000) throw new Error(`only ${started} of ${shards} shards started`);
    await sleep(50);
  }
  const startedMs = performance.now() - t0;
  await sleep(settleMs);
  const cpu0 = cpuMs();
  const w0 = performance.now();
  await sleep(seconds * 1_000);
  const perShardSecond = (cpuMs() - cpu0) / shards / ((performance.now() - w0) / 1_000);
  await system.stop();
  return { perShardSecond, startedMs };
}
