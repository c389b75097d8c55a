import { KinesisClientError } from '@kinesis-client/worker';
import { Supervisor, systemClock, type ActorRuntime, type ChildSpec, type ExitReason } from '@kinesis-client/worker/actor';
import { coordinator, type CoordinatorDeps, type CoordinatorMessage } from './coordinator.js';
import type { EventBridge } from './event-bridge.js';
import type { ResolvedOptions } from './options.js';
import type { ShardHosts } from './shard-hosts.js';

export interface SystemTreeDeps {
  options: ResolvedOptions;
  runtime: ActorRuntime;
  hosts: ShardHosts;
  bridge: EventBridge;
  coordinator: Omit<CoordinatorDeps, 'hosts'>;
  /** The root gave up: the system must stop. */
  onGiveUp(error: KinesisClientError): void;
}

const limits = (l: ResolvedOptions['supervision']['root']) => ({
  intensity: { maxRestarts: l.maxRestarts, withinMs: l.withinMs },
  backoff: l.backoff,
  clock: systemClock,
});

/**
 * The main thread's supervision tree:
 *
 *     root (one_for_one)
 *     ├── shard-hosts (one_for_one) ── shard-host-0 … shard-host-N   (worker threads)
 *     └── coordinator                                               (actor)
 *
 * plus the consumer pool beside it, whose threads Piscina replaces by itself. `start()` resolves
 * once every first-generation thread answers and the coordinator's first cycle placed this
 * worker's shards; its failure rejects createSystem.
 */
export class SystemTree {
  readonly root: Supervisor;
  /** The shard-hosts supervisor while it runs. */
  hostSupervisor: Supervisor | undefined;
  private firstTick: Promise<void> | undefined;

  constructor(private readonly deps: SystemTreeDeps) {
    const { options, bridge } = deps;
    this.root = new Supervisor([this.shardHostsSpec(), this.coordinatorSpec()], {
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
    await this.firstTick;
  }

  /** To the coordinator's current incarnation; dropped while it restarts (it rescans when it starts). */
  toCoordinator(message: CoordinatorMessage): void {
    const ref = this.deps.runtime.current<CoordinatorMessage>('coordinator');
    if (ref) this.deps.runtime.send(ref, message);
  }

  stop(): Promise<void> {
    return this.root.stop();
  }

  private shardHostsSpec(): ChildSpec {
    const { options, hosts, bridge } = this.deps;
    return {
      id: 'shard-hosts',
      role: 'shard-hosts',
      restart: 'permanent',
      start: async (exited) => {
        const supervisor = new Supervisor(hosts.specs(), {
          strategy: 'one_for_one',
          ...limits(options.supervision.shardHosts),
          onEvent: bridge.supervisor('shard-hosts'),
          onEscalate: (_child, reason) => exited(reason),
        });
        this.hostSupervisor = supervisor;
        await supervisor.start();
        return {
          stop: async () => {
            await hosts.stopAll();
            await supervisor.stop();
          },
        };
      },
    };
  }

  private coordinatorSpec(): ChildSpec {
    const { runtime, hosts } = this.deps;
    return {
      id: 'coordinator',
      role: 'coordinator',
      restart: 'permanent',
      start: (exited: (reason: ExitReason) => void) => {
        let tickDone!: (error?: unknown) => void;
        const first = new Promise<void>((resolve, reject) => (tickDone = (e) => (e ? reject(e) : resolve())));
        this.firstTick ??= first;
        const ref = runtime.spawn<CoordinatorMessage>('coordinator', coordinator({ ...this.deps.coordinator, hosts }), (_ref, reason) => exited(reason), {
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
