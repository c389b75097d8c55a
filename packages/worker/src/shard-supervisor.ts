import type { ExitReason } from './actor/runtime.js';
import { Supervisor, type ChildSpec, type ChildState } from './actor/supervisor.js';
import { serializeError } from './errors.js';
import { supervisorEvent } from './events.js';
import type { HostEnv } from './host-env.js';
import { LeaseFence } from './lease/fence.js';
import { leaseActor, type LeaseMessage } from './lease/lease-actor.js';
import type { Position } from './position.js';
import type { HostConfig, HostEvent, LeaseSnapshot, ShardActorRole, ShardInspection, ShardStatus, ShardStopReason, StreamStart, SupervisionNode } from './protocol.js';
import { shardKey, type ShardAddress } from './shard-address.js';
import { readerActor, type ReaderMessage, type ReaderStats } from './reader/reader-actor.js';
import { subscriptionReaderActor, type SubscriptionMessage } from './reader/subscription-reader.js';

/**
 * One shard, at its address: a LeaseActor then a ReaderActor under `rest_for_one`, so a reader crash restarts the
 * reader alone and a lease-actor crash restarts both. Losing the lease, reaching SHARD_END and a
 * graceful drain are not failures: they stop the pair normally and are reported once.
 *
 * What must outlive an incarnation lives here: the last handled position (so a restart resumes
 * after it, checkpointed or not) and the lease fence (the lease stays ours for the time its last
 * successful write bought, whichever incarnation sent it).
 *
 * Its id is the address's `shardKey` (`<streamName>/<shardId>`), its actors' ids that plus
 * `/lease` and `/reader`. Its actors see the host's config with this shard's stream in it, and
 * every event they report leaves with that stream.
 */
export class ShardSupervisor {
  /** shardKey(address): this supervisor's id, and its key in the host's shard map. */
  readonly id: string;
  readonly leaseId: string;
  readonly readerId: string;
  private readonly supervisor: Supervisor;
  private readonly stats: ReaderStats = { bufferedRecords: 0, bufferedBytes: 0, millisBehindLatest: undefined, getRecordsCalls: 0, getShardIteratorCalls: 0 };
  private readonly fence: LeaseFence;
  /** Whether a lease actor of this shard has held the lease yet. */
  private acquired = false;
  private stopped = false;
  private draining: Promise<void> | undefined;
  /** Settles once the shard has stopped for any reason; a drain waits on it too (see drain). */
  private readonly finished: Promise<void>;
  private markFinished!: () => void;
  private lastCheckpoint: string | undefined;
  /** The host's, with reports passing through this supervisor on their way out. */
  private readonly env: HostEnv;

  constructor(
    host: HostEnv,
    readonly address: ShardAddress,
    private readonly observed: LeaseSnapshot,
    private readonly onStopped: (id: string, reason: ShardStopReason) => void,
    handled?: Position,
    stream?: StreamStart,
  ) {
    const { shardId, streamName } = address;
    // the actors read their stream from the config: this shard's, which may not be the host's first
    // (and, with fan-out, that stream's consumer)
    const { retrieval } = host.config;
    const config: HostConfig = stream
      ? {
          ...host.config,
          streamName,
          initialTimestamp: stream.initialTimestamp,
          retrieval: retrieval.mode === 'fanout' && stream.consumerArn ? { ...retrieval, consumerArn: stream.consumerArn } : retrieval,
        }
      : host.config;
    // what the actors report passes here first: the status shows the shard's last checkpoint, and every event its stream
    const env: HostEnv = (this.env = {
      ...host,
      config,
      report: (event) => {
        if (event.type === 'checkpoint') this.lastCheckpoint = event.sequenceNumber;
        host.report({ ...event, streamName } as HostEvent);
      },
    });
    this.id = shardKey(address);
    this.leaseId = `${this.id}/lease`;
    if (handled) this.stats.handled = handled;
    this.fence = new LeaseFence({ failoverMs: env.config.lease.failoverMs, safetyMarginMs: env.config.lease.safetyMarginMs });
    this.readerId = `${this.id}/reader`;
    this.lastCheckpoint = observed.checkpoint;
    this.finished = new Promise<void>((resolve) => (this.markFinished = resolve));
    const { runtime } = env;
    const hashKeyRange =
      observed.startingHashKey !== undefined && observed.endingHashKey !== undefined
        ? { startingHashKey: observed.startingHashKey, endingHashKey: observed.endingHashKey }
        : undefined;
    const leaseSpec: ChildSpec = {
      id: this.leaseId,
      role: 'lease',
      restart: 'transient',
      start: (exited) => {
        // until a take has succeeded, a restarted lease actor takes again from the coordinator's
        // snapshot (conditional on its counter, so a take that landed but whose answer was lost is
        // found by the actor's fresh read, not made twice); after that it reads whether it still holds
        const snapshot = this.acquired ? undefined : this.observed;
        const ref = runtime.spawn<LeaseMessage>(
          this.leaseId,
          leaseActor(env, shardId, snapshot, {
            onLost: (reason, wasHeld) => {
              if (wasHeld) env.report({ type: 'lease:lost', shardId, reason });
              void this.finish('lost');
            },
            onAcquired: () => (this.acquired = true),
            onHandoff: (to) => void this.drain(to),
            onEnded: (childShardIds) => {
              env.report({ type: 'shard:ended', shardId, childShardIds });
              void this.finish('ended');
            },
            handled: () => this.stats.handled,
          }, this.fence, observed.leaseKey),
          (_ref, reason) => exited(reason),
          { type: 'acquire' },
        );
        return { stop: (reason: ExitReason) => runtime.stop(ref, reason) };
      },
    };
    const readerSpec: ChildSpec = {
      id: this.readerId,
      role: 'reader',
      restart: 'transient',
      start: (exited) => {
        const onExit = (_ref: unknown, reason: ExitReason) => exited(reason);
        const { retrieval } = config;
        const ref =
          retrieval.mode === 'fanout'
          ? runtime.spawn<SubscriptionMessage>(
              this.readerId,
              subscriptionReaderActor(env, retrieval, shardId, this.leaseId, this.stats, hashKeyRange, this.fence),
              onExit,
            )
          : runtime.spawn<ReaderMessage>(this.readerId, readerActor(env, retrieval, shardId, this.leaseId, this.stats, hashKeyRange, this.fence), onExit);
        const leaseRef = runtime.current<LeaseMessage>(this.leaseId);
        if (leaseRef) runtime.send(leaseRef, { type: 'position', replyTo: ref });
        return { stop: (reason: ExitReason) => runtime.stop(ref, reason) };
      },
    };
    this.supervisor = new Supervisor([leaseSpec, readerSpec], {
      strategy: 'rest_for_one',
      intensity: { maxRestarts: config.supervision.shard.maxRestarts, withinMs: config.supervision.shard.withinMs },
      backoff: config.supervision.shard.backoff,
      clock: runtime.clock,
      onEvent: (event) => {
        const reported = supervisorEvent(event, this.id, { streamName, shardId });
        if (reported) env.report(reported);
      },
      onEscalate: (_child, reason) => {
        const error = reason.kind === 'crash' ? serializeError(reason.error) : undefined;
        // the actors are gone; give the lease back so this or another worker can retry the shard
        void env.leases
          .release(observed.leaseKey, config.workerId)
          .catch(() => false)
          .then(() => this.finish('failed', error));
      },
    });
  }

