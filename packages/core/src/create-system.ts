import { DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import type { Emitter } from 'mitt';
import {
  ActorRuntime,
  KinesisClientError,
  LeaseTable,
  Supervisor,
  createDynamoDBClient,
  createKinesisClient,
  deserializeError,
  systemClock,
  type BatchOutcome,
  type ChildSpec,
  type ConsumerCapabilities,
  type HostConfig,
  type LeaseStore,
  type HostEvent,
  type MainApi,
  type ShardInspection,
  type ShardStatus,
  type SupervisorEvent,
} from '@kinesis-client/worker';
import { BatchOutcomes } from './batch-outcomes.js';
import { ConsumerPool, type PoolTask } from './consumer-pool.js';
import { coordinator, type CoordinatorMessage } from './coordinator.js';
import { createEmitter, type SystemEvents } from './events.js';
import { FaultInjector, type Faults } from './faults.js';
import { inspectTree, type Inspection } from './inspect.js';
import { resolveOptions, type ResolvedOptions, type SystemOptions } from './options.js';
import { ShardHostHandle } from './shard-host-handle.js';
import { DEFAULT_STOP_TIMEOUT_MS, boundedStop, stopTimeout, type StopOptions, type StopResult } from './stop.js';
import { ensureStreamConsumer } from './stream-consumer.js';

export interface System {
  readonly workerId: string;
  readonly tableName: string;
  /** With `retrieval.mode: 'fanout'`: the ARN of the registered stream consumer. */
  readonly consumerArn: string | undefined;
  readonly events: Emitter<SystemEvents>;
  /** Fault injection through the system's own paths: crash actors, kill threads, fail AWS calls. */
  readonly faults: Faults;
  /** What each shard-host thread is running now. */
  status(): Promise<ShardStatus[]>;
  /** The live supervision tree, and each shard's lease owner, checkpoint and lag. */
  inspect(): Promise<Inspection>;
  /**
   * Graceful, bounded and idempotent (a second call returns the same promise): stop reading, let
   * in-flight batches finish for up to `timeoutMs` (default 30 000), checkpoint, release every
   * lease, end every thread. Batches still running at the deadline are abandoned without a
   * checkpoint (the next owner reads them again) and listed in the result. INVALID_ARGUMENT for a
   * bad argument.
   */
  stop(options?: StopOptions): Promise<StopResult>;
}

/** Resolves to the stream's ARN. */
async function checkStream(kinesis: KinesisClient, streamName: string): Promise<string> {
  try {
    const out = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    return out.StreamDescriptionSummary!.StreamARN!;
  } catch (error) {
    if ((error as { name?: string })?.name === 'ResourceNotFoundException') {
      throw new KinesisClientError('STREAM_NOT_FOUND', `stream "${streamName}" does not exist`, { cause: error, details: { streamName } });
    }
    throw new KinesisClientError('AWS_CALL_FAILED', `DescribeStreamSummary for "${streamName}" failed: ${(error as Error)?.message}`, { cause: error });
  }
}

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

function hostConfig(options: ResolvedOptions, index: number, consumer: ConsumerCapabilities, consumerArn: string | undefined): HostConfig {
  const p = options.initialPosition;
  const r = options.retrieval;
  return {
    hostIndex: index,
    workerId: options.workerId,
    streamName: options.streamName,
    tableName: options.tableName,
    kinesis: options.kinesis,
    dynamodb: options.dynamodb,
    initialTimestamp: typeof p === 'object' ? p.timestamp.getTime() : undefined,
    lease: {
      failoverMs: options.lease.failoverMs,
      renewIntervalMs: options.lease.renewIntervalMs,
      checkpointIntervalMs: options.lease.checkpointIntervalMs,
      safetyMarginMs: options.lease.safetyMarginMs,
    },
    callTimeouts: options.callTimeouts,
    reader: {
      idleMs: options.polling.idleMs,
      getRecordsLimit: options.polling.getRecordsLimit,
      maxBufferedRecords: options.polling.maxBufferedRecords,
      maxBufferedBytes: options.polling.maxBufferedBytes,
      throttleBackoff: options.polling.throttleBackoff,
      iteratorMaxAgeMs: options.polling.iteratorMaxAgeMs,
    },
    batch: { size: options.batchers.batchSize, maxAttempts: options.batchers.maxAttempts, backoff: options.batchers.backoff },
    shardSupervision: {
      intensity: { maxRestarts: options.supervision.shard.maxRestarts, withinMs: options.supervision.shard.withinMs },
      backoff: options.supervision.shard.backoff,
    },
    consumer,
    ...(r.mode === 'fanout' && consumerArn
      ? {
          fanout: {
            consumerArn,
            endpoint: r.endpoint,
            tls: r.tls,
            watchdogMs: r.watchdogMs,
            subscriptionMs: r.subscriptionMs,
            maxBufferedRecords: r.maxBufferedRecords,
            maxBufferedBytes: r.maxBufferedBytes,
          },
        }
      : {}),
  };
}

/**
 * Starts a worker of the application: validates options, checks the stream, loads the consumer,
 * ensures the lease table, starts the shard-host threads and the coordinator, and resolves once
 * the first lease cycle has placed this worker's shards. Anything wrong rejects before work starts.
 */
export async function createSystem(input: SystemOptions): Promise<System> {
  const options = resolveOptions(input);
  const { events, open: openEvents } = createEmitter();
  const slots: (ShardHostHandle | undefined)[] = new Array(options.shardHosts.threads).fill(undefined);
  const faults = new FaultInjector(() => slots);
  const kinesis = createKinesisClient(options.kinesis, { maxSockets: 8, faults: faults.local, timeoutMs: options.callTimeouts.kinesisMs });
  // no lease's expiry waits on the coordinator's DynamoDB calls (scans, lease rows, handoff
  // requests), so they get the longer deadline: bounded, but not cut when DynamoDB is merely slow
  const { kinesisMs, dynamodbMs } = options.callTimeouts;
  const mainDynamodbMs = dynamodbMs && kinesisMs ? Math.max(dynamodbMs, kinesisMs) : dynamodbMs;
  const dynamodb = createDynamoDBClient(options.dynamodb, { maxSockets: 8, faults: faults.local, timeoutMs: mainDynamodbMs });
  const leases: LeaseStore = new LeaseTable(dynamodb, options.tableName);
  const pool = new ConsumerPool(options.consumerUrl, options.processors.concurrency, options.batchers.timeoutMs);
  const runtime = new ActorRuntime(systemClock);
  let stopPromise: Promise<StopResult> | undefined;
  let root: Supervisor | undefined;
  let hostSupervisor: Supervisor | undefined;
  let consumerArn: string | undefined;

  const emitError = (error: unknown, shardId?: string) =>
    events.emit('error', { error: error instanceof Error ? error : deserializeError(error as never), ...(shardId ? { shardId } : {}) });

  const toCoordinator = (message: CoordinatorMessage) => {
    const ref = runtime.current<CoordinatorMessage>('coordinator');
    if (ref) runtime.send(ref, message);
  };

  const report = (event: HostEvent) => {
    switch (event.type) {
      case 'lease:acquired':
        return events.emit('lease:acquired', { shardId: event.shardId, workerId: options.workerId, leaseCounter: event.leaseCounter, checkpoint: event.checkpoint });
      case 'shard:stopped':
        // its final checkpoint is in the table now; after a loss or a failure the memory may still be ahead of it
        if (event.reason === 'ended' || event.reason === 'released') outcomes.forget(event.shardId);
        toCoordinator({ type: 'shardStopped', shardId: event.shardId, reason: event.reason });
        return events.emit('shard:stopped', {
          shardId: event.shardId,
          reason: event.reason,
          ...(event.error ? { error: deserializeError(event.error) } : {}),
        });
      case 'actor:crashed':
        return events.emit('actor:crashed', {
          id: `${event.shardId}/${event.actor}`,
          actor: event.actor,
          shardId: event.shardId,
          error: deserializeError(event.error),
        });
      case 'actor:restarted':
        return events.emit('actor:restarted', { id: `${event.shardId}/${event.actor}`, actor: event.actor, shardId: event.shardId, restarts: event.restarts });
      case 'supervisor:escalated':
        return events.emit('supervisor:escalated', {
          supervisor: event.supervisor,
          child: event.child,
          ...(event.error ? { error: deserializeError(event.error) } : {}),
        });
      case 'error':
        return emitError(deserializeError(event.error), event.shardId);
      default: {
        const { type, ...payload } = event;
        (events.emit as (t: string, p: unknown) => void)(type, payload);
      }
    }
  };

  /**
   * Leases of threads that died and were not replaced (the system is stopping), and leases handed
   * to this worker that it had not started yet: give them back too. Handoffs it asked for are
   * withdrawn, so their owners keep them rather than handing them to a worker that is gone.
   */
  const releaseOrphans = async () => {
    const requests = (await leases.scan()).filter((l) => l.handoffTo === options.workerId);
    await Promise.all(requests.map((l) => leases.withdrawHandoff(l.leaseKey, options.workerId)));
    // after the withdrawals, so a lease handed over just before one is seen here
    const mine = (await leases.scan()).filter((l) => l.leaseOwner === options.workerId);
    await Promise.all(mine.map((l) => leases.release(l.leaseKey, options.workerId)));
  };

  // batches go from the shard hosts to the pool, their outcomes straight back; main observes them
  const outcomes = new BatchOutcomes(pool, events);
  const mainApi: MainApi = { report };

  const shutdown = (timeoutMs: number) =>
    boundedStop(
      {
        graceful: async () => {
          await root?.stop().catch(emitError);
          await pool.idle();
        },
        abandon: () => {
          const abandoned = pool.abandonAll();
          // threads not yet asked to drain (the coordinator's own stop is stuck) drain now, and release
          for (const handle of slots) void handle?.stop().catch(emitError);
          return abandoned;
        },
        terminateThreads: async () => {
          await Promise.all(slots.map((handle) => handle?.terminate()));
        },
        releaseLeft: () => releaseOrphans().catch(emitError),
        close: async () => {
          const left = await pool.close();
          kinesis.destroy();
          dynamodb.destroy();
          return left;
        },
      },
      timeoutMs,
    );

  try {
    const [stream, consumer] = await Promise.allSettled([checkStream(kinesis, options.streamName), pool.describe()]);
    if (stream.status === 'rejected') throw stream.reason;
    if (consumer.status === 'rejected') throw consumer.reason;
    const capabilities = consumer.value;
    const { retrieval } = options;
    consumerArn = retrieval.mode === 'fanout' ? await ensureStreamConsumer(kinesis, stream.value, retrieval.consumerName) : undefined;
    // only once the stream and the consumer are known good, so a bad start leaves no table behind
    await leases.ensure().catch((error: unknown) => {
      throw new KinesisClientError('LEASE_TABLE_FAILED', `lease table "${options.tableName}": ${(error as Error)?.message}`, { cause: error });
    });

    // threads load in parallel; the coordinator only places shards on threads that answered
    const ready: Promise<void>[] = [];
    let startedUp = false;
    const hostSpecs: ChildSpec[] = slots.map((_, index) => ({
      id: `shard-host-${index}`,
      restart: 'permanent',
      start: async (exited) => {
        const setup = {
          config: hostConfig(options, index, capabilities, consumerArn),
          mainApi,
          submit: (task: PoolTask, tell: (outcome: BatchOutcome) => void) => outcomes.submit(task, tell),
          callFaults: faults.hostData(),
          resourceLimits: options.shardHosts.resourceLimits,
        };
        const handle = new ShardHostHandle(index, setup, (error) => {
          if (slots[index] === handle) slots[index] = undefined;
          emitError(error);
          toCoordinator({ type: 'hostDown', index });
          exited({ kind: 'crash', error });
        });
        slots[index] = handle;
        const answering = handle.ready();
        if (startedUp) {
          // a replacement thread: its dead predecessor's shards are waiting for it
          void answering.then(() => toCoordinator({ type: 'hostUp', index }), () => undefined);
        } else {
          ready.push(answering);
        }
        return {
          stop: async () => {
            await handle.stop().catch(emitError);
            if (slots[index] === handle) slots[index] = undefined;
            toCoordinator({ type: 'hostDown', index });
          },
        };
      },
    }));
    const limits = (l: ResolvedOptions['supervision']['root']) => ({
      intensity: { maxRestarts: l.maxRestarts, withinMs: l.withinMs },
      backoff: l.backoff,
      clock: systemClock,
    });
    /** Supervisor events of the main thread, as system events. */
    const relay = (supervisor: string) => (event: SupervisorEvent) => {
      const actor = event.child.replace(/-\d+$/, '');
      if (event.type === 'crashed' && event.reason.kind === 'crash') {
        events.emit('actor:crashed', { id: event.child, actor, error: asError(event.reason.error) });
      } else if (event.type === 'restarted') {
        events.emit('actor:restarted', { id: event.child, actor, restarts: event.restarts });
      } else if (event.type === 'escalated') {
        const error = event.reason.kind === 'crash' ? { error: asError(event.reason.error) } : {};
        events.emit('supervisor:escalated', { supervisor, child: event.child, ...error });
      }
    };

    let firstTick!: Promise<void>;
    root = new Supervisor(
      [
        {
          id: 'shard-hosts',
          restart: 'permanent',
          start: async (exited) => {
            const hosts = new Supervisor(hostSpecs, {
              strategy: 'one_for_one',
              ...limits(options.supervision.shardHosts),
              onEvent: relay('shard-hosts'),
              onEscalate: (_c, reason) => exited(reason),
            });
            hostSupervisor = hosts;
            await hosts.start();
            return {
              // every thread drains at once rather than one after the other (the supervisor's order)
              stop: async () => {
                await Promise.all(slots.map((handle) => handle?.stop().catch(emitError)));
                await hosts.stop();
              },
            };
          },
        },
        {
          id: 'coordinator',
          restart: 'permanent',
          start: (exited) => {
            let tickDone!: (error?: unknown) => void;
            const first = new Promise<void>((resolve, reject) => (tickDone = (e) => (e ? reject(e) : resolve())));
            firstTick ??= first;
            const ref = runtime.spawn<CoordinatorMessage>(
              'coordinator',
              coordinator({ options, kinesis, leases, hosts: () => slots, onError: emitError, handled: (shardId) => outcomes.handledIn(shardId) }),
              (_ref, reason) => exited(reason),
              { type: 'tick', done: tickDone },
            );
            return {
              stop: () => {
                runtime.send(ref, { type: 'stop' });
                return runtime.stop(ref, { kind: 'shutdown' });
              },
            };
          },
        },
      ],
      {
        strategy: 'one_for_one',
        ...limits(options.supervision.root),
        onEvent: relay('root'),
        onEscalate: (child, reason) => {
          const cause = reason.kind === 'crash' ? reason.error : undefined;
          events.emit('fatal', {
            error: new KinesisClientError('RESTART_LIMIT_EXCEEDED', `the root supervisor gave up: ${child} kept failing; stopping the system`, {
              cause,
              details: { child, maxRestarts: options.supervision.root.maxRestarts, withinMs: options.supervision.root.withinMs },
            }),
          });
          void system.stop();
        },
      },
    );
    await root.start();
    await Promise.all(ready);
    startedUp = true;
    await firstTick;
  } catch (error) {
    await shutdown(DEFAULT_STOP_TIMEOUT_MS).catch(() => undefined);
    throw error;
  }

  const system: System = {
    workerId: options.workerId,
    tableName: options.tableName,
    consumerArn,
    events,
    faults,
    async status() {
      const all = await Promise.all(slots.map((h) => (h?.alive ? h.api.status() : Promise.resolve([]))));
      return all.flat();
    },
    async inspect() {
      const threads = await Promise.all(
        slots.map(async (h) => (h?.alive ? { threadId: h.threadId, shards: await h.api.inspect().catch((): ShardInspection[] => []) } : undefined)),
      );
      return inspectTree({
        workerId: options.workerId,
        root: root!,
        hosts: hostSupervisor,
        coordinatorThread: 0,
        threads,
        pool: { threads: options.processors.concurrency, deaths: outcomes.poolDeaths },
        leases: await leases.scan(),
      });
    },
    stop(stopOptions?: StopOptions) {
      let timeoutMs: number;
      try {
        timeoutMs = stopTimeout(stopOptions);
      } catch (error) {
        return Promise.reject(error);
      }
      stopPromise ??= (async () => {
        const result = await shutdown(timeoutMs);
        events.emit('stopped', { workerId: options.workerId });
        return result;
      })();
      return stopPromise;
    },
  };
  // after the caller's `await createSystem(...)` continuation has had its chance to subscribe
  setImmediate(openEvents);
  return system;
}
