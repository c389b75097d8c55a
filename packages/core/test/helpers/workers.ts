import type { ExecutionContext } from 'ava';
import { WorkerCluster } from '@kinesis-client/examples/testing';
import { SHARD_END, type LeaseStore } from '@kinesis-client/worker/lease';

export interface Delivery {
  worker: string;
  streamName: string;
  shardId: string;
  sequenceNumbers: string[];
  startedAt: number;
  endedAt: number;
}

export interface LeaseEvent {
  worker: string;
  type: 'lease:acquired' | 'lease:lost' | 'lease:released' | 'error';
  streamName?: string;
  shardId?: string;
  to?: string;
  message?: string;
  at: number;
}

export interface WorkerSpec {
  workerId: string;
  /** One stream; or `streams`, its names, for a multi-stream application. */
  streamName?: string;
  streams?: string[];
  appName: string;
  clientOptions: unknown;
  lease: { failoverMs: number; takeIntervalMs?: number; maxStealPerCycle?: number; checkpointIntervalMs?: number; handoffTimeoutMs?: number };
  retrieval?: { idleMs?: number };
  delayMs?: number;
  allow?: string[];
  /** DynamoDB through this address (a loopback proxy) instead of clientOptions' endpoint. */
  dynamodbEndpoint?: string;
  /** createSystem's `store` option (plain data); default DynamoDB. */
  store?: unknown;
  callTimeouts?: { kinesisMs?: number; dynamodbMs?: number };
}

type Report = { type: string; kind?: string } & Record<string, unknown>;

/**
 * Worker processes of one application, each a real `createSystem` in its own process
 * (fixtures/balance-worker.mjs, on the built packages), and everything they reported: each handled
 * batch with when it ran, and the lease events. Stop or kill them one by one; `close()` kills what
 * is left.
 */
export class Cluster {
  readonly deliveries: Delivery[] = [];
  readonly events: LeaseEvent[] = [];
  private readonly processes = new WorkerCluster<WorkerSpec, Report>({
    script: new URL('../fixtures/balance-worker.mjs', import.meta.url),
    specVariable: 'KC_WORKER',
    // the built packages, without the test runner's TypeScript loader
    execArgv: [],
    onMessage: (_, m) => {
      if (m.type === 'delivery' && m.kind === 'batch') this.deliveries.push(m as unknown as Delivery);
      else if (m.type.startsWith('lease:') || m.type === 'error') this.events.push(m as unknown as LeaseEvent);
    },
  });

  /** Every worker still running when the test ends is killed. */
  constructor(
    t: ExecutionContext,
    private readonly base: Omit<WorkerSpec, 'workerId'>,
    readonly table: LeaseStore,
  ) {
    t.teardown(() => this.close());
  }

  /** Starts the workers in parallel; resolves once each has finished its first lease cycle. */
  async start(workerIds: string[], extra: Partial<WorkerSpec> = {}): Promise<void> {
    await Promise.all(workerIds.map((workerId) => this.processes.start(workerId, { ...this.base, ...extra, workerId })));
  }

  /** Graceful: stop() in the worker (drain, checkpoint, release), then its process exits by itself. */
  stop = (workerId: string) => this.processes.stop(workerId);
  kill = (workerId: string) => this.processes.kill(workerId);
  stopAll = () => this.processes.stopAll();
  close = () => this.processes.close();

  /** Leases each worker runs, from its own lease events (a lease handed to it counts once it has taken it). */
  running(): Map<string, number> {
    const held = new Map<string, Set<string>>();
    for (const e of this.events) {
      const mine = held.get(e.worker) ?? new Set<string>();
      held.set(e.worker, mine);
      if (e.type === 'lease:acquired') mine.add(`${e.streamName}/${e.shardId}`);
      else if (e.type === 'lease:released' || e.type === 'lease:lost') mine.delete(`${e.streamName}/${e.shardId}`);
    }
    return new Map([...held].map(([w, s]) => [w, s.size]));
  }

  /** Polls until both the table and the workers' own events show `each` leases per worker. */
  waitForBalance(workers: readonly string[], each: number, timeoutMs: number): Promise<number> {
    return this.waitForOwners(
      (counts) => !counts.has('') && workers.every((w) => counts.get(w) === each && this.running().get(w) === each),
      timeoutMs,
      `${workers.map(() => each).join('/')} over ${workers.join(', ')}`,
    );
  }

  /** Unfinished leases per owner ('' for free), from the table. */
  async owners(): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const lease of await this.table.scan()) {
      if (lease.checkpoint === SHARD_END) continue;
      const owner = lease.leaseOwner ?? '';
      out.set(owner, [...(out.get(owner) ?? []), lease.leaseKey].sort());
    }
    return out;
  }

  /** Polls the table until `check` holds for the owner counts; resolves to the ms it took. */
  async waitForOwners(check: (counts: Map<string, number>) => boolean, timeoutMs: number, what: string): Promise<number> {
    const started = Date.now();
    let last = new Map<string, number>();
    for (;;) {
      last = new Map([...(await this.owners())].map(([o, leases]) => [o, leases.length]));
      if (check(last)) return Date.now() - started;
      if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; owners ${JSON.stringify([...last])}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Sequence number -> how many times it was handled, per shard. */
  handledCounts(): Map<string, Map<string, number>> {
    const out = new Map<string, Map<string, number>>();
    for (const d of this.deliveries) {
      const shard = out.get(d.shardId) ?? new Map<string, number>();
      for (const s of d.sequenceNumbers) shard.set(s, (shard.get(s) ?? 0) + 1);
      out.set(d.shardId, shard);
    }
    return out;
  }

  /** Records handled more than once, with the workers that handled them. */
  duplicates(): { shardId: string; sequenceNumber: string; workers: string[] }[] {
    const byRecord = new Map<string, { shardId: string; sequenceNumber: string; workers: string[] }>();
    for (const d of this.deliveries) {
      for (const s of d.sequenceNumbers) {
        const key = `${d.shardId}/${s}`;
        const entry = byRecord.get(key) ?? { shardId: d.shardId, sequenceNumber: s, workers: [] };
        entry.workers.push(d.worker);
        byRecord.set(key, entry);
      }
    }
    return [...byRecord.values()].filter((e) => e.workers.length > 1);
  }

  /**
   * Pairs of batches of one shard that two workers were handling at the same time, from the
   * delivery log (each batch's start and end in handleBatch, on the one machine clock).
   */
  overlaps(): { shardId: string; a: Delivery; b: Delivery }[] {
    const found: { shardId: string; a: Delivery; b: Delivery }[] = [];
    const byShard = new Map<string, Delivery[]>();
    for (const d of this.deliveries) byShard.set(d.shardId, [...(byShard.get(d.shardId) ?? []), d]);
    for (const [shardId, list] of byShard) {
      list.sort((x, y) => x.startedAt - y.startedAt);
      const lastOf = new Map<string, Delivery>();
      for (const d of list) {
        for (const [worker, prev] of lastOf) if (worker !== d.worker && prev.endedAt > d.startedAt) found.push({ shardId, a: prev, b: d });
        const mine = lastOf.get(d.worker);
        if (!mine || mine.endedAt < d.endedAt) lastOf.set(d.worker, d);
      }
    }
    return found;
  }
}

export const countsOf = (counts: Map<string, number>, workers: readonly string[]) => workers.map((w) => counts.get(w) ?? 0);
