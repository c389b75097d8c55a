/**
 * Which stream a log line, metric or dashboard row is about, in a system that may consume several.
 * Every shard-scoped event carries its own `streamName`; a system with one stream (single-stream
 * mode) also names that stream where an event has none (system-wide events: `stopped`, `fatal`).
 * The system's streams change at run time (`stream:added` / `stream:removed`): `LiveStreams`
 * follows them for the observers that list streams (the dashboard).
 */
import type { Emitter } from 'mitt';
import type { SystemEvents } from './events.js';
import type { ResolvedOptions } from './options.js';

/** The stream named by the system when an event names none: its one stream, none in multi-stream mode. */
export function defaultStream(options: Pick<ResolvedOptions, 'streams' | 'multiStream'>): string | undefined {
  return options.multiStream ? undefined : options.streams[0]?.streamName;
}

/** The event's own stream, else `fallback` (the system's one stream, in single-stream mode). */
export function streamOf(payload: unknown, fallback: string | undefined): string | undefined {
  const own = (payload as { streamName?: unknown } | undefined)?.streamName;
  return typeof own === 'string' ? own : fallback;
}

/** The system's streams now: the configured ones, then as streams are added and removed. */
export class LiveStreams {
  private readonly names: string[];

  constructor(events: Emitter<SystemEvents>, options: Pick<ResolvedOptions, 'streams'>) {
    this.names = options.streams.map((s) => s.streamName);
    events.on('stream:added', (e) => {
      if (!this.names.includes(e.streamName)) this.names.push(e.streamName);
    });
    events.on('stream:removed', (e) => {
      const at = this.names.indexOf(e.streamName);
      if (at >= 0) this.names.splice(at, 1);
    });
  }

  list(): readonly string[] {
    return [...this.names];
  }
}
