/**
 * The shard-host thread. Started by a ShardHostHandle on the main thread, it hosts the actors of
 * many shards in one ActorRuntime. It exposes HostApi on parentPort and reports events through
 * MainApi on `mainPort` (comlink both); batches leave on `batchPort` and their outcomes come back
 * from the pool threads themselves (PoolLink).
 */
import './forward-warnings.js';
import { parentPort, threadId, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { comlinkEndpoint } from './comlink-endpoint.js';
import { ActorRuntime } from './actor/runtime.js';
import { createKinesisClient, createSubscriptionClient } from './aws-clients.js';
import { systemClock } from './clock.js';
import { CallFaults } from './faults.js';
import type { HostEnv } from './host-env.js';
import { leaseAddress } from './lease/lease.js';
import { openLeaseStore } from './lease/open-lease-store.js';
import { PoolLink } from './pool-link.js';
import { readGetRecordsLightly } from './reader/light-get-records.js';
import { warmUpScan } from './reader/scan-warm-up.js';
import type { ShardReport } from './events.js';
import type { HostApi, HostConfig, HostEvent, HostWorkerData, LeaseSnapshot, MainApi, ShardInspection, ShardStatus, StreamStart } from './protocol.js';
import type { Position } from './position.js';
import { shardKey } from './shard-address.js';
import { ShardSupervisor } from './shard-supervisor.js';

if (!parentPort) throw new Error('host-entry must run in a worker thread');

const { mainPort, batchPort, callFaults, configPort } = workerData as HostWorkerData;
// a thread started ahead of its config has loaded its code by now; the rest waits for the config
const config = (workerData as HostWorkerData).config ?? (await new Promise<HostConfig>((resolve) => configPort!.once('message', resolve)));
configPort?.close();
const main = Comlink.wrap<MainApi>(comlinkEndpoint(mainPort));
const faults = new CallFaults(callFaults.counters, callFaults.rules);
const { kinesisMs, dynamodbMs } = config.callTimeouts;
const kinesis = readGetRecordsLightly(createKinesisClient(config.kinesis, { faults, timeoutMs: kinesisMs }));
const leaseStore = await openLeaseStore(config.store, { dynamodb: config.dynamodb, faults, timeoutMs: dynamodbMs, maxConnections: 50, side: 'thread' });
const subscriptionClient = config.retrieval.mode === 'fanout' ? createSubscriptionClient(config.kinesis, config.retrieval, { faults, timeoutMs: kinesisMs }) : undefined;
/** By shardKey(address). */
const shards = new Map<string, ShardSupervisor>();

// every shard's events have their stream by now (ShardSupervisor); the thread's own have none to add
const report = (event: ShardReport) => void main.report(event as HostEvent);

const env: HostEnv = {
  config,
  runtime: new ActorRuntime(systemClock),
  kinesis,
  ...(subscriptionClient ? { subscriptionClient } : {}),
  leases: leaseStore.store,
  pool: new PoolLink(batchPort),
  report,
};

const api: HostApi = {
  async startShard(lease: LeaseSnapshot, handled?: Position, stream?: StreamStart) {
    const address = leaseAddress(lease, stream?.streamName ?? config.streamName);
    const key = shardKey(address);
    if (shards.has(key)) return;
    const shard = new ShardSupervisor(
      env,
      address,
      lease,
      (id) => {
        if (shards.get(id) === shard) shards.delete(id);
      },
      handled,
      stream,
    );
    shards.set(key, shard);
    await shard.start();
  },
  async stopShard(address) {
    await shards.get(shardKey(address))?.drain();
  },
  async stopAll() {
    await Promise.all([...shards.values()].map((s) => s.drain()));
    kinesis.destroy();
    subscriptionClient?.destroy();
    await leaseStore.close();
  },
  async status(): Promise<ShardStatus[]> {
    return [...shards.values()].map((s) => s.status());
  },
  async inspect(): Promise<ShardInspection[]> {
    return [...shards.values()].map((s) => s.inspect(threadId));
  },
  async crashActor(address, role) {
    return shards.get(shardKey(address))?.crash(role) ?? false;
  },
  async die(how) {
    // after this call has answered, so the caller sees the thread die rather than a lost reply
    setImmediate(() => {
      if (how === 'exit') process.exit(70);
      if (how === 'throw') throw new Error('injected by system.faults.killThread: uncaught error in a shard-host thread');
      const hog: number[][] = [];
      for (;;) hog.push(new Array(1 << 20).fill(hog.length));
    });
  },
  async addCallFault(rule) {
    faults.install(rule);
  },
};

Comlink.expose(api, comlinkEndpoint(parentPort));
// while the first takes and GetShardIterator calls are out, the scan of the first pages gets
// compiled; only an optimization, so nothing it could throw may end the thread
if (config.retrieval.mode === 'polling') warmUpScan().catch(() => undefined);
