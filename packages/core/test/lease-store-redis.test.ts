/**
 * The lease-store contract (helpers/lease-store-contract.ts) against the Redis adapter on a
 * private server, plus what only Redis has: a prefix holding other keys, a lease hash written by
 * something else, and the start-up failures with their own codes and no credential in any message.
 */
import { inspect } from 'node:util';
import test from 'ava';
import { openLeaseStore, type LeaseStore, type StoreConfig } from '@kinesis-client/worker/lease';
import { leaseStoreContract } from './helpers/lease-store-contract.js';
import { freePort, uniqueName, withRedis } from '@kinesis-client/examples/testing';

const redis = withRedis(test);
const closers: (() => Promise<void>)[] = [];
test.after.always(async () => {
  await Promise.all(closers.map((close) => close()));
});

const config = (overrides: Partial<Extract<StoreConfig, { type: 'redis' }>> = {}): StoreConfig => ({
  type: 'redis',
  url: redis.url(),
  prefix: `${uniqueName('app')}:`,
  ...overrides,
});

async function open(c: StoreConfig, timeoutMs = 5_000): Promise<LeaseStore> {
  const opened = await openLeaseStore(c, { dynamodb: {}, timeoutMs, side: 'main' });
  closers.push(opened.close);
  return opened.store;
}

const command = (args: string[]) => redis.command(...args);

leaseStoreContract(test, 'redis', () => open(config()));

test('redis lease store: concurrent starts mark the prefix once', async (t) => {
  const c = config();
  const results = await Promise.all([1, 2, 3].map(async () => (await open(c)).ensure()));
  t.deepEqual(results.sort(), ['created', 'existed', 'existed']);
});

test('redis lease store: a prefix holding other keys, or a marker of another type, is STORE_SHAPE_MISMATCH', async (t) => {
  const foreign = config();
  await command(['SET', `${(foreign as { prefix: string }).prefix}session:1`, 'x']);
  const error = await t.throwsAsync((await open(foreign)).ensure());
  t.is((error as { code?: string }).code, 'STORE_SHAPE_MISMATCH');
  t.regex(error!.message, /session:1.*store\.prefix/);

  const wrongType = config();
  await command(['SET', `${(wrongType as { prefix: string }).prefix}meta`, 'x']);
  const error2 = await t.throwsAsync((await open(wrongType)).ensure());
  t.is((error2 as { code?: string }).code, 'STORE_SHAPE_MISMATCH');
});

test('redis lease store: an unreadable lease hash is reported by scanRows, left out of scan, and never taken', async (t) => {
  const c = config();
  const store = await open(c);
  await store.ensure();
  await store.create({ leaseKey: 'good', checkpoint: 'TRIM_HORIZON', parentShardIds: [] });
  const { prefix } = c as { prefix: string };
  await command(['HSET', `${prefix}lease:bad`, 'leaseCounter', 'x', 'checkpoint', 'TRIM_HORIZON']);
  await command(['SADD', `${prefix}leases`, 'bad']);
  const { leases, unreadable } = await store.scanRows();
  t.deepEqual(leases.map((l) => l.leaseKey), ['good']);
  t.like(unreadable, [{ leaseKey: 'bad', reason: 'leaseCounter is not a number' }]);
  t.deepEqual((await store.scan()).map((l) => l.leaseKey), ['good']);
  t.false(await store.take({ ...leases[0]!, leaseKey: 'bad' }, 'worker-a'), 'a take on the counter can never hold');
});

test('redis lease store: wrong credentials are STORE_AUTH_FAILED, and the password is in no message, stack or cause', async (t) => {
  const secret = 'not-the-S3cret-pw';
  const error = await t.throwsAsync((await open(config({ url: redis.url({ password: secret }) }))).ensure());
  t.is((error as { code?: string }).code, 'STORE_AUTH_FAILED');
  t.regex(error!.message, /user name and password/);
  t.false(inspect(error, { depth: 10 }).includes(secret));
});

test('redis lease store: an unreachable server is STORE_UNREACHABLE', async (t) => {
  const port = await freePort();
  const error = await t.throwsAsync((await open(config({ url: `redis://:hunter2@127.0.0.1:${port}` }), 2_000)).ensure());
  t.is((error as { code?: string }).code, 'STORE_UNREACHABLE');
  t.false(inspect(error, { depth: 10 }).includes('hunter2'));
});
