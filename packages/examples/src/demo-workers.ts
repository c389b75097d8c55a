/**
 * `demo --workers N`: several workers of one application as separate processes. The parent starts
 * the local services, creates the stream, produces, and forks N copies of this module, each
 * running createSystem with its own workerId against the same lease table. Once a second it prints
 * which worker holds which shard, read from the lease table. `--kill-after S` kills the last
 * worker with SIGKILL after S seconds, to show the others taking its leases once they expire.
 * At the end every worker stops gracefully, and the parent checks the table holds no lease.
 */
import { createSystem } from '@kinesis-client/core';
import { SHARD_END } from '@kinesis-client/worker/lease';
import { startDemoStore, type DemoStoreKind } from './demo-store.js';
import { fmt, OrderProducer, stopOn } from './demo-common.js';
import { WorkerCluster, createStream, shortShardId, startLocalAws, type LocalAws } from './testing/index.js';

/**
 * The multi-worker demo runs with a short failover, so a kill is followed by a takeover within
 * seconds; not shorter, since three workers, a producer and dynalite may share two cores, and a
 * store call then waits long enough for a 3 s failover's renewals to time out.
 */
const FAILOVER_MS = 5_000;
const APP_NAME = 'demo-billing';

export interface WorkerSetup {
  workerId: string;
  streamName: string;
  appName: string;
  clientOptions: LocalAws['clientOptions'];
  failoverMs: number;
  /** The consumer module's URL; the demo's own consumer when absent. */
  consumer?: string;
  /** createSystem's `store` option; DynamoDB when absent. */
  store?: unknown;
  /** Serve the dashboard on this port (0: a free one); its URL is reported. */
  httpPort?: number;
}

export type WorkerReport =
  | { type: 'ready' }
  | { type: 'dashboard'; url: string }
  | { type: 'handled'; count: number }
  | { type: 'lease'; event: 'acquired' | 'released' | 'lost'; shardId: string; at: number }
  | { type: 'error'; message: string }
  | { type: 'stopped' };

/** The worker side: one createSystem, reporting to the parent over IPC. */
async function runWorker(setup: WorkerSetup): Promise<void> {
  const report = (message: WorkerReport) => process.send?.(message);
  const system = await createSystem({
    streamName: setup.streamName,
    appName: setup.appName,
    workerId: setup.workerId,
    consumer: setup.consumer ?? new URL('./consumer.js', import.meta.url),
    ...setup.clientOptions,
    ...(setup.store ? { store: setup.store as Parameters<typeof createSystem>[0]['store'] } : {}),
    lease: { failoverMs: setup.failoverMs },
    processors: { concurrency: 1 },
    shardHosts: { threads: 1 },
    ...(setup.httpPort === undefined ? {} : { http: { port: setup.httpPort } }),
  });
  if (system.http) report({ type: 'dashboard', url: system.http.url });
  system.events.on('batch:handled', (e) => report({ type: 'handled', count: e.count }));
  for (const event of ['acquired', 'released', 'lost'] as const) {
    system.events.on(`lease:${event}`, (e) => report({ type: 'lease', event, shardId: e.shardId, at: Date.now() }));
  }
  system.events.on('error', (e) => report({ type: 'error', message: `${e.shardId ?? ''} ${e.error.message}` }));
  process.on('message', async (message: { type?: string }) => {
    if (message?.type !== 'stop') return;
    await system.stop();
    report({ type: 'stopped' });
    process.disconnect();
  });
  // the parent's Ctrl-C reaches the whole process group; the parent stops us over IPC instead
  process.on('SIGINT', () => undefined);
  // a parent that died without stopping us: stop cleanly rather than linger
  process.once('disconnect', () => void system.stop());
  report({ type: 'ready' });
}

/**
 * The demo's worker processes, each this module in worker mode; `start(workerId, setup)` resolves
 * once the worker's first lease cycle is done, `stop(workerId)` lets it drain, checkpoint and
 * release. The failover benchmark runs the same workers.
 */
export const demoWorkers = (onReport: (workerId: string, report: WorkerReport) => void) =>
  new WorkerCluster<WorkerSetup, WorkerReport>({ script: new URL(import.meta.url), specVariable: 'KC_DEMO_WORKER', onMessage: onReport });

export interface WorkersDemoOptions {
  workers: number;
  shardCount: number;
  rate: number;
  durationS: number;
  killAfterS: number;
  store: DemoStoreKind;
  /** The dashboard's port, served by the first worker (0: a free one). */
  port: number;
}

