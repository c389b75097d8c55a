import type { ShardStopReason } from '@kinesis-client/worker';

/** Everything `system.events` emits (a mitt emitter), by event name. */
export type SystemEvents = {
  'lease:acquired': { shardId: string; workerId: string; leaseCounter: number; checkpoint: string };
  'lease:lost': { shardId: string; reason: string };
  /** `to`: the worker the lease was handed to, when one asked for it (a steal); otherwise it is free. */
  'lease:released': { shardId: string; to?: string };
  'shard:started': { shardId: string; iteratorType: string; startingSequenceNumber: string | undefined };
  'shard:ended': { shardId: string; childShardIds: string[] };
  /** GetRecords or GetShardIterator was throttled; this shard alone waits `delayMs` and tries again. */
  'shard:throttled': { shardId: string; consecutive: number; delayMs: number; error: string };
  'shard:stopped': { shardId: string; reason: ShardStopReason; error?: Error };
  'batch:handled': {
    shardId: string;
    count: number;
    firstSequenceNumber: string;
    lastSequenceNumber: string;
    attempt: number;
    millisBehindLatest: number | undefined;
    durationMs: number;
  };
  'batch:failed': { shardId: string; attempt: number; error: Error; poolDied: boolean };
  checkpoint: { shardId: string; sequenceNumber: string; subSequenceNumber: number };
  /** `id` is the actor's id (`shardId/reader`, `coordinator`, `shard-host-1`); `actor` its role. */
  'actor:crashed': { id: string; actor: string; shardId?: string; error: Error };
  'actor:restarted': { id: string; actor: string; shardId?: string; restarts: number };
  /** A supervisor passed its restart limit and gave up on `child`; its parent decides what follows. */
  'supervisor:escalated': { supervisor: string; child: string; error?: Error };
  error: { error: Error; shardId?: string };
  fatal: { error: Error };
  stopped: { workerId: string };
};

import mittModule, { type Emitter } from 'mitt';

// mitt's types describe a CommonJS default export while Node loads its ESM build: accept both shapes
const mitt = ((mittModule as unknown as { default?: unknown }).default ?? mittModule) as unknown as typeof mittModule.default;

/**
 * The system's emitter. Shards start while createSystem is still resolving, before the caller can
 * subscribe; events of that window are held and delivered once `open()` is called (right after
 * createSystem has returned), so no lease:acquired or shard:started is missed.
 */
export function createEmitter(): { events: Emitter<SystemEvents>; open(): void } {
  const events = mitt<SystemEvents>();
  const emit = events.emit;
  let held: [keyof SystemEvents, unknown][] | undefined = [];
  events.emit = ((type: keyof SystemEvents, payload: unknown) => {
    if (held) held.push([type, payload]);
    else (emit as (t: keyof SystemEvents, p: unknown) => void)(type, payload);
  }) as Emitter<SystemEvents>['emit'];
  return {
    events,
    open() {
      const pending = held ?? [];
      held = undefined;
      for (const [type, payload] of pending) (emit as (t: keyof SystemEvents, p: unknown) => void)(type, payload);
    },
  };
}
