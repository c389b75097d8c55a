import type { Emitter } from 'mitt';
import type { SupervisorEvent } from '@kinesis-client/worker/actor';
import { HOST_EVENTS, deserializeError, supervisorEvent, type HostEvent } from '@kinesis-client/worker/internal';
import type { SystemEvents } from './events.js';

const asError = (e: unknown): Error => (e instanceof Error ? e : deserializeError(e as never));

/**
 * The one place where what happens in threads and supervisors becomes a `SystemEvents` event.
 * Both come as `HostEvent`s (shard hosts send them; the main thread's supervisors map theirs with
 * the same `supervisorEvent` the hosts use), and `HOST_EVENTS` says which carry an error to revive.
 */
export class EventBridge {
  constructor(private readonly events: Emitter<SystemEvents>) {}

  host(event: HostEvent): void {
    const { type, ...payload } = event;
    const revived = HOST_EVENTS[type] === 'error' && 'error' in payload && payload.error ? { ...payload, error: asError(payload.error) } : payload;
    (this.events.emit as (type: string, payload: unknown) => void)(type, revived);
  }

  /** An `onEvent` for a main-thread supervisor named `name`. */
  supervisor(name: string): (event: SupervisorEvent) => void {
    return (event) => {
      const mapped = supervisorEvent(event, name);
      if (mapped) this.host(mapped);
    };
  }

  error(error: unknown, where?: { streamName?: string; shardId?: string }): void {
    const { streamName, shardId } = where ?? {};
    this.events.emit('error', { error: asError(error), ...(streamName ? { streamName } : {}), ...(shardId ? { shardId } : {}) });
  }
}
