/**
 * What a soak run leaves behind: the records produced, and per worker process ("incarnation":
 * a workerId keeps its id across a SIGKILL and restart, the process does not) the consumer's batch
 * log and the system's event log (fixtures/soak-consumer.mjs, fixtures/soak-worker.mjs).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Fault } from './schedule.js';

export interface Produced {
  shardId: string;
  sequenceNumber: string;
  key: number;
  n: number;
  /** Date.now() once PutRecords had acknowledged it. */
  at: number;
}

/** One handleBatch call: its start line, and its end line when there was one. */
export interface BatchRun {
  inc: string;
  worker: string;
  shard: string;
  attempt: number;
  start: number;
  end: number | undefined;
  ok: boolean | undefined;
  /** [sequenceNumber, key, n] */
  records: [string, number, number][];
}

export interface WorkerEvent {
  inc: string;
  worker: string;
  t: number;
  e: string;
  shard?: string;
  seq?: string;
  code?: string;
  [k: string]: unknown;
}

export interface Incarnation {
  inc: string;
  worker: string;
  startedAt: number;
  /** When its createSystem had resolved (the fixture said 'ready'). */
  readyAt?: number;
  /** When the process was SIGKILLed or exited; undefined while it runs. */
  endedAt: number | undefined;
  how: 'running' | 'killed' | 'stopped' | 'forced';
}

export interface AppliedFault {
  fault: Fault;
  /** Date.now() when it was applied. */
  at: number;
  /** The incarnation it went to (process faults). */
  inc?: string;
  applied: boolean;
  detail: string;
}

export interface SoakData {
  produced: Produced[];
  batches: BatchRun[];
  events: WorkerEvent[];
  incarnations: Incarnation[];
  faults: AppliedFault[];
  failoverMs: number;
  chaosStart: number;
  chaosEnd: number;
  /** When validation looked: the end of the run. */
  endAt: number;
}

const lines = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return []; // a line cut short by a SIGKILL
      }
    });

/** Reads every log in `dir`; cheap enough to poll while draining. */
export function readLogs(dir: string): { batches: BatchRun[]; events: WorkerEvent[] } {
  const batches: BatchRun[] = [];
  const events: WorkerEvent[] = [];
  for (const file of readdirSync(dir).sort()) {
    const m = /^(.+)\.(\d+)\.(batches|events)\.jsonl$/.exec(file);
    if (!m) continue;
    const worker = m[1]!;
    const inc = `${worker}.${m[2]}`;
    if (m[3] === 'events') {
      for (const l of lines(join(dir, file))) events.push({ ...(l as { t: number; e: string }), inc, worker });
      continue;
    }
    const byId = new Map<string, BatchRun>();
    for (const l of lines(join(dir, file))) {
      if (l.e === 's') {
        const run: BatchRun = { inc, worker, shard: l.shard as string, attempt: l.attempt as number, start: l.t as number, end: undefined, ok: undefined, records: l.r as BatchRun['records'] };
        byId.set(l.id as string, run);
        batches.push(run);
      } else if (l.e === 'e') {
        const run = byId.get(l.id as string);
        if (run) Object.assign(run, { end: l.t, ok: l.ok });
      }
    }
  }
  batches.sort((a, b) => a.start - b.start);
  events.sort((a, b) => a.t - b.t);
  return { batches, events };
}

/** Records of successful batches, by "shard/sequenceNumber": handled at least once. */
export function handledSet(batches: readonly BatchRun[]): Set<string> {
  const out = new Set<string>();
  for (const b of batches) if (b.ok) for (const [seq] of b.records) out.add(`${b.shard}/${seq}`);
  return out;
}
