import { openLeaseStore } from '@kinesis-client/worker/lease';
import { ActorRuntime, systemClock } from '@kinesis-client/worker/actor';
import { createKinesisClient, printThreadWarningsOnce } from '@kinesis-client/worker/internal';
import { ConsumerPool } from './consumer-pool.js';
import { EventBridge } from './event-bridge.js';
import { createEmitter } from './events.js';
import { FaultInjector } from './faults.js';
import { hostConfig } from './host-config.js';
import { inspector } from './inspect.js';
import { createMainApi } from './main-api.js';
import { Observability } from './observability.js';
import { resolveOptions, type SystemOptions } from './options.js';
import { preflight, type Preflight } from './preflight.js';
import { ShardHosts } from './shard-hosts.js';
import { streamControl } from './stream-control.js';
import { DEFAULT_STOP_TIMEOUT_MS, boundedStop, releaseOrphans, stopTimeout, type StopResult } from './stop.js';
import type { System } from './system.js';
import { SystemTree } from './system-tree.js';

export type { System } from './system.js';

// the warnings the shard-host and pool threads forward are printed once per process; from import
// on, so that one the application's own SDK clients printed before createSystem counts as shown
printThreadWarningsOnce();

/**
 * Starts a worker of the application: validates options, checks the stream, loads the consumer,
 * ensures the lease table (the shard-host threads load meanwhile), starts the tree with the
 * coordinator, and resolves once the first lease cycle has placed this worker's shards. Anything
 * wrong rejects before work starts, and leaves no thread running.
 * Wiring only: each part named here has its own module.
 */
export async function createSystem(input: SystemOptions): Promise<System> {
  const options = resolveOptions(input);
  const { events, open: openEvents } = createEmitter();
  const bridge = new EventBridge(events);
  const onError = (error: unknown, where?: { streamName?: string; shardId?: string }) => bridge.error(error, where);
  let hosts: ShardHosts | undefined;
  const faults = new FaultInjector(options.streamName, () => hosts);
  const observed = new Observability(options, events, () => hosts);
  const { kinesisMs, dynamodbMs } = options.callTimeouts;
  // no lease's expiry waits on the coordinator's store calls (scans, lease rows, handoff
  // requests), so they get the longer deadline: bounded, but not cut when the store is merely slow
  const mainStoreMs = dynamodbMs && kinesisMs ? Math.max(dynamodbMs, kinesisMs) : dynamodbMs;
  // the store first: if it cannot be opened, nothing else has been made that would need closing
  const store = await openLeaseStore(options.store, { dynamodb: options.dynamodb, faults: faults.local, timeoutMs: mainStoreMs, maxConnections: 8, side: 'main' });
  const kinesis = createKinesisClient(options.kinesis, { maxSockets: 8, faults: faults.local, timeoutMs: kinesisMs });
  const leases = observed.watch(store.store);
  const pool = new ConsumerPool(options.consumerUrl, options.processors.concurrency, options.batchers.timeoutMs);
  let tree: SystemTree | undefined;
  const main = createMainApi({
    pool,
    events,
    bridge,
    onShardStopped: (at, reason) => {
      hosts?.forget(at);
      tree?.toCoordinator(at.streamName, { type: 'shardStopped', shardId: at.shardId, reason });
    },
  });

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
          await observed.close();
          await hosts?.terminateAll();
          const left = await pool.close();
          kinesis.destroy();
          await store.close();
          return left;
        },
      },
      timeoutMs,
    );

  const inspect = inspector({ ...options, tree: () => tree, hosts: () => hosts, poolThreads: options.processors.concurrency, poolDeaths: main.poolDeaths, leases });
  let started: Preflight;
  try {
    await observed.listen({ kinesis, leases, inspect });
    const checked = preflight(options, kinesis, pool, leases).then((result) => (started = result));
    hosts = new ShardHosts({
      count: options.shardHosts.threads,
      streamName: options.streamName,
      config: (index) => hostConfig(options, index, started.capabilities, started.streams[0]!.consumerArn),
      mainApi: main.api,
      submit: main.submit,
      callFaults: () => faults.hostData(),
      resourceLimits: options.shardHosts.resourceLimits,
      onError,
      onHostDown: (index) => tree?.toCoordinators({ type: 'hostDown', index }),
      onHostUp: (index) => tree?.toCoordinators({ type: 'hostUp', index }),
    });
    // the threads load during the checks; their configs (from `started`) follow, a failed check ends them (close)
    hosts.startEarly(checked);
    started = await checked;
    tree = new SystemTree({
      options,
      runtime: new ActorRuntime(systemClock),
      hosts,
      bridge,
      coordinator: { options, kinesis, leases, onError, handled: main.handled },
      streams: started.streams,
      onGiveUp: (error) => {
        events.emit('fatal', { error });
        void system.stop();
      },
    });
    await tree.start();
    pool.fill();
    observed.monitor.started();
  } catch (error) {
    await shutdown(DEFAULT_STOP_TIMEOUT_MS).catch(() => undefined);
    throw error;
  }

  let stopPromise: Promise<StopResult> | undefined;
  const control = streamControl({ options, kinesis, leases, events, tree: () => tree, hosts: () => hosts });
  const system: System = {
    workerId: options.workerId,
    tableName: options.tableName,
    consumerArn: started.streams[0]!.consumerArn,
    events,
    faults,
    status: () => hosts!.status(),
    http: observed.http,
    inspect: () => inspect(),
    addStream: control.addStream,
    removeStream: control.removeStream,
    health: () => observed.monitor.health(),
    stop(stopOptions) {
      let timeoutMs: number;
      try {
        timeoutMs = stopTimeout(stopOptions);
      } catch (error) {
        return Promise.reject(error);
      }
      observed.monitor.stopped();
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
