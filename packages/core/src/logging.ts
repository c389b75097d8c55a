/**
 * The system's log: one entry per event worth a line, written to the `logger` option (anything
 * shaped like pino: `child(bindings)` and `debug/info/warn/error(object, message)`), or by default
 * warnings and errors only, one line each on stderr. What happens in the shard-host threads
 * reaches it the way every event does (host -> event bridge -> `system.events`), so threads never
 * hold a logger. Error text passes through the store's redactor first: no connection-string
 * credential, no URL user info, ever.
 */
import type { Emitter } from 'mitt';
import { redactor, type StoreConfig } from '@kinesis-client/worker/lease';
import type { SystemEvents } from './events.js';
import { streamOf } from './stream-names.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** What the `logger` option takes: pino's shape, which most Node loggers offer or wrap. */
export interface Logger {
  child(bindings: Record<string, unknown>): Logger;
  debug(fields: Record<string, unknown>, message?: string): void;
  info(fields: Record<string, unknown>, message?: string): void;
  warn(fields: Record<string, unknown>, message?: string): void;
  error(fields: Record<string, unknown>, message?: string): void;
}

export interface LogEntry {
  level: LogLevel;
  fields: Record<string, unknown>;
  message: string;
}

type Redact = (text: string) => string;

/** `code`: the library's stable code, else the AWS (or Node) error name. */
function errorFields(error: Error, redact: Redact): Record<string, unknown> {
  const raw = (error as { code?: unknown }).code;
  const code = typeof raw === 'string' ? raw : error.name && error.name !== 'Error' ? error.name : undefined;
  return {
    ...(code ? { code } : {}),
    err: { type: error.name, message: redact(error.message), ...(code ? { code } : {}), ...(error.stack ? { stack: redact(error.stack) } : {}) },
  };
}

const at = (shardId: string | undefined) => (shardId === undefined ? {} : { shardId });

/**
 * The entry for one event, or none, its `streamName` first: the event's own, else `defaultStream`
 * (a single-stream system's one stream). Pure, so what is logged at which level is decided in one place.
 */
export function logEntry(type: keyof SystemEvents, payload: unknown, redact: Redact = (t) => t, defaultStream?: string): LogEntry | undefined {
  const entry = describe(type, payload, redact);
  const streamName = streamOf(payload, defaultStream);
  return entry && streamName !== undefined ? { ...entry, fields: { streamName, ...entry.fields } } : entry;
}

