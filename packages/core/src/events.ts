import type { EventPayloads } from '@kinesis-client/worker/internal';

/** Everything `system.events` emits (a mitt emitter), by event name; defined once, in the worker package's events module. */
export type SystemEvents = EventPayloads<Error>;

import mittModule, { type Emitter, type Handler, type WildcardHandler } from 'mitt';
import { KinesisClientError } from '@kinesis-client/worker';

// mitt's types describe a CommonJS default export while Node loads its ESM build: accept both shapes
const mitt = ((mittModule as unknown as { default?: unknown }).default ?? mittModule) as unknown as typeof mittModule.default;

type EventName = keyof SystemEvents;
const messageOf = (thrown: unknown) => (thrown instanceof Error ? thrown.message : String(thrown));
// the kinds of event whose error listener threw, already warned about: once per process, however many systems
const warned = new Set<string>();

/**
 * The system's emitter, the one place where listeners run. Two things it adds to mitt:
 *
 * - Isolation: a listener that throws (or returns a promise that rejects) never reaches the code
 *   that emitted, so a listener bug cannot fail a batch that succeeded, kill a shard-host thread
 *   or crash the coordinator. It is reported as an `error` event (LISTENER_FAILED, `cause` what
 *   it threw, `details.event` the event), and when an `error` listener itself throws, as a process
 *   warning, once per kind of event and process so a listener failing on every call cannot flood the log.
 * - Start-up: shards start while createSystem is still resolving, before the caller can
 *   subscribe; events of that window are held and delivered once `open()` is called (right after
 *   createSystem has returned), so no lease:acquired or shard:started is missed.
 */
export function createEmitter(): { events: Emitter<SystemEvents>; open(): void } {
  const events = mitt<SystemEvents>();

  const failed = (type: EventName, thrown: unknown, payload: unknown): void => {
    if (type !== 'error') {
      const error = new KinesisClientError('LISTENER_FAILED', `a listener of "${type}" threw: ${messageOf(thrown)}`, { cause: thrown, details: { event: type } });
      return deliver('error', { error });
    }
    // an error listener failed: nothing is left to report to but the process
    const reported = (payload as SystemEvents['error'] | undefined)?.error as Error & { details?: { event?: unknown } };
    const about: string = reported instanceof KinesisClientError && reported.code === 'LISTENER_FAILED' ? String(reported.details.event) : 'error';
    if (warned.has(about)) return;
    warned.add(about);
    process.emitWarning(
      `kinesis-client: an "error" listener threw (${messageOf(thrown)}) while reporting: ${reported?.message}. Further failures of this kind are not reported.`,
      { type: 'KinesisClientWarning', code: 'LISTENER_FAILED', ...(thrown instanceof Error && thrown.stack ? { detail: thrown.stack } : {}) },
    );
  };

  const call = (type: EventName, payload: unknown, run: () => unknown): void => {
    try {
      const result = run();
      if (result && typeof (result as Promise<unknown>).then === 'function') (result as Promise<unknown>).then(undefined, (thrown) => failed(type, thrown, payload));
    } catch (thrown) {
      failed(type, thrown, payload);
    }
  };

  // a copy of each list, as mitt does, so a listener that subscribes or unsubscribes does not skip another
  const deliver = (type: EventName, payload: unknown): void => {
    for (const handler of [...((events.all.get(type) ?? []) as Handler<unknown>[])]) call(type, payload, () => handler(payload));
    for (const handler of [...((events.all.get('*') ?? []) as WildcardHandler<SystemEvents>[])]) call(type, payload, () => handler(type, payload as never));
  };

  let held: [EventName, unknown][] | undefined = [];
  events.emit = ((type: EventName, payload: unknown) => {
    if (held) held.push([type, payload]);
    else deliver(type, payload);
  }) as Emitter<SystemEvents>['emit'];
  return {
    events,
    open() {
      const pending = held ?? [];
      held = undefined;
      for (const [type, payload] of pending) deliver(type, payload);
    },
  };
}