  start(): Promise<void> {
    return this.supervisor.start();
  }

  /**
   * Graceful: the reader stops fetching, its in-flight batch settles, the lease checkpoints and is
   * released, or handed to `to` when that worker asked for it.
   */
  drain(to?: string): Promise<void> {
    // a handoff and stop() may both ask: one drain, which both wait for
    this.draining ??= this.drainOnce(to);
    return this.draining;
  }

  private async drainOnce(to: string | undefined): Promise<void> {
    if (this.stopped) return;
    const reader = this.env.runtime.current<ReaderMessage>(this.readerId);
    if (reader) await new Promise<void>((done) => (this.env.runtime.send(reader, { type: 'drain', done }) ? undefined : done()));
    const lease = this.env.runtime.current<LeaseMessage>(this.leaseId);
    if (lease) {
      // a lease actor that loses the lease while the release waits in its mailbox exits without
      // answering it; the shard has stopped then, and there is nothing left to release
      const released = new Promise<boolean>((done) => (this.env.runtime.send(lease, { type: 'release', done, ...(to ? { to } : {}) }) ? undefined : done(false)));
      await Promise.race([released, this.finished]);
    }
    await this.finish('released');
  }

  status(): ShardStatus {
    // the supervisor counts incarnations; the runtime's own count is not a second source
    const actors = this.supervisor
      .describe()
      .filter((child) => child.state === 'running')
      .map(({ id, incarnation, restarts }) => ({ id, incarnation, restarts }));
    return {
      streamName: this.address.streamName,
      shardId: this.address.shardId,
      checkpoint: this.lastCheckpoint,
      millisBehindLatest: this.stats.millisBehindLatest,
      bufferedRecords: this.stats.bufferedRecords,
      bufferedBytes: this.stats.bufferedBytes,
      ...(this.stats.subscriptions === undefined ? {} : { subscriptions: this.stats.subscriptions }),
      actors,
    };
  }

  inspect(threadId: number): ShardInspection {
    const actor = (child: ChildState): SupervisionNode => ({
      id: child.id,
      kind: 'actor',
      restart: child.restart,
      incarnation: child.incarnation,
      state: child.state,
      restarts: child.restarts,
      threadId,
      ...(child.lastError === undefined ? {} : { lastError: serializeError(child.lastError) }),
    });
    return {
      streamName: this.address.streamName,
      shardId: this.address.shardId,
      threadId,
      checkpoint: this.lastCheckpoint,
      millisBehindLatest: this.stats.millisBehindLatest,
      bufferedRecords: this.stats.bufferedRecords,
      bufferedBytes: this.stats.bufferedBytes,
      getRecordsCalls: this.stats.getRecordsCalls,
      getShardIteratorCalls: this.stats.getShardIteratorCalls,
      supervisor: {
        id: this.id,
        kind: 'supervisor',
        strategy: this.supervisor.strategy,
        restart: 'transient',
        incarnation: 1,
        state: this.stopped ? 'stopped' : 'running',
        restarts: 0,
        threadId,
        children: this.supervisor.describe().map(actor),
      },
    };
  }

  /** Fault injection: the actor throws inside its next message and its supervisor takes over. */
  crash(role: ShardActorRole): boolean {
    return this.env.runtime.injectCrash(role === 'lease' ? this.leaseId : this.readerId);
  }

  private async finish(reason: ShardStopReason, error?: ReturnType<typeof serializeError>): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.fence.revoke();
    this.markFinished();
    await this.supervisor.stop({ kind: 'normal' });
    this.env.report({ type: 'shard:stopped', shardId: this.address.shardId, reason, ...(error ? { error } : {}) });
    this.onStopped(this.id, reason);
  }
}
