/**
 * Every event of the system, defined once. `EventPayloads<E>` is generic over how an error travels:
 * `SerializedError` inside and between threads, `Error` once the main thread hands it to listeners
 * (`SystemEvents` in core). `HostEvent` is the part a shard-host thread emits, as a tagged union
 * for the wire; the main thread's bridge revives its errors and emits it unchanged otherwise.
 */
import type { SupervisorEvent } from './actor/supervisor.js';
import { serializeError, type SerializedError } from './errors.js';

export type ShardStopReason = 'released' | 'lost' | 'ended' | 'failed';

/** What every shard-scoped event carries: the shard, and the stream it belongs to. */
type At = { streamName: string; shardId: string };

export type EventPayloads<E> = {
  'lease:acquired': At & { workerId: string; leaseCounter: number; checkpoint: string };
  'lease:lost': At & { reason: string };
  /** `to`: the worker the lease was handed to, when one asked for it (a steal); otherwise it is free. */
  'lease:released': At & { to?: string };
  'shard:started': At & { iteratorType: string; startingSequenceNumber: string | undefined };
  'shard:ended': At & { childShardIds: string[] };
  /** GetRecords or GetShardIterator was throttled; this shard alone waits `delayMs` and tries again. */
  'shard:throttled': At & { consecutive: number; delayMs: number; error: string };
  'shard:stopped': At & { reason: ShardStopReason; error?: E };
  'batch:handled': At & {
    count: number;
    firstSequenceNumber: string;
    lastSequenceNumber: string;
    attempt: number;
    millisBehindLatest: number | undefined;
    durationMs: number;
  };
  'batch:failed': At & { attempt: number; error: E; poolDied: boolean };
  checkpoint: At & { sequenceNumber: string; subSequenceNumber: number };
  /** A checkpoint write threw (the store failed or timed out); retried with backoff. Its `error` event follows. */
  'checkpoint:failed': At & { error: E };
  /** The reader replaced its shard iterator: it expired (ExpiredIteratorException) or sat unused past iteratorMaxAgeMs. */
  'iterator:renewed': At & { reason: 'expired' | 'aged' };
  /** `id` is the actor's id (`<streamName>/<shardId>/reader`, `coordinator` or with `streams` `<streamName>/coordinator`, `shard-host-1`); `actor` its role. */
  'actor:crashed': { id: string; actor: string; streamName?: string; shardId?: string; error: E };
  'actor:restarted': { id: string; actor: string; streamName?: string; shardId?: string; restarts: number };
  /** A supervisor passed its restart limit and gave up on `child`; its parent decides what follows. */
  'supervisor:escalated': { supervisor: string; child: string; error?: E };
  /** `streamName` when the error is one stream's (and `shardId` when one shard's). */
  error: { error: E; streamName?: string; shardId?: string };
  /** A stream was added at run time (`system.addStream`); its coordinator runs. */
  'stream:added': { streamName: string };
  /** A stream was removed (`system.removeStream`): its shards drained, checkpointed and released. */
  'stream:removed': { streamName: string; leasesDeleted: boolean };
  fatal: { error: E };
  stopped: { workerId: string };
};

/**
 * The events a shard-host thread emits (the rest come from the main thread itself), and whether
 * each carries a `SerializedError` in `error` that the main thread revives into an `Error`.
 */
export const HOST_EVENTS = {
  'lease:acquired': 'plain',
  'lease:lost': 'plain',
  'lease:released': 'plain',
  'shard:started': 'plain',
  'shard:ended': 'plain',
  'shard:throttled': 'plain',
  'shard:stopped': 'error',
  checkpoint: 'plain',
  'checkpoint:failed': 'error',
  'iterator:renewed': 'plain',
  'actor:crashed': 'error',
  'actor:restarted': 'plain',
  'supervisor:escalated': 'error',
  error: 'error',
} as const satisfies Partial<Record<keyof EventPayloads<unknown>, 'plain' | 'error'>>;

export type HostEventName = keyof typeof HOST_EVENTS;
type Wire = EventPayloads<SerializedError>;
export type HostEvent = { [K in HostEventName]: { type: K } & Wire[K] }[HostEventName];
/** A host event as a shard's actors report it: their shard supervisor adds the stream. */
export type ShardReport = HostEvent extends infer T ? (T extends { streamName: string } ? Omit<T, 'streamName'> & { streamName?: string } : T) : never;

/**
 * The one mapping from a supervisor's event to a system event, on whichever thread the supervisor
 * runs: the child's role comes from its spec, never parsed back out of its id. Restarts without a
 * crash (a shutdown) are not reported; an escalation is reported by `supervisor`.
 */
export function supervisorEvent(event: SupervisorEvent, supervisor: string, at?: { streamName: string; shardId?: string }): HostEvent | undefined {
  const where = at ?? {};
  switch (event.type) {
    case 'crashed':
      return event.reason.kind === 'crash'
        ? { type: 'actor:crashed', id: event.child, actor: event.role, ...where, error: serializeError(event.reason.error) }
        : undefined;
    case 'restarted':
      return { type: 'actor:restarted', id: event.child, actor: event.role, ...where, restarts: event.restarts };
    case 'escalated':
      return { type: 'supervisor:escalated', supervisor, child: event.child, ...(event.reason.kind === 'crash' ? { error: serializeError(event.reason.error) } : {}) };
  }
}
