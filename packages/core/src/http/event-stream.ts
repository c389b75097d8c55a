import type { ServerResponse } from 'node:http';
import type { LeaseChange, SystemObserver } from '../observer.js';
import type { DashboardState } from './state.js';

export interface EventStreamDeps {
  observer: SystemObserver;
  read(): Promise<DashboardState>;
  /** How often a full state is pushed while a client listens. */
  refreshMs: number;
}

/**
 * `/events`: server-sent events to every connected client. `lease` at once when a lease moves on
 * this worker, then a fresh `state` (read from the store, so the owner shown is the stored one);
 * and a `state` every `refreshMs`, which is how moves between other workers show. Nothing is read
 * while no client listens.
 */
export class EventStream {
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> | undefined;
  private again = false;
  private readonly unsubscribe: () => void;

  constructor(private readonly deps: EventStreamDeps) {
    this.unsubscribe = deps.observer.onLeaseChange((change) => this.leaseChanged(change));
  }

  get size(): number {
    return this.clients.size;
  }

  add(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(`retry: 1000\n\n`);
    this.clients.add(res);
    res.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.pause();
    });
    if (!this.timer) {
      this.timer = setInterval(() => this.refresh(), this.deps.refreshMs);
      this.timer.unref();
    }
    this.refresh();
  }

  close(): void {
    this.unsubscribe();
    this.pause();
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private pause(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private leaseChanged(change: LeaseChange): void {
    if (this.clients.size === 0) return;
    this.send('lease', change);
    this.refresh();
  }

  /** One read at a time; a refresh asked for meanwhile runs once more right after. */
  private refresh(): void {
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = this.deps
      .read()
      .then(
        (state) => this.send('state', state),
        // the store or Kinesis cannot be read now: the page says so and keeps the last state
        (error: unknown) => this.send('unavailable', { message: error instanceof Error ? error.message : String(error) }),
      )
      .finally(() => {
        this.reading = undefined;
        if (this.again && this.clients.size > 0) {
          this.again = false;
          this.refresh();
        }
      });
  }

  private send(event: string, data: unknown): void {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of this.clients) res.write(frame);
  }
}
