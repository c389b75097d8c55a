/**
 * The `http` option against the local services: loopback by default, /healthz and /readyz (503
 * with the reasons), /state from ListShards and the lease store, /events (server-sent events),
 * a port in use rejecting createSystem with HTTP_LISTEN_FAILED, and the server closed on stop();
 * and the pure join behind /state (buildState).
 */
import test from 'ava';
import { createServer } from 'node:net';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { createSystem, type DashboardState } from '@kinesis-client/core';
import { createStream, listenEvents, uniqueName, withLocalAws } from '@kinesis-client/examples/testing';
import type { LeaseSnapshot } from '@kinesis-client/worker/lease';
import { buildState } from '../src/http/state.js';
import { lease as leaseRow } from './helpers/leases.js';
import { fixture, startRecordingSystem } from './helpers/recording.js';

test('buildState joins ListShards, the lease store and this worker: the graph, owners, leases per worker', (t) => {
  const shard = (id: string, parent?: string, adjacent?: string, closed = false) => ({
    ShardId: id,
    ParentShardId: parent,
    AdjacentParentShardId: adjacent,
    SequenceNumberRange: { StartingSequenceNumber: '1', EndingSequenceNumber: closed ? '9' : undefined },
  });
  const lease = (leaseKey: string, leaseOwner: string | undefined, checkpoint = 'TRIM_HORIZON', parentShardIds: string[] = []): LeaseSnapshot => ({
    leaseKey,
    leaseOwner,
    leaseCounter: 3,
    checkpoint,
    checkpointSubSequenceNumber: 0,
    ownerSwitchesSinceCheckpoint: 0,
    parentShardIds,
    childShardIds: [],
    startingHashKey: undefined,
    endingHashKey: undefined,
  });
  const health = { live: true, ready: true, reasons: [] };
  const state = buildState({
    at: 1,
    workerId: 'me',
    appName: 'app',
    streams: [{ streamName: 'st', configured: true, listed: [shard('s-0', undefined, undefined, true), shard('s-1', undefined, undefined, true), shard('s-2', 's-0', 's-1'), shard('s-3')] }],
    health,
    leases: [lease('s-0', 'other', 'SHARD_END'), lease('s-1', 'other', 'SHARD_END'), lease('s-2', 'me', '42', ['s-0', 's-1']), lease('s-3', undefined), lease('s-gone', 'other', '7')],
    inspection: { workerId: 'me', tree: { id: 'root', kind: 'supervisor', incarnation: 1, state: 'running', restarts: 0, threadId: 0 }, shards: [{ streamName: 'st', shardId: 's-2', threadId: 5, millisBehindLatest: 120 } as never] },
    errors: [],
    rate: (at) => (at.shardId === 's-2' ? 10 : 0),
    millisBehind: () => undefined,
    series: { endsAt: 0, perShard: {} },
  });
  t.deepEqual(state.shards.map((s) => [s.shardId, s.open, s.parentShardIds, s.childShardIds, s.owner]), [
    ['s-0', false, [], ['s-2'], 'other'],
    ['s-1', false, [], ['s-2'], 'other'],
    ['s-2', true, ['s-0', 's-1'], [], 'me'],
    ['s-3', true, [], [], undefined],
    ['s-gone', undefined, [], [], 'other'],
  ]);
  t.like(state.shards[2], { checkpoint: '42', threadId: 5, millisBehindLatest: 120, recordsPerSecond: 10 });
  t.deepEqual(state.workers, [{ workerId: 'me', leases: 1, self: true }, { workerId: 'other', leases: 1, self: false }], 'finished leases not counted');
  t.is(state.freeLeases, 1);
});

test('buildState of several streams: each lease under its stream by its key (the same shard id in two streams apart), the view of this worker by stream, leases per worker over all streams, a stream only the store names', (t) => {
  const shard = (id: string) => ({ ShardId: id, SequenceNumberRange: { StartingSequenceNumber: '1' } });
  const key = (stream: string, shardId: string) => `123456789012:${stream}:1765000000:${shardId}`;
  const lease = (leaseKey: string, leaseOwner: string | undefined, checkpoint = 'TRIM_HORIZON') => leaseRow(leaseKey, { leaseOwner, leaseCounter: 3, checkpoint });
  const state = buildState({
    at: 1,
    workerId: 'me',
    appName: 'app',
    streams: [
      { streamName: 'orders', configured: true, listed: [shard('s-0'), shard('s-1')] },
      { streamName: 'payments', configured: true, listed: [shard('s-0')] },
      { streamName: 'old', configured: false, listed: undefined },
    ],
    health: { live: true, ready: true, reasons: [] },
    leases: [lease(key('orders', 's-0'), 'me', '11'), lease(key('orders', 's-1'), 'other'), lease(key('payments', 's-0'), 'me', '22'), lease(key('old', 's-0'), undefined)],
    inspection: { workerId: 'me', tree: { id: 'root', kind: 'supervisor', incarnation: 1, state: 'running', restarts: 0, threadId: 0 }, shards: [{ streamName: 'payments', shardId: 's-0', threadId: 7, millisBehindLatest: 50 } as never] },
    errors: [],
    rate: (at) => (at.streamName === 'payments' ? 4 : 1),
    millisBehind: () => undefined,
    series: { endsAt: 0, perShard: {} },
  });
  t.is(state.streamName, 'orders');
  t.deepEqual(
    state.shards.map((s) => [s.streamName, s.shardId, s.owner, s.checkpoint, s.threadId, s.millisBehindLatest, s.recordsPerSecond, s.open]),
    [
      ['orders', 's-0', 'me', '11', undefined, undefined, 1, true],
      ['orders', 's-1', 'other', 'TRIM_HORIZON', undefined, undefined, 1, true],
      ['payments', 's-0', 'me', '22', 7, 50, 4, true],
      ['old', 's-0', undefined, 'TRIM_HORIZON', undefined, undefined, 1, undefined],
    ],
  );
  t.deepEqual(state.streams, [
    { streamName: 'orders', configured: true, inKinesis: true, shards: 2, leases: 2, freeLeases: 0, recordsPerSecond: 2 },
    { streamName: 'payments', configured: true, inKinesis: true, shards: 1, leases: 1, freeLeases: 0, recordsPerSecond: 4 },
    { streamName: 'old', configured: false, inKinesis: false, shards: 0, leases: 1, freeLeases: 1, recordsPerSecond: 1 },
  ]);
  t.deepEqual(state.workers, [{ workerId: 'me', leases: 2, self: true }, { workerId: 'other', leases: 1, self: false }], 'leases of every stream counted');
  t.is(state.freeLeases, 1);
});

