import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { LeaseSnapshot, LeaseStore } from '@kinesis-client/worker/lease';
import type { Emitter } from 'mitt';
import type { SystemEvents } from './events.js';
import { startHttpServer, type HttpEndpoint } from './http/server.js';
import { StateSource } from './http/state-source.js';
import type { Inspection } from './inspect.js';
import { logEvents } from './logging.js';
import { recordMetrics } from './metrics.js';
import { Monitor } from './monitor.js';
import type { ResolvedOptions } from './options.js';
import type { ShardHosts } from './shard-hosts.js';
import { LiveStreams, defaultStream as defaultStreamOf } from './stream-names.js';

/** What the HTTP endpoint reads from once the system's parts exist. */
export interface ObservedParts {
  kinesis: KinesisClient;
  /** The main thread's store, as `watch()` returned it. */
  leases: LeaseStore;
  inspect(leases: LeaseSnapshot[]): Promise<Inspection>;
}

/**
 * How a system shows itself, all fed from `system.events`, the main thread's store calls and a
 * look at the threads: the log lines, the OpenTelemetry metrics, `health()`, and the optional
 * HTTP endpoint with the dashboard.
 */
export class Observability {
  readonly monitor: Monitor;
  private readonly streams: LiveStreams;
  private readonly stopMetrics: () => void;
  private endpoint: HttpEndpoint | undefined;

  constructor(
    private readonly options: ResolvedOptions,
    events: Emitter<SystemEvents>,
    hosts: () => ShardHosts | undefined,
  ) {
    const { workerId, appName } = options;
    const defaultStream = defaultStreamOf(options);
    this.streams = new LiveStreams(events, options);
    logEvents({ events, logger: options.logger, workerId, defaultStream, store: options.store });
    this.monitor = new Monitor({ events, stallMs: options.health.stallMs, threads: options.shardHosts.threads, hosts, defaultStream });
    const streams = () => this.streams.list();
    this.stopMetrics = recordMetrics({ events, meterProvider: options.meterProvider, defaultStream, streams, appName, status: async () => hosts()?.status() ?? [] });
  }

  /** The main thread's store, its outcomes watched for health. */
  watch(store: LeaseStore): LeaseStore {
    return this.monitor.watch(store);
  }

  /** With the `http` option, listens now: a port in use rejects before any thread starts. */
  async listen(parts: ObservedParts): Promise<void> {
    if (!this.options.http) return;
    const { monitor } = this;
    const streams = () => this.streams.list();
    const source = new StateSource({ ...this.options, ...parts, monitor, streams });
    this.endpoint = await startHttpServer(this.options.http, {
      health: () => monitor.health(),
      state: () => (monitor.running ? source.read() : undefined),
      observer: monitor.observer,
    });
  }

  get http(): { url: string; port: number } | undefined {
    return this.endpoint && { url: this.endpoint.url, port: this.endpoint.port };
  }

  async close(): Promise<void> {
    this.stopMetrics();
    await this.endpoint?.close();
  }
}