function describe(type: keyof SystemEvents, payload: unknown, redact: Redact): LogEntry | undefined {
  const e = payload as Record<string, unknown> & { shardId?: string; error?: Error };
  const failure = e.error instanceof Error ? errorFields(e.error, redact) : {};
  const why = e.error instanceof Error ? `: ${redact(e.error.message)}` : '';
  switch (type) {
    case 'lease:acquired':
      return { level: 'info', fields: { shardId: e.shardId, leaseCounter: e.leaseCounter, checkpoint: e.checkpoint }, message: 'lease acquired' };
    case 'lease:lost':
      return { level: 'warn', fields: { shardId: e.shardId, reason: e.reason }, message: `lease lost: ${String(e.reason)}` };
    case 'lease:released':
      return { level: 'info', fields: { shardId: e.shardId, ...(e.to ? { to: e.to } : {}) }, message: e.to ? `lease handed over to ${String(e.to)}` : 'lease released' };
    case 'shard:started':
      return { level: 'info', fields: { shardId: e.shardId, iteratorType: e.iteratorType, startingSequenceNumber: e.startingSequenceNumber }, message: `shard started (${String(e.iteratorType)})` };
    case 'shard:ended':
      return { level: 'info', fields: { shardId: e.shardId, childShardIds: e.childShardIds }, message: 'shard ended' };
    case 'shard:stopped':
      return { level: e.reason === 'failed' ? 'warn' : 'info', fields: { shardId: e.shardId, reason: e.reason, ...failure }, message: `shard stopped (${String(e.reason)})${why}` };
    case 'shard:throttled':
      return { level: 'info', fields: { shardId: e.shardId, code: e.error, consecutive: e.consecutive, delayMs: e.delayMs }, message: `throttled (${String(e.error)}), waiting ${String(e.delayMs)} ms` };
    case 'iterator:renewed':
      return { level: 'info', fields: { shardId: e.shardId, reason: e.reason }, message: `shard iterator renewed (${String(e.reason)})` };
    case 'batch:handled':
      return { level: 'debug', fields: { shardId: e.shardId, count: e.count, attempt: e.attempt, durationMs: e.durationMs }, message: 'batch handled' };
    case 'batch:failed':
      return { level: 'warn', fields: { shardId: e.shardId, attempt: e.attempt, poolDied: e.poolDied, ...failure }, message: `batch attempt ${String(e.attempt)} failed${why}` };
    case 'checkpoint':
      return { level: 'debug', fields: { shardId: e.shardId, sequenceNumber: e.sequenceNumber }, message: 'checkpoint written' };
    case 'checkpoint:failed':
      // the `error` event that follows logs the failure itself
      return { level: 'debug', fields: { shardId: e.shardId, ...failure }, message: `checkpoint failed${why}` };
    case 'actor:crashed':
      return { level: 'warn', fields: { ...at(e.shardId), actor: e.actor, id: e.id, ...failure }, message: `${String(e.id)} crashed${why}` };
    case 'actor:restarted':
      return { level: 'info', fields: { ...at(e.shardId), actor: e.actor, id: e.id, restarts: e.restarts }, message: `${String(e.id)} restarted` };
    case 'supervisor:escalated':
      return { level: 'error', fields: { supervisor: e.supervisor, child: e.child, ...failure }, message: `${String(e.supervisor)} gave up on ${String(e.child)}${why}` };
    case 'error':
      return { level: 'error', fields: { ...at(e.shardId), ...failure }, message: redact(e.error?.message ?? 'error') };
    case 'fatal':
      return { level: 'error', fields: failure, message: `system stopping${why}` };
    case 'stopped':
      return { level: 'info', fields: {}, message: 'stopped' };
    default:
      return undefined;
  }
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function shown(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value;
  return JSON.stringify(value) ?? String(value);
}

/**
 * The default logger: entries at `minLevel` (warn) and above, one line each on stderr:
 * `<ISO time> WARN kinesis-client: <message> key=value ...` (no stack; `err` as its message).
 */
export function lineLogger(write: (line: string) => void = (line) => void process.stderr.write(line), minLevel: LogLevel = 'warn', bindings: Record<string, unknown> = {}): Logger {
  const emit = (level: LogLevel) => (fields: Record<string, unknown>, message = '') => {
    if (LEVELS[level] < LEVELS[minLevel]) return;
    const all = { ...bindings, ...fields };
    delete all.err;
    const pairs = Object.entries(all)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${shown(v)}`);
    write(`${new Date().toISOString()} ${level.toUpperCase()} kinesis-client: ${[message, ...pairs].join(' ').replace(/\s*\n\s*/g, ' ')}\n`);
  };
  return {
    child: (more) => lineLogger(write, minLevel, { ...bindings, ...more }),
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
  };
}

export interface LoggingDeps {
  events: Emitter<SystemEvents>;
  logger: Logger | undefined;
  workerId: string;
  /** A single-stream system's stream, for lines of events that name none; undefined with several streams. */
  defaultStream: string | undefined;
  /** Whose credentials never reach a line. */
  store: StoreConfig;
}

/** Logs every event worth a line from now on; the `logger` gets workerId bound once, each line the stream of its event. */
export function logEvents({ events, logger, workerId, defaultStream, store }: LoggingDeps): Logger {
  const log = (logger ?? lineLogger()).child({ workerId });
  const redact = redactor(store);
  events.on('*', (type, payload) => {
    const entry = logEntry(type, payload, redact, defaultStream);
    if (entry) log[entry.level](entry.fields, entry.message);
  });
  return log;
}
