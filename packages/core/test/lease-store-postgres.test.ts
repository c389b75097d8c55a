/**
 * The lease-store contract (helpers/lease-store-contract.ts) against the PostgreSQL adapter on a
 * private server, plus what only PostgreSQL has: the migration, a table of the wrong shape, and
 * the start-up failures (unreachable, wrong credentials) with their own codes and no credential
 * in any message.
 */
import { inspect } from 'node:util';
import test from 'ava';
import { openLeaseStore, type LeaseStore, type StoreConfig } from '@kinesis-client/worker/lease';
import { leaseStoreContract } from './helpers/lease-store-contract.js';
import { freePort, uniqueName, withPostgres } from '@kinesis-client/examples/testing';

const postgres = withPostgres(test);
const closers: (() => Promise<void>)[] = [];
test.after.always(async () => {
  await Promise.all(closers.map((close) => close()));
});

const config = (overrides: Partial<Extract<StoreConfig, { type: 'postgres' }>> = {}): StoreConfig => ({
  type: 'postgres',
  connectionString: postgres.url(),
  schema: 'public',
  table: uniqueName('leases'),
  ...overrides,
});

async function open(c: StoreConfig, timeoutMs = 5_000): Promise<LeaseStore> {
  const opened = await openLeaseStore(c, { dynamodb: {}, timeoutMs, side: 'main' });
  closers.push(opened.close);
  return opened.store;
}

const sql = (text: string) => postgres.sql(text);

leaseStoreContract(test, 'postgres', () => open(config()));

test('postgres lease store: the table is made by the migration, in its own schema if asked; concurrent starts make it once', async (t) => {
  const c = config({ schema: uniqueName('s').replace('-', '_') });
  const results = await Promise.all([1, 2, 3].map(async () => (await open(c)).ensure()));
  t.deepEqual(results.sort(), ['created', 'existed', 'existed']);
  t.is(await (await open(c)).ensure(), 'existed');
});

test('postgres lease store: a table of another shape is refused with STORE_SHAPE_MISMATCH naming what is wrong', async (t) => {
  const table = uniqueName('orders').replace('-', '_');
  await sql(`CREATE TABLE ${table} (lease_key integer PRIMARY KEY, total numeric)`);
  const error = await t.throwsAsync((await open(config({ table }))).ensure(), { instanceOf: Error });
  t.is((error as { code?: string }).code, 'STORE_SHAPE_MISMATCH');
  t.regex(error!.message, /column lease_key is integer \(expected text\)/);
  t.regex(error!.message, /column lease_counter is missing/);
  t.regex(error!.message, /store\.table/);
});

test('postgres lease store: a v1 table (handoff_to) is migrated to v2: checkpoint_owner added, handoff_to and its leftover requests gone, the leases kept', async (t) => {
  const c = config();
  const table = `"public"."${(c as { table: string }).table}"`;
  // the v1 table as an earlier version made it, with a lease and a pending request of the old protocol
  await sql(`CREATE TABLE ${table} (
    lease_key text PRIMARY KEY, lease_owner text, lease_counter bigint NOT NULL DEFAULT 0, checkpoint text NOT NULL,
    checkpoint_sub_sequence_number bigint NOT NULL DEFAULT 0, owner_switches_since_checkpoint bigint NOT NULL DEFAULT 0,
    parent_shard_ids text[] NOT NULL DEFAULT '{}', child_shard_ids text[] NOT NULL DEFAULT '{}',
    starting_hash_key text, ending_hash_key text, handoff_to text, checkpoint_timestamp bigint)`);
  await sql(`COMMENT ON TABLE ${table} IS 'kinesis-client lease table v1'`);
  await sql(`INSERT INTO ${table} (lease_key, lease_owner, lease_counter, checkpoint, handoff_to) VALUES ('s', 'a', 4, '123', 'b')`);
  const store = await open(c);
  t.is(await store.ensure(), 'existed');
  t.like(await store.get('s'), { leaseOwner: 'a', leaseCounter: 4, checkpoint: '123' });
  t.is((await store.get('s'))?.checkpointOwner, undefined);
  const names = (await sql(`SELECT column_name FROM information_schema.columns WHERE table_name = '${(c as { table: string }).table}'`)).split('\n');
  t.true(names.includes('checkpoint_owner'));
  t.false(names.includes('handoff_to'));
  t.true(await store.initiateHandoff('s', 'a', 'b'), 'the new handoff works on the migrated table');
  t.is(await (await open(c)).ensure(), 'existed', 'and is at v2 from then on');
});

test('postgres lease store: a table made by a newer version is refused', async (t) => {
  const c = config();
  await (await open(c)).ensure();
  await sql(`COMMENT ON TABLE "public"."${(c as { table: string }).table}" IS 'kinesis-client lease table v99'`);
  const error = await t.throwsAsync((await open(c)).ensure());
  t.is((error as { code?: string }).code, 'STORE_SHAPE_MISMATCH');
  t.regex(error!.message, /v99/);
});

test('postgres lease store: wrong credentials are STORE_AUTH_FAILED, and the password is in no message, stack or cause', async (t) => {
  const secret = 'not-the-S3cret-pw';
  const error = await t.throwsAsync((await open(config({ connectionString: postgres.url('postgres', { password: secret }) }))).ensure());
  t.is((error as { code?: string }).code, 'STORE_AUTH_FAILED');
  t.regex(error!.message, /user name and password/);
  t.false(inspect(error, { depth: 10 }).includes(secret), 'nowhere in the error, its stack or its cause');
  t.false(inspect(error, { depth: 10 }).includes(encodeURIComponent(secret)));
});

test('postgres lease store: an unreachable server is STORE_UNREACHABLE, within the deadline', async (t) => {
  const port = await freePort();
  const started = Date.now();
  const error = await t.throwsAsync((await open(config({ connectionString: `postgres://kc:hunter2@127.0.0.1:${port}/postgres` }), 2_000)).ensure());
  t.is((error as { code?: string }).code, 'STORE_UNREACHABLE');
  t.regex(error!.message, /127\.0\.0\.1:\d+/);
  t.false(inspect(error, { depth: 10 }).includes('hunter2'));
  t.true(Date.now() - started < 10_000);
});
