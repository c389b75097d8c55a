/**
 * The `store` option at start and under faults, through createSystem: bad store options are
 * INVALID_OPTION; an unreachable server, wrong credentials, a table or prefix of another shape
 * each reject with their own code and a message saying what to fix; a server that drops every
 * connection while running is a retried fault. A connection string's password appears in no
 * error, stack, cause or event.
 */
import { inspect } from 'node:util';
import test from 'ava';
import { createSystem, type SystemOptions } from '@kinesis-client/core';
import { CountingProducer, createStream, freePort, uniqueName, withLocalAws } from '@kinesis-client/examples/testing';
import { fixture, startRecordingSystem } from './helpers/recording.js';
import { withStores } from './helpers/stores.js';

const SECRET = 'S3cret-in-the-url';

const aws = withLocalAws(test);
const stores = withStores(test, aws, ['postgres', 'redis']);

/** Every place an error's text could reach a user: message, stack, details, cause, as printed. */
const everything = (value: unknown) => `${inspect(value, { depth: 10 })} ${JSON.stringify(value)}`;

async function startWith(store: unknown, extra: Partial<SystemOptions> = {}) {
  const streamName = uniqueName('store-start');
  await createStream(aws.kinesis, streamName, 1);
  return createSystem({
    streamName,
    appName: uniqueName('app'),
    consumer: fixture('recording-consumer.mjs'),
    ...aws.clientOptions,
    callTimeouts: { dynamodbMs: 2_000 },
    lease: { failoverMs: 6_000 },
    store: store as SystemOptions['store'],
    ...extra,
  });
}

const badStores: [string, unknown, string][] = [
  ['an unknown store type', { type: 'mysql' }, 'store.type'],
  ['a PostgreSQL store without a postgres:// URL', { type: 'postgres', connectionString: `mysql://kc:${SECRET}@127.0.0.1/db` }, 'store.connectionString'],
  ['a PostgreSQL table name past 63 bytes', { type: 'postgres', connectionString: `postgres://kc:${SECRET}@h/db`, table: 'x'.repeat(64) }, 'store.table'],
  ['a Redis store without a redis:// URL', { type: 'redis', url: `http://:${SECRET}@127.0.0.1:6379` }, 'store.url'],
  ['an unknown store option', { type: 'redis', url: `redis://:${SECRET}@127.0.0.1:6379`, db: 2 }, 'store.db'],
  ['options for memory', { type: 'memory', url: `redis://:${SECRET}@h` }, 'store.url'],
];

test('a PostgreSQL table or a Redis key prefix that holds something else rejects createSystem with STORE_SHAPE_MISMATCH, saying what to change', async (t) => {
  const table = uniqueName('orders').replace('-', '_');
  await stores.exec('postgres', `CREATE TABLE ${table} (lease_key integer PRIMARY KEY, total numeric)`);
  const { store: pg } = stores.options('postgres', 'unused') as { store: { connectionString: string } };
  const pgError = await t.throwsAsync(startWith({ type: 'postgres', connectionString: pg.connectionString, table }));
  t.is((pgError as { code?: string }).code, 'STORE_SHAPE_MISMATCH');
  t.regex(pgError!.message, /store\.table/);
  t.false(everything(pgError).includes(stores.password('postgres')), 'no password in the error');

  const prefix = `${uniqueName('taken')}:`;
  await stores.exec('redis', 'SET', `${prefix}session:1`, 'x');
  const { store: redis } = stores.options('redis', 'unused') as { store: { url: string } };
  const redisError = await t.throwsAsync(startWith({ type: 'redis', url: redis.url, prefix }));
  t.is((redisError as { code?: string }).code, 'STORE_SHAPE_MISMATCH');
  t.regex(redisError!.message, /store\.prefix/);
  t.false(everything(redisError).includes(stores.password('redis')), 'no password in the error');
});

