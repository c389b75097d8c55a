import { KinesisClientError } from '@kinesis-client/worker';
import { Supervisor, systemClock, type ActorRuntime, type ChildSpec, type ExitReason } from '@kinesis-client/worker/actor';
import { coordinator, type CoordinatorDeps, type CoordinatorMessage } from './coordinator.js';
import type { EventBridge } from './event-bridge.js';
import type { ResolvedOptions } from './options.js';
import type { ShardHosts } from './shard-hosts.js';
import type { StreamUnit } from './stream-unit.js';

export interface SystemTreeDeps {
  options: ResolvedOptions;
  runtime: ActorRuntime;
  hosts: ShardHosts;
  bridge: EventBridge;
  coordinator: Omit<CoordinatorDeps, 'hosts' | 'stream' | 'streams' | 'listings' | 'turn'>;
  /** The streams at start. */
  streams: readonly StreamUnit[];
  /** The root gave up: the system must stop. */
  onGiveUp(error: KinesisClientError): void;
}

const limits = (l: ResolvedOptions['supervision']['root']) => ({
  intensity: { maxRestarts: l.maxRestarts, withinMs: l.withinMs },
  backoff: l.backoff,
  clock: systemClock,
});

/** One piece of work at a time, in the order asked: the streams' coordinators take turns planning. */
function turns(): <T>(work: () => Promise<T>) => Promise<T> {
  let last: Promise<unknown> = Promise.resolve();
  return (work) => {
    const next = last.then(work, work);
    last = next.catch(() => undefined);
    return next;
  };
}

/**
 * The main thread's supervision tree:
 *
 *     root (one_for_one)
 *     ├── shard-hosts (one_for_one) ── shard-host-0 … shard-host-N   (worker threads)
 *     └── coordinator                                               (actor; single-stream mode)
 *     └── streams (one_for_one) ── <streamName>/coordinator …        (multi-stream mode: one per stream)
 *
 * plus the consumer pool beside it, whose threads Piscina replaces by itself. `start()` resolves
 * once every first-generation thread answers and the coordinator's first cycle placed this
 * worker's shards; its failure rejects createSystem.
 */
export class SystemTree {
  readonly root: Supervisor;
  /** The shard-hosts supervisor while it runs. */
  hostSupervisor: Supervisor | undefined;
  /** The streams supervisor while it runs (multi-stream mode). */
  streamSupervisor: Supervisor | undefined;
  /** The streams the coordinators run for, by name. */
  readonly units = new Map<string, StreamUnit>();
  private readonly firstTicks = new Map<string, Promise<void>>();
  private readonly listings = new Map<string, ReadonlySet<string>>();
  private readonly turn = turns();

  constructor(private readonly deps: SystemTreeDeps) {
    const { options, bridge } = deps;
    for (const unit of deps.streams) this.units.set(unit.streamName, unit);
    const coordinators = options.multiStream ? [this.streamsSpec()] : [this.coordinatorSpec(deps.streams[0]!)];
    this.root = new Supervisor([this.shardHostsSpec(), ...coordinators], {
      strategy: 'one_for_one',
      ...limits(options.supervision.root),
      onEvent: bridge.supervisor('root'),
      onEscalate: (child, reason) => {
        const { maxRestarts, withinMs } = options.supervision.root;
        deps.onGiveUp(
          new KinesisClientError('RESTART_LIMIT_EXCEEDED', `the root supervisor gave up: ${child} kept failing; stopping the system`, {
            cause: reason.kind === 'crash' ? reason.error : undefined,
            details: { child, maxRestarts, withinMs },
          }),
        );
      },
    });
  }

  async start(): Promise<void> {
    await this.root.start();
    await this.deps.hosts.ready();
    await Promise.all(this.firstTicks.values());
  }

