/**
 * The seeded chaos soak (issue 10): 3 worker processes over an 8-shard stream, a steady producer,
 * faults drawn from the seed, then an end phase (faults stop, workers drain, graceful stop) and
 * the validator. Used by soak.test.ts (CI, about 90 s) and `pnpm soak --minutes N [--seed S]`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listAllShards } from '@kinesis-client/core/internal';
import { createStream, mergeShards, openShards, splitShard, startLocalAws, uniqueName, type LocalAws } from '@kinesis-client/examples/testing';
import { SoakCluster } from './cluster.js';
import { handledSet, readLogs, type AppliedFault, type SoakData } from './logs.js';
import { SoakProducer } from './producer.js';
import { drawSchedule, type Fault } from './schedule.js';
import { summarize, type Summary } from './summary.js';

export interface SoakOptions {
  seed: number;
  chaosMs: number;
  /** How long the end phase waits for every record to be handled before validating anyway. */
  drainMs: number;
  /** Liveness verdict: no shard may go longer without progress. */
  stallLimitMs: number;
  log?: (line: string) => void;
}

const WORKERS = ['w1', 'w2', 'w3'];
const SHARDS = 8;
const FAILOVER_MS = 6_000;
const STOP_TIMEOUT_MS = 20_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(500);
  }
  return true;
}

/** Split a drawn open shard, or merge a drawn pair of adjacent open shards, from the outside. */
async function reshard(aws: LocalAws, stream: string, fault: Extract<Fault, { kind: 'split' | 'merge' }>): Promise<string> {
  const open = openShards(await listAllShards(aws.kinesis, stream)).sort((a, b) => (BigInt(a.HashKeyRange!.StartingHashKey!) < BigInt(b.HashKeyRange!.StartingHashKey!) ? -1 : 1));
  if (fault.kind === 'split') {
    const shard = open[fault.pick % open.length]!;
    const kids = await splitShard(aws.kinesis, stream, shard.ShardId!);
    return `${shard.ShardId} -> ${kids.map((k) => k.ShardId).join(' + ')}`;
  }
  const pairs = open.slice(1).map((b, i) => [open[i]!, b] as const).filter(([a, b]) => BigInt(a.HashKeyRange!.EndingHashKey!) + 1n === BigInt(b.HashKeyRange!.StartingHashKey!));
  const [a, b] = pairs[fault.pick % pairs.length]!;
  const child = await mergeShards(aws.kinesis, stream, a.ShardId!, b.ShardId!);
  return `${a.ShardId} + ${b.ShardId} -> ${child.ShardId}`;
}

/** What a fault is inside a worker process (fixtures/soak-worker.mjs). */
function processFault(fault: Fault): object {
  const { at: _at, worker: _worker, ...rest } = fault as Fault & { worker?: number };
  return rest;
}