for (const [name, store, option] of badStores) {
  test(`INVALID_OPTION: ${name}, naming ${option} and never the password`, async (t) => {
    const error = await t.throwsAsync(startWith(store));
    t.like(error, { code: 'INVALID_OPTION', details: { option } });
    t.false(everything(error).includes(SECRET), everything(error));
  });
}

test('INVALID_OPTION: store.tableName contradicting tableName', async (t) => {
  const error = await t.throwsAsync(startWith({ type: 'dynamodb', tableName: 'one-table' }, { tableName: 'other-table' }));
  t.like(error, { code: 'INVALID_OPTION', details: { option: 'store.tableName' } });
});

for (const kind of ['postgres', 'redis'] as const) {
  const withPassword = (password: string) => {
    const { store } = stores.options(kind, 'unused') as { store: { connectionString?: string; url?: string } };
    const url = new URL(store.connectionString ?? store.url!);
    url.password = password;
    return kind === 'postgres' ? { type: kind, connectionString: url.href } : { type: kind, url: url.href };
  };

  test(`${kind}: wrong credentials reject createSystem with STORE_AUTH_FAILED, the password nowhere`, async (t) => {
    const error = await t.throwsAsync(startWith(withPassword(SECRET)));
    t.like(error, { code: 'STORE_AUTH_FAILED' });
    t.regex(error!.message, /fix the user name and password in the connection string \(store\.(connectionString|url)\)/);
    t.false(everything(error).includes(SECRET), everything(error));
  });

  test(`${kind}: an unreachable server rejects createSystem with STORE_UNREACHABLE naming host and port, not the password`, async (t) => {
    const port = await freePort();
    const url = kind === 'postgres' ? `postgres://kc:${SECRET}@127.0.0.1:${port}/postgres` : `redis://:${SECRET}@127.0.0.1:${port}`;
    const error = await t.throwsAsync(startWith(kind === 'postgres' ? { type: kind, connectionString: url } : { type: kind, url }));
    t.like(error, { code: 'STORE_UNREACHABLE' });
    t.true(error!.message.includes(`127.0.0.1:${port}`), error!.message);
    t.false(everything(error).includes(SECRET));
  });

  // serial: it drops every connection of this file's server, and the tests running beside it would lose theirs
  test.serial(`${kind}: the server dropping every connection while running is retried; no lease lost, every record handled, no password in any event`, async (t) => {
    const run = await startRecordingSystem(t, aws, 2, { ...stores.options(kind, 'unused'), lease: { failoverMs: 6_000 }, retrieval: { idleMs: 100 } });
    const leaseLost: unknown[] = [];
    run.system.events.on('lease:lost', (e) => leaseLost.push(e));
    const producer = new CountingProducer(aws.kinesis, run.stream, { keys: 8, perTick: 8, tickMs: 50 });
    producer.start();
    t.teardown(async () => {
      await producer.stop();
      await run.stop();
    });
    // for 3 s, every connection of the system is cut by the server, again and again
    let dropped = 0;
    const until = Date.now() + 3_000;
    while (Date.now() < until) {
      dropped += await stores.dropConnections(kind);
      await new Promise((r) => setTimeout(r, 100));
    }
    t.true(dropped > 0);
    const produced = await producer.stop();
    const wanted = new Set(produced.map((p) => p.sequenceNumber));
    await run.deliveries.waitFor(() => [...wanted].every((s) => run.deliveries.batches.some((b) => b.sequenceNumbers.includes(s))), 60_000, 'every produced record');
    // a pooled connection cut while idle is replaced unseen; one cut during a call fails that call
    t.log(`${dropped} connections dropped; ${run.errors.length} error events${run.errors[0] ? `, e.g. ${run.errors[0].message}` : ''}`);
    t.true(run.errors.every((e) => ['STORE_CALL_FAILED', 'CALL_TIMEOUT'].includes((e as { code?: string }).code ?? '')), run.errors.map((e) => e.message).join('\n'));
    t.deepEqual(leaseLost, [], 'renewals and checkpoints were retried in time');
    t.false(everything(run.errors).includes(stores.password(kind)), 'no password in any error event');
  });
}