const aws = withLocalAws(test);

const get = async (url: string, init?: RequestInit) => {
  const res = await fetch(url, init);
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
};

test.serial('http: loopback, health probes, /state, /events, the dashboard page; closed on stop()', async (t) => {
  const run = await startRecordingSystem(t, aws, 3, { http: { port: 0 }, shardHosts: { threads: 1 } });
  const base = run.system.http!.url;
  t.regex(base, /^http:\/\/127\.0\.0\.1:\d+\/$/, 'binds to loopback unless told otherwise');

  const live = await get(`${base}healthz`);
  t.is(live.status, 200);
  t.like(JSON.parse(live.body), { live: true, ready: true, reasons: [] });
  t.is((await get(`${base}readyz`)).status, 200);

  // a take can land after createSystem resolves (one that a slow store answer pushed to the next
  // take cycle), so read until the store names an owner for every shard, then check it is us
  const readState = async () => JSON.parse((await get(`${base}state`)).body) as DashboardState;
  let state = await readState();
  for (let tries = 0; tries < 50 && state.shards.some((s) => s.owner === undefined); tries++) {
    await new Promise((r) => setTimeout(r, 200));
    state = await readState();
  }
  t.is(state.workerId, run.system.workerId);
  t.is(state.shards.length, 3);
  for (const shard of state.shards) {
    t.is(shard.owner, run.system.workerId, `${shard.shardId} owned by this worker, as the store says`);
    t.true(shard.open);
    t.is(shard.checkpoint, 'TRIM_HORIZON');
  }
  t.deepEqual(state.workers, [{ workerId: run.system.workerId, leases: 3, self: true }]);
  t.is(state.tree.id, 'root');

  const page = await get(base);
  t.is(page.status, 200);
  t.regex(page.type!, /text\/html/);
  t.regex(page.body, /dashboard\.js/);
  t.regex((await get(`${base}dashboard.js`)).type!, /javascript/);
  t.is((await get(`${base}nope`)).status, 404);
  t.is((await get(`${base}state`, { method: 'POST' })).status, 405);

  const events = listenEvents(`${base}events`);
  const streamed = (await events.first('state')).data as DashboardState;
  await events.close();
  t.is(streamed.shards.length, 3);

  // the lease store fails one scan: not ready until a store call succeeds again
  await run.system.faults.failCalls({ command: 'Scan', error: 'ResourceNotFoundException', times: 1 });
  t.is((await get(`${base}state`)).status, 503);
  const notReady = await get(`${base}readyz`);
  t.is(notReady.status, 503);
  t.deepEqual(JSON.parse(notReady.body).reasons.map((r: { code: string }) => r.code), ['LEASE_STORE_UNREACHABLE']);
  t.is((await get(`${base}healthz`)).status, 200, 'still live');
  t.is((await get(`${base}state`)).status, 200);
  t.is((await get(`${base}readyz`)).status, 200);

  // a dashboard left open does not hold stop() up: its stream is ended
  const open = listenEvents(`${base}events`);
  await open.first('state');
  await run.system.stop();
  await t.throwsAsync(open.first('never sent'), { message: /ended without/ }, 'stop() ended the event stream');
  await t.throwsAsync(() => fetch(`${base}healthz`), undefined, 'the server is closed by stop()');
});

test.serial('a port in use rejects createSystem with HTTP_LISTEN_FAILED before anything starts', async (t) => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.teardown(() => holder.close());
  const port = (holder.address() as { port: number }).port;
  const streamName = uniqueName('stream');
  const appName = uniqueName('app');
  await createStream(aws.kinesis, streamName, 1);
  const error = await t.throwsAsync(() =>
    createSystem({ streamName, appName, consumer: fixture('recording-consumer.mjs'), ...aws.clientOptions, http: { port } }),
  );
  t.is((error as { code?: string }).code, 'HTTP_LISTEN_FAILED');
  t.regex(error!.message, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
  const tables = (await aws.dynamodb.send(new ListTablesCommand({}))).TableNames ?? [];
  t.false(tables.includes(appName), 'no lease table was created');
});