export async function runSoak(options: SoakOptions): Promise<Summary> {
  const log = options.log ?? (() => undefined);
  const schedule = drawSchedule(options.seed, { chaosMs: options.chaosMs, workers: WORKERS.length, failoverMs: FAILOVER_MS });
  const aws = await startLocalAws({ shardLimit: 64 });
  const dir = mkdtempSync(join(tmpdir(), 'kc-soak-'));
  const stream = uniqueName('soak');
  const cluster = new SoakCluster({
    logDir: dir,
    seed: options.seed,
    options: {
      streamName: stream,
      appName: uniqueName('soak-app'),
      ...aws.clientOptions,
      // LATEST: a restart before the first checkpoint must not skip what was written meanwhile
      initialPosition: 'LATEST',
      lease: { failoverMs: FAILOVER_MS, takeIntervalMs: 2_000 },
      retrieval: { idleMs: 200, getRecordsLimit: 500 },
      batchers: { batchSize: 100, maxAttempts: 4, backoff: { baseMs: 50, maxMs: 500 } },
      processors: { concurrency: 2 },
      shardHosts: { threads: 2 },
    },
    optional: [
      { name: 'callTimeouts', value: { callTimeouts: { kinesisMs: 5_000, dynamodbMs: 2_000 } } },
      { name: 'batchers.timeoutMs', value: { batchers: { timeoutMs: 30_000 } } },
    ],
  });
  const producer = new SoakProducer(aws.kinesis, stream);
  const faults: AppliedFault[] = [];
  const timings = { startedAt: Date.now(), chaosStart: 0, chaosEnd: 0, drainedMs: undefined as number | undefined, stopMs: 0, endAt: 0 };
  /** A worker whose createSystem fails is started again, as a process manager would; each failure is a notice. */
  const startWorker = async (worker: string) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await cluster.start(worker);
      } catch (error) {
        cluster.notices.add(`${(error as Error).message}${attempt < 3 ? ', started again' : ''}`);
        if (attempt >= 3) throw error;
      }
    }
  };
  try {
    await createStream(aws.kinesis, stream, SHARDS);
    await Promise.all(WORKERS.map(startWorker));
    // at LATEST, records written before a shard first started are legitimately never read
    const started = () => new Set(readLogs(dir).events.filter((e) => e.e === 'started').map((e) => e.shard)).size;
    if (!(await waitUntil(() => started() >= SHARDS, 90_000))) throw new Error(`only ${started()} of ${SHARDS} shards started`);
    log(`soak: seed ${options.seed}, ${schedule.length} faults over ${options.chaosMs} ms, logs in ${dir}`);
    producer.start();
    timings.chaosStart = Date.now();
    const pending: Promise<void>[] = [];
    for (const fault of schedule) {
      await sleep(timings.chaosStart + fault.at - Date.now());
      const at = Date.now();
      const record = (r: { applied: boolean; inc?: string; detail: string }) => void faults.push({ fault, at, ...r });
      if (fault.kind === 'split' || fault.kind === 'merge') {
        pending.push(reshard(aws, stream, fault).then((detail) => record({ applied: true, detail }), (e: Error) => record({ applied: false, detail: e.message })));
      } else if (fault.kind === 'sigkill') {
        const worker = WORKERS[fault.worker]!;
        const inc = cluster.current(worker);
        if (!inc) {
          record({ applied: false, detail: 'worker down' });
          continue;
        }
        await cluster.kill(worker);
        record({ applied: true, inc, detail: `restart after ${fault.restartAfterMs} ms` });
        pending.push(
          sleep(fault.restartAfterMs)
            .then(() => startWorker(worker))
            .catch((e: Error) => void cluster.notices.add(`restart of ${worker} failed: ${e.message}`)),
        );
      } else {
        // in force from the worker's answer (installing call rules waits on every thread), not from the send
        pending.push(cluster.fault(WORKERS[fault.worker]!, processFault(fault)).then((r) => void faults.push({ fault, ...r, at: Date.now() })));
      }
    }
    await sleep(timings.chaosStart + options.chaosMs - Date.now());
    await Promise.all(pending);
    timings.chaosEnd = Date.now();
    // end phase: no new faults, batches behave, every worker up; then drain and stop gracefully
    await Promise.all(
      WORKERS.map((w) => (cluster.isUp(w) ? cluster.fault(w, { kind: 'calm' }) : cluster.isStarting(w) ? undefined : startWorker(w).catch(() => undefined))),
    );
    const produced = await producer.stop();
    const drained = await waitUntil(() => {
      const handled = handledSet(readLogs(dir).batches);
      return produced.every((p) => handled.has(`${p.shardId}/${p.sequenceNumber}`));
    }, options.drainMs);
    if (drained) timings.drainedMs = Date.now() - timings.chaosEnd;
    log(`soak: ${drained ? `drained in ${timings.drainedMs} ms` : `not drained after ${options.drainMs} ms`}; stopping`);
    const stopFrom = Date.now();
    await Promise.all(WORKERS.map((w) => cluster.stop(w, STOP_TIMEOUT_MS)));
    timings.stopMs = Date.now() - stopFrom;
    timings.endAt = Date.now();
    const { batches, events } = readLogs(dir);
    const data: SoakData = {
      produced,
      batches,
      events,
      incarnations: cluster.incarnations,
      faults,
      failoverMs: FAILOVER_MS,
      chaosStart: timings.chaosStart,
      chaosEnd: timings.chaosEnd,
      endAt: timings.endAt,
    };
    const summary = summarize(data, {
      seed: options.seed,
      schedule,
      timings,
      notices: [...cluster.notices],
      stallLimitMs: options.stallLimitMs,
      stopLimitMs: STOP_TIMEOUT_MS,
      producerFailedCalls: producer.failedCalls,
    });
    if (summary.ok && !process.env.SOAK_KEEP_LOGS) rmSync(dir, { recursive: true, force: true });
    else {
      writeFileSync(join(dir, 'soak.json'), JSON.stringify({ seed: options.seed, stream, timings, schedule, faults, incarnations: cluster.incarnations, produced }));
      summary.text += `\n  logs kept in ${dir} (soak.json: schedule, faults as applied, records produced)`;
    }
    return summary;
  } finally {
    await producer.stop().catch(() => undefined);
    await cluster.close();
    await aws.stop();
  }
}