/** The parent side. */
export async function runWorkersDemo({ workers, shardCount, rate, durationS, killAfterS, store: storeKind, port }: WorkersDemoOptions): Promise<void> {
  const streamName = 'demo-orders';
  console.log('starting local Kinesis (kinesalite) and DynamoDB (dynalite) on loopback...');
  const aws = await startLocalAws();
  const { kinesis } = aws;
  const store = await startDemoStore(storeKind, APP_NAME, aws);
  const table = await store.leases();
  await createStream(kinesis, streamName, shardCount);
  console.log(`stream ${streamName}: ${shardCount} shards; producing ${fmt(rate)} records/s; ${workers} worker processes (failoverMs ${FAILOVER_MS}); leases in ${store.describe}`);

  const producer = new OrderProducer(kinesis, streamName, rate);

  let handled = 0;
  let handledThisSecond = 0;
  let errors = 0;
  const cluster = demoWorkers((workerId, m) => {
    if (m.type === 'handled') {
      handled += m.count;
      handledThisSecond += m.count;
    } else if (m.type === 'dashboard') {
      // owners come from the lease store, so this one page shows every worker
      console.log(`dashboard: ${m.url} (served by ${workerId}; shows all ${workers} workers)`);
    } else if (m.type === 'error') {
      errors++;
      console.error(`${workerId} error: ${m.message}`);
    }
  });
  const workerIds = Array.from({ length: workers }, (_, i) => `worker-${i + 1}`);
  await Promise.all(
    workerIds.map(async (workerId) => {
      const dashboard = workerId === workerIds[0] ? { httpPort: port } : {};
      const child = await cluster.start(workerId, { workerId, streamName, appName: APP_NAME, clientOptions: aws.clientOptions, failoverMs: FAILOVER_MS, ...dashboard, ...(store.option ? { store: store.option } : {}) });
      console.log(`${workerId} started (pid ${child.pid})`);
    }),
  );

  /** Shards per owner, from the lease table; '' for free leases. */
  const ownership = async () => {
    const owners = new Map<string, string[]>();
    for (const lease of await table.scan()) {
      if (lease.checkpoint === SHARD_END) continue;
      const owner = lease.leaseOwner ?? '';
      owners.set(owner, [...(owners.get(owner) ?? []), lease.leaseKey]);
    }
    return owners;
  };
  const formatOwnership = (owners: Map<string, string[]>) =>
    [...workerIds, '']
      .filter((w) => owners.has(w) || (w !== '' && cluster.isRunning(w)))
      .map((w) => `${w || 'free'}: ${(owners.get(w) ?? []).map(shortShardId).sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))).join(' ') || '-'}`)
      .join(' | ');

  const startedAt = Date.now();
  let killedAt: number | undefined;
  let victim: string | undefined;
  let failoverReported = false;
  let stopping: Promise<void> | undefined;
  const progress = setInterval(async () => {
    const owners = await ownership().catch(() => undefined);
    if (stopping || !owners) return;
    const elapsed = Math.round((Date.now() - startedAt) / 1000);
    console.log(`[${String(elapsed).padStart(4)}s] ${fmt(handledThisSecond).padStart(7)} rec/s | handled ${fmt(handled)} of ${fmt(producer.produced)} | ${formatOwnership(owners)}`);
    handledThisSecond = 0;
    if (killedAt !== undefined && !failoverReported && !owners.has('') && !owners.has(victim!)) {
      failoverReported = true;
      console.log(`failover: the survivors hold all ${shardCount} shards, ${fmt(Date.now() - killedAt)} ms after the kill (seen by this once-a-second poll)`);
    }
  }, 1_000);

  const killer =
    killAfterS > 0
      ? setTimeout(() => {
          victim = workerIds.at(-1)!;
          killedAt = Date.now();
          void cluster.kill(victim);
          console.log(`killed ${victim} with SIGKILL: its leases expire after failoverMs (${FAILOVER_MS} ms) and the others take them`);
        }, killAfterS * 1000)
      : undefined;

  const stop = (why: string) => {
    stopping ??= (async () => {
      console.log(`\n${why}: stopping every worker (draining in-flight batches, checkpointing, releasing leases)...`);
      clearInterval(progress);
      if (killer) clearTimeout(killer);
      await producer.stop();
      await cluster.stopAll();
      const owners = await ownership().catch((error: Error) => error);
      const left =
        owners instanceof Error
          ? `unknown (${owners.message})`
          : [...owners].filter(([owner]) => owner !== '').reduce((n, [, shards]) => n + shards.length, 0);
      const seconds = (Date.now() - startedAt) / 1000;
      console.log(
        [
          'summary:',
          `  produced    ${fmt(producer.produced)} records`,
          `  handled     ${fmt(handled)} records in ${seconds.toFixed(1)} s by ${workers} workers`,
          `  errors      ${errors}`,
          ...(victim ? [`  killed      ${victim} (its un-checkpointed batches were handled again by the new owners)`] : []),
          `  leases held after stop: ${left}`,
        ].join('\n'),
      );
      await store.stop();
      await aws.stop();
    })();
    return stopping;
  };
  stopOn(stop, durationS);
}

if (process.env.KC_DEMO_WORKER) await runWorker(JSON.parse(process.env.KC_DEMO_WORKER) as WorkerSetup);
