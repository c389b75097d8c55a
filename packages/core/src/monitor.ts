import type { Emitter } from 'mitt';
import type { LeaseStore } from '@kinesis-client/worker/lease';
import type { SystemEvents } from './events.js';
import { assessHealth, type Health } from './health.js';
import { SystemObserver } from './observer.js';
import type { ShardHosts } from './shard-hosts.js';

/** How often the shard-host threads are asked which shards have records waiting. */
const SAMPLE_MS = 5_000;

export interface MonitorDeps {
  events: Emitter<SystemEvents>;
  stallMs: number;
  threads: number;
  /** A single-stream system's stream, for events that name none. */
  defaultStream: string | undefined;
  hosts(): ShardHosts | undefined;
}

/**
 * The system's health, fed from the observer and a look at the threads every few seconds; the
 * decision itself is `assessHealth`. `started()` once createSystem resolves, `stopped()` on stop.
 */
export class Monitor {
  readonly observer: SystemObserver;
  private state: 'starting' | 'running' | 'stopped' = 'starting';
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: MonitorDeps) {
    this.observer = new SystemObserver(deps.events, deps.defaultStream);
  }

  /** The lease store of the main thread, its outcomes watched for LEASE_STORE_UNREACHABLE. */
  watch(store: LeaseStore): LeaseStore {
    return this.observer.watchStore(store);
  }

  /** Started and not stopping. */
  get running(): boolean {
    return this.state === 'running';
  }

  started(): void {
    if (this.state !== 'starting') return;
    this.state = 'running';
    this.timer = setInterval(() => void this.sample(), SAMPLE_MS);
    this.timer.unref();
  }

  stopped(): void {
    this.state = 'stopped';
    clearInterval(this.timer);
  }

  async sample(): Promise<void> {
    const hosts = this.deps.hosts();
    if (hosts && this.state === 'running') this.observer.sample(await hosts.status().catch(() => []));
  }

  health(): Health {
    const hosts = this.deps.hosts();
    return assessHealth(
      {
        started: this.state !== 'starting',
        stopped: this.state === 'stopped',
        gaveUp: this.observer.gaveUp,
        hostsUp: hosts?.aliveIndexes().length ?? 0,
        hosts: this.deps.threads,
        store: this.observer.storeOutcomes(),
        shards: this.observer.progress(),
        stallMs: this.deps.stallMs,
      },
      Date.now(),
    );
  }
}
