/**
 * The `logger` option: what the library logs reaches any pino-shaped logger with workerId,
 * streamName, shardId and code, including what happens in shard-host threads; the default logger
 * writes warnings and errors only, one line each; no line carries a store's credentials.
 */
import test from 'ava';
import { putRecords, withLocalAws } from '@kinesis-client/examples/testing';
import type { StoreConfig } from '@kinesis-client/worker/lease';
import { redactor } from '@kinesis-client/worker/lease';
import { createEmitter } from '../src/events.js';
import { lineLogger, logEntry, logEvents, type Logger, type LogLevel } from '../src/logging.js';
import { resolveOptions } from '../src/options.js';
import { jsonRecords, startRecordingSystem } from './helpers/recording.js';

const aws = withLocalAws(test);

interface Line {
  level: LogLevel;
  message: string;
  fields: Record<string, unknown>;
}

/** A pino-shaped logger that keeps every entry, its bindings merged in. */
function capturingLogger(lines: Line[], bindings: Record<string, unknown> = {}): Logger {
  const at = (level: LogLevel) => (fields: Record<string, unknown>, message = '') => void lines.push({ level, message, fields: { ...bindings, ...fields } });
  return { child: (more) => capturingLogger(lines, { ...bindings, ...more }), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

async function until(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a failed GetRecords and a crashed reader in a shard-host thread reach the logger with workerId, streamName, shardId and code', async (t) => {
  const lines: Line[] = [];
  const run = await startRecordingSystem(t, aws, 1, { logger: capturingLogger(lines), retrieval: { idleMs: 100 }, workerId: 'logging-worker' });
  await putRecords(aws.kinesis, run.stream, jsonRecords(20));
  await run.deliveries.waitFor(() => run.deliveries.count >= 20);
  const shardId = (await run.system.status())[0]!.shardId;

  await run.system.faults.failCalls({ command: 'GetRecords', error: 'InternalFailure', times: 1 });
  await until(() => lines.some((l) => l.fields.code === 'InternalFailure'), 'the GetRecords failure logged');
  const failed = lines.find((l) => l.fields.code === 'InternalFailure')!;
  t.is(failed.level, 'error');
  t.like(failed.fields, { workerId: 'logging-worker', streamName: run.stream, shardId, code: 'InternalFailure' });
  t.regex(failed.message, /GetRecords failed with InternalFailure/);
  t.like(failed.fields.err, { type: 'InternalFailure', code: 'InternalFailure' });

  await run.system.faults.crashActor(shardId, 'reader');
  await until(() => lines.some((l) => l.message.endsWith('restarted') && l.fields.actor === 'reader'), 'the reader restart logged');
  const crashed = lines.find((l) => l.level === 'warn' && l.fields.actor === 'reader')!;
  t.like(crashed.fields, { workerId: 'logging-worker', streamName: run.stream, shardId });
  t.regex(crashed.message, /reader crashed: /);

  t.true(lines.some((l) => l.level === 'info' && l.message === 'lease acquired' && l.fields.shardId === shardId));
  await run.stop();
  t.true(lines.some((l) => l.message === 'stopped' && l.fields.workerId === 'logging-worker'));
  for (const line of lines) t.like(line.fields, { workerId: 'logging-worker', streamName: run.stream });
});

test('the default logger writes warnings and errors only, one line each, with its bindings', (t) => {
  const written: string[] = [];
  const log = lineLogger((line) => written.push(line)).child({ workerId: 'w 1', streamName: 's' });
  log.debug({ shardId: 'a' }, 'not shown');
  log.info({ shardId: 'a' }, 'not shown');
  log.warn({ shardId: 'shardId-1', code: 'LEASE_EXPIRED', err: { stack: 'x\ny' } }, 'lease lost:\nrenewal failed');
  log.error({ shardId: 'shardId-2' }, 'boom');
  t.is(written.length, 2);
  for (const line of written) t.is(line.indexOf('\n'), line.length - 1, 'one line');
  t.regex(written[0]!, /^\S+Z WARN kinesis-client: lease lost: renewal failed workerId="w 1" streamName=s shardId=shardId-1 code=LEASE_EXPIRED\n$/);
  t.regex(written[1]!, / ERROR kinesis-client: boom .*shardId=shardId-2/);
});

test('no credential of the store reaches a log entry: message, err.message and err.stack are redacted', (t) => {
  const store: StoreConfig = { type: 'postgres', connectionString: 'postgres://app:s3cr%3Dt@db.example:5432/leases', schema: 'public', table: 'leases' };
  const leak = new Error('connect failed for postgres://app:s3cr%3Dt@db.example:5432/leases (password s3cr=t)');
  (leak as Error & { code?: string }).code = 'ECONNREFUSED';
  for (const [type, payload] of [
    ['error', { error: leak, shardId: 'shardId-1' }],
    ['checkpoint:failed', { error: leak, shardId: 'shardId-1' }],
    ['actor:crashed', { id: 'x', actor: 'lease', shardId: 'shardId-1', error: leak }],
    ['batch:failed', { shardId: 'shardId-1', attempt: 1, error: leak, poolDied: false }],
  ] as const) {
    const entry = logEntry(type, payload, redactor(store))!;
    const text = JSON.stringify(entry);
    t.false(text.includes('s3cr'), `${type}: no password in ${text}`);
    t.true(text.includes('ECONNREFUSED'), `${type}: the code is kept`);
  }
});

test('each line names the stream of its event: two streams of one system apart, a single-stream system its stream on every line', (t) => {
  const lines: Line[] = [];
  const { events, open } = createEmitter();
  open();
  const store: StoreConfig = { type: 'dynamodb', tableName: 'app' };
  logEvents({ events, logger: capturingLogger(lines), workerId: 'w1', defaultStream: undefined, store });
  // the same shard id in two streams; the payloads as the engine emits them (streamName on each)
  const acquired = (streamName: string) => ({ shardId: 'shardId-000000000000', workerId: 'w1', leaseCounter: 1, checkpoint: 'TRIM_HORIZON', streamName });
  events.emit('lease:acquired', acquired('orders') as never);
  events.emit('lease:acquired', acquired('payments') as never);
  events.emit('stopped', { workerId: 'w1' });
  t.deepEqual(
    lines.map((l) => [l.message, l.fields.workerId, l.fields.streamName, l.fields.shardId]),
    [
      ['lease acquired', 'w1', 'orders', 'shardId-000000000000'],
      ['lease acquired', 'w1', 'payments', 'shardId-000000000000'],
      ['stopped', 'w1', undefined, undefined],
    ],
    'several streams: the stream of the event, none for a system-wide line',
  );
  // one stream: a line whose event names none still carries it
  t.like(logEntry('stopped', { workerId: 'w1' }, undefined, 'orders')!.fields, { streamName: 'orders' });
  t.like(logEntry('lease:lost', { shardId: 's', reason: 'expired', streamName: 'payments' }, undefined, 'orders')!.fields, { streamName: 'payments', shardId: 's' });
  const written: string[] = [];
  logEvents({ events, logger: lineLogger((line) => written.push(line)), workerId: 'w2', defaultStream: undefined, store });
  events.emit('lease:lost', { shardId: 'shardId-000000000001', reason: 'expired', streamName: 'payments' } as never);
  t.regex(written[0]!, / WARN kinesis-client: lease lost: expired workerId=w2 streamName=payments shardId=shardId-000000000001 reason=expired\n$/);
});

test('the logger option is checked like every other option', (t) => {
  const base = { streamName: 's', appName: 'app', consumer: 'c.mjs' };
  t.throws(() => resolveOptions({ ...base, logger: console }), { message: /logger.*pino-compatible/ });
  t.throws(() => resolveOptions({ ...base, meterProvider: {} }), { message: /meterProvider.*MeterProvider/ });
  t.notThrows(() => resolveOptions({ ...base, logger: capturingLogger([]) }));
});
