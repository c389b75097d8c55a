import { openLeaseStore, type LeaseSnapshot } from '@kinesis-client/worker/lease';
import { ActorRuntime, systemClock } from '@kinesis-client/worker/actor';
import { createKinesisClient } from '@kinesis-client/worker/internal';
import { ConsumerPool } from './consumer-pool.js';
import { EventBridge } from './event-bridge.js';
import { createEmitter } from './events.js';
import { FaultInjector } from './faults.js';
import { hostConfig } from './host-config.js';
import { startHttpServer, type HttpEndpoint } from './http/server.js';
import { StateSource } from './http/state-source.js';
import { inspectTree } from './inspect.js';
import { logEvents } from './logging.js';
import { createMainApi } from './main-api.js';
import { recordMetrics } from './metrics.js';
import { Monitor } from './monitor.js';
import { resolveOptions, type SystemOptions } from './options.js';
import { preflight, type Preflight } from './preflight.js';
import { ShardHosts } from './shard-hosts.js';
import { DEFAULT_STOP_TIMEOUT_MS, boundedStop, releaseOrphans, stopTimeout, type StopResult } from './stop.js';
import type { System } from './system.js';
import { SystemTree } from './system-tree.js';

export type { System } from './system.js';

/**
 * Starts a worker of the application: validates options, checks the stream, loads the consumer,
 * ensures the lease table, starts the shard-host threads and the coordinator, and resolves once
 * the first lease cycle has placed this worker's shards. Anything wrong rejects before work starts.
 * Wiring only: each part named here has its own module.
 */
export async function createSystem(input: SystemOptions): Promise<System> {
  const options = resolveOptions(input);
  const { events, open: openEvents } = createEmitter();
  const bridge = new EventBridge(events);
  logEvents({ events, logger: options.logger, workerId: options.workerId, streamName: options.streamName, store: options.store });
  const onError = (error: unknown, shardId?: string) => bridge.error(error, shardId);
  let hosts: ShardHosts | undefined;
  const faults = new FaultInjector(options.streamName, () => hosts);
  const monitor = new Monitor({ events, stallMs: options.health.stallMs, threads: options.shardHosts.threads, hosts: () => hosts });
  const { kinesisMs, dynamodbMs } = options.callTimeouts;
  // no lease's expiry waits on the coordinator's store calls (scans, lease rows, handoff
  // requests), so they get the longer deadline: bounded, but not cut when the store is merely slow
  const mainStoreMs = dynamodbMs && kinesisMs ? Math.max(dynamodbMs, kinesisMs) : dynamodbMs;
  // the store first: if it cannot be opened, nothing else has been made that would need closing
  const store = await openLeaseStore(options.store, { dynamodb: options.dynamodb, faults: faults.local, timeoutMs: mainStoreMs, maxConnections: 8, side: 'main' });
  const kinesis = createKinesisClient(options.kinesis, { maxSockets: 8, faults: faults.local, timeoutMs: kinesisMs });
  const leases = monitor.watch(store.store);
  const pool = new ConsumerPool(options.consumerUrl, options.processors.concurrency, options.batchers.timeoutMs);
  let tree: SystemTree | undefined;
  const stopMetrics = recordMetrics({ events, meterProvider: options.meterProvider, streamName: options.streamName, appName: options.appName, status: async () => hosts?.status() ?? [] });
  const main = createMainApi({ pool, events, bridge, onShardStopped: (shardId, reason) => tree?.toCoordinator({ type: 'shardStopped', shardId, reason }) });

  const shutdown = (timeoutMs: number) =>
    boundedStop(
      {
        graceful: async () => {
          await tree?.stop().catch(onError);
          await pool.idle();
        },
        abandon: () => {
          const abandoned = pool.abandonAll();
          // threads not yet asked to drain (the coordinator's own stop is stuck) drain now, and release
          void hosts?.stopAll();
          return abandoned;
        },
        terminateThreads: async () => hosts?.terminateAll(),
        releaseLeft: () => releaseOrphans(leases, options.workerId).catch(onError),
        close: async () => {
          stopMetrics();
          await endpoint?.close();
          const left = await pool.close();
          kinesis.destroy();
          await store.close();
          return left;
        },
      },
      timeoutMs,
    );

  const inspect = async (read?: LeaseSnapshot[]) =>
    inspectTree({
      workerId: options.workerId,
      streamName: options.streamName,
      root: tree!.root,
      hosts: tree!.hostSupervisor,
      coordinatorThread: 0,
      threads: await hosts!.inspect(),
      pool: { threads: options.processors.concurrency, deaths: main.poolDeaths() },
      leases: read ?? (await leases.scan()),
    });
  const source = new StateSource({ ...options, kinesis, leases, inspect, monitor });
  let endpoint: HttpEndpoint | undefined;
  let started: Preflight;
  try {
    // first: a port in use rejects before any thread starts
    if (options.http) endpoint = await startHttpServer(options.http, { health: () => monitor.health(), state: () => (monitor.running ? source.read() : undefined), observer: monitor.observer });
    started = await preflight(options, kinesis, pool, leases);
    const { capabilities, consumerArn } = started;
    hosts = new ShardHosts({
      count: options.shardHosts.threads,
      streamName: options.streamName,
      config: (index) => hostConfig(options, index, capabilities, consumerArn),
      mainApi: main.api,
      submit: main.submit,
      callFaults: () => faults.hostData(),
      resourceLimits: options.shardHosts.resourceLimits,
      onError,
      onHostDown: (index) => tree?.toCoordinator({ type: 'hostDown', index }),
      onHostUp: (index) => tree?.toCoordinator({ type: 'hostUp', index }),
    });
    tree = new SystemTree({
      options,
      runtime: new ActorRuntime(systemClock),
      hosts,
      bridge,
      coordinator: { options, kinesis, leases, onError, handled: main.handled },
      onGiveUp: (error) => {
        events.emit('fatal', { error });
        void system.stop();
      },
    });
    await tree.start();
    monitor.started();
  } catch (error) {
    await shutdown(DEFAULT_STOP_TIMEOUT_MS).catch(() => undefined);
    throw error;
  }

  let stopPromise: Promise<StopResult> | undefined;
  const system: System = {
    workerId: options.workerId,
    tableName: options.tableName,
    consumerArn: started.consumerArn,
    events,
    faults,
    status: () => hosts!.status(),
    http: endpoint && { url: endpoint.url, port: endpoint.port },
    inspect: () => inspect(),
    health: () => monitor.health(),
    stop(stopOptions) {
      let timeoutMs: number;
      try {
        timeoutMs = stopTimeout(stopOptions);
      } catch (error) {
        return Promise.reject(error);
      }
      monitor.stopped();
      stopPromise ??= shutdown(timeoutMs).then((result) => {
        events.emit('stopped', { workerId: options.workerId });
        return result;
      });
      return stopPromise;
    },
  };
  // after the caller's `await createSystem(...)` continuation has had its chance to subscribe
  setImmediate(openEvents);
  return system;
}