  /** To the stream's coordinator's current incarnation; dropped while it restarts (it rescans when it starts). */
  toCoordinator(streamName: string, message: CoordinatorMessage): void {
    const ref = this.deps.runtime.current<CoordinatorMessage>(this.coordinatorId(streamName));
    if (ref) this.deps.runtime.send(ref, message);
  }

  /** To every stream's coordinator. */
  toCoordinators(message: CoordinatorMessage): void {
    for (const name of this.units.keys()) this.toCoordinator(name, message);
  }

  /** Starts a coordinator for a stream (multi-stream mode); resolves after its first cycle. */
  async addStream(unit: StreamUnit): Promise<void> {
    this.units.set(unit.streamName, unit);
    await this.streamSupervisor?.addChild(this.coordinatorSpec(unit));
    await this.firstTicks.get(this.coordinatorId(unit.streamName));
  }

  /** Stops a stream's coordinator, so nothing of the stream is taken any more; its shards are the caller's to drain. */
  async removeStream(streamName: string): Promise<void> {
    await this.streamSupervisor?.removeChild(this.coordinatorId(streamName));
    this.units.delete(streamName);
    this.listings.delete(streamName);
    this.firstTicks.delete(this.coordinatorId(streamName));
  }

  private coordinatorId(streamName: string): string {
    return this.deps.options.multiStream ? `${streamName}/coordinator` : 'coordinator';
  }

  stop(): Promise<void> {
    return this.root.stop();
  }

  private shardHostsSpec(): ChildSpec {
    const { options, hosts } = this.deps;
    return this.supervisorSpec('shard-hosts', () => hosts.specs(), options.supervision.shardHosts, (supervisor) => {
      this.hostSupervisor = supervisor;
      // the threads drain (final checkpoints, releases) before the supervisor ends them
      return () => hosts.stopAll();
    });
  }

  private streamsSpec(): ChildSpec {
    return this.supervisorSpec('streams', () => [...this.units.values()].map((unit) => this.coordinatorSpec(unit)), this.deps.options.supervision.root, (supervisor) => {
      this.streamSupervisor = supervisor;
      return async () => undefined;
    });
  }

  /** A one_for_one supervisor as a child of the root; `started` keeps it and says what to do before it stops. */
  private supervisorSpec(id: string, specs: () => ChildSpec[], limit: ResolvedOptions['supervision']['root'], started: (s: Supervisor) => () => Promise<void>): ChildSpec {
    const { bridge } = this.deps;
    return {
      id,
      role: id,
      restart: 'permanent',
      start: async (exited) => {
        const supervisor = new Supervisor(specs(), {
          strategy: 'one_for_one',
          ...limits(limit),
          onEvent: bridge.supervisor(id),
          onEscalate: (_child, reason) => exited(reason),
        });
        const beforeStop = started(supervisor);
        await supervisor.start();
        return {
          stop: async () => {
            await beforeStop();
            await supervisor.stop();
          },
        };
      },
    };
  }

  private coordinatorSpec(stream: StreamUnit): ChildSpec {
    const { runtime, hosts } = this.deps;
    const id = this.coordinatorId(stream.streamName);
    return {
      id,
      role: 'coordinator',
      restart: 'permanent',
      start: (exited: (reason: ExitReason) => void) => {
        let tickDone!: (error?: unknown) => void;
        const first = new Promise<void>((resolve, reject) => (tickDone = (e) => (e ? reject(e) : resolve())));
        if (!this.firstTicks.has(id)) this.firstTicks.set(id, first);
        const deps = { ...this.deps.coordinator, hosts, stream, streams: () => [...this.units.values()], listings: this.listings, turn: this.turn };
        const ref = runtime.spawn<CoordinatorMessage>(id, coordinator(deps), (_ref, reason) => exited(reason), {
          type: 'tick',
          done: tickDone,
        });
        return {
          stop: () => {
            runtime.send(ref, { type: 'stop' });
            return runtime.stop(ref, { kind: 'shutdown' });
          },
        };
      },
    };
  }
}
