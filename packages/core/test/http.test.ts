/**
 * The `http` option against the local services: loopback by default, /healthz and /readyz (503
 * with the reasons), /state from ListShards and the lease store, /events (server-sent events),
 * a port in use rejecting createSystem with HTTP_LISTEN_FAILED, and the server closed on stop().
 */
import test from 'ava';
import { createServer } from 'node:net';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { createSystem, type DashboardState } from '@kinesis-client/core';
import { createStream, listenEvents, uniqueName, withLocalAws } from '@kinesis-client/examples/testing';
import { fixture, startRecordingSystem } from './helpers/recording.js';

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

  const state = JSON.parse((await get(`${base}state`)).body) as DashboardState;
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
