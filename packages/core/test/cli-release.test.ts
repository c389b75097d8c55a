/**
 * `kinesis-client release`, `watch` and expired leases in `status` (docs/cli.md), on the
 * PostgreSQL store, against a running application of two worker processes: a released lease goes
 * to the worker below its target within one take cycle (with stealing off, it would never move);
 * `watch` redraws it live and ends on Ctrl-C; a lease whose owner stopped renewing shows expired
 * (PostgreSQL and Redis).
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStream, uniqueName, withLocalAws } from '@kinesis-client/examples/testing';
import { withStores } from './helpers/stores.js';
import { Cluster } from './helpers/workers.js';
import { awsEnv, runCli, sleep, until } from './helpers/cli.js';
import type { StatusReport } from '../src/cli/status.js';

// generous, so a loaded machine's late renewals expire nothing: only a release may move a lease
const FAILOVER_MS = 5_000;
const TAKE_INTERVAL_MS = 2 * FAILOVER_MS;
const aws = withLocalAws(test);
const stores = withStores(test, aws, ['postgres', 'redis']);

test('release --shard moves a lease to the other worker within one take cycle, release --worker frees all of a worker; watch shows it live and ends on Ctrl-C', async (t) => {
  const streamName = uniqueName('cli-release');
  await createStream(aws.kinesis, streamName, 4);
  const appName = `${streamName}-app`;
  const store = stores.options('postgres', appName).store as { connectionString: string };
  // stealing off: a worker takes only free and expired leases, so nothing but a release moves one
  const lease = { failoverMs: FAILOVER_MS, takeIntervalMs: TAKE_INTERVAL_MS, maxStealPerCycle: 0 };
  const cluster = new Cluster(t, { streamName, appName, clientOptions: aws.clientOptions, lease, retrieval: { idleMs: 250 }, store: { type: 'postgres', ...store } }, await stores.leases('postgres', appName));
  const flags = ['--app', appName, '--stream', streamName, '--store', 'postgres', '--connection-string', store.connectionString, '--failover-ms', String(FAILOVER_MS)];
  const cli = (...args: string[]) => runCli([...args, ...flags], awsEnv(aws));
  // w1 may process three shards, so w2 joins with the fourth: each holds a lease, and each counts the
  // other (workers know each other by their leases); w2, below its target of two, is the taker
  const shardIds = [0, 1, 2, 3].map((i) => `shardId-00000000000${i}`);
  await cluster.start(['w1'], { allow: shardIds.slice(0, 3) });
  await cluster.waitForOwners((c) => c.get('w1') === 3, 30_000, 'w1 holding three');
  await cluster.start(['w2']);
  await cluster.waitForOwners((c) => c.get('w1') === 3 && c.get('w2') === 1, 30_000, 'w2 holding the fourth');
  await sleep(TAKE_INTERVAL_MS + 1_000);
  t.deepEqual((await cluster.owners()).get('w2'), [shardIds[3]], 'w2 below its target takes nothing more: no lease is free or expired');

  const lines: string[] = [];
  const watcher = spawn(process.execPath, [fileURLToPath(new URL('../dist/cli/bin.js', import.meta.url)), 'watch', '--interval', '0.5', '--skip-lag', ...flags], { env: awsEnv(aws) });
  let screen = '';
  watcher.stdout.on('data', (chunk: Buffer) => {
    screen += chunk.toString();
    lines.push(...chunk.toString().split('\n'));
  });
  const exited = new Promise<number | null>((resolve) => watcher.once('exit', (code) => resolve(code)));
  await until(() => /^w1\s+3\s+0$/m.test(screen), 30_000, 'watch showing w1 with three leases');

  const [shardId] = (await cluster.owners()).get('w1')!;
  const released = await cli('release', '--shard', shardId!);
  t.is(released.code, 0, released.stderr);
  t.regex(released.stdout, new RegExp(`^${shardId}\\s+w1\\s+\\d+\\s+released$`, 'm'));
  const movedIn = await until(async () => (await cluster.owners()).get('w2')?.includes(shardId!) ?? false, 3 * TAKE_INTERVAL_MS, `w2 taking ${shardId}`);
  t.log(`${shardId} released, taken by w2 ${movedIn} ms later (take interval ${TAKE_INTERVAL_MS} ms)`);
  t.true(movedIn <= TAKE_INTERVAL_MS + 1_000, `within one take cycle (${movedIn} ms)`);
  screen = '';
  await until(() => new RegExp(`^${shardId}\\s+open\\s+-\\s+w2\\s`, 'm').test(screen), 30_000, 'watch showing w2 as the owner');

  const all = await cli('release', '--worker', 'w1', '--json');
  t.is(all.code, 0, all.stderr);
  const list = JSON.parse(all.stdout) as { shardId: string; owner: string; released: boolean }[];
  t.is(list.length, 2);
  t.true(list.every((r) => r.owner === 'w1' && r.released));
  // w1, holding nothing now, is invisible to w2, which takes them up to its target (or w1 takes
  // some back first): either way none stays free beyond a take cycle
  await cluster.waitForOwners((c) => !c.has(''), 2 * TAKE_INTERVAL_MS, 'every released lease taken');

  watcher.kill('SIGINT');
  t.is(await exited, 0, 'Ctrl-C ends watch cleanly');
  t.true(lines.some((l) => /every 0.5 s; Ctrl-C to stop/.test(l)));
  const nothing = await cli('release', '--worker', 'w9');
  t.is(nothing.code, 2);
  t.regex(nothing.stderr, /worker "w9" holds no lease/);
});

const expired = test.macro(async (t, kind: 'postgres' | 'redis') => {
  const streamName = uniqueName('cli-expired');
  await createStream(aws.kinesis, streamName, 3);
  const appName = `${streamName}-app`;
  const store = stores.options(kind, appName).store!;
  const leases = await stores.leases(kind, appName);
  const cluster = new Cluster(t, { streamName, appName, clientOptions: aws.clientOptions, lease: { failoverMs: FAILOVER_MS }, store }, leases);
  await cluster.start(['w1']);
  await cluster.waitForOwners((c) => c.get('w1') === 3, 30_000, 'w1 holding all three');
  await cluster.stop('w1');
  // a worker that died holding two leases: its name on them, and no renewals
  const [a, b] = (await leases.scan()).sort((x, y) => (x.leaseKey < y.leaseKey ? -1 : 1));
  t.true(await leases.take(a!, 'ghost'));
  t.true(await leases.take(b!, 'ghost'));

  const config = join(tmpdir(), `${appName}.json`);
  writeFileSync(config, JSON.stringify({ appName, streamName, store, lease: { failoverMs: 1_000 } }));
  t.teardown(() => rmSync(config, { force: true }));
  const run = await runCli(['status', '--config', config, '--json', '--sample', '1500'], awsEnv(aws));
  t.is(run.code, 0, run.stderr);
  t.false(run.stdout.includes(stores.password(kind)), 'no password in the output');
  const report = JSON.parse(run.stdout) as StatusReport;
  t.deepEqual(report.expired, [a!.leaseKey, b!.leaseKey]);
  t.deepEqual(report.workers, [{ workerId: 'ghost', leases: 2, expired: 2 }]);
  t.like(report.summary, { leases: 3, held: 2, free: 1, expired: 2, workers: 1 });
  t.regex(report.store, kind === 'postgres' ? /^PostgreSQL table "public"\."cli-expired-[0-9a-f]+-app" at postgres:\/\/127\.0\.0\.1:\d+\/\w+$/ : /^Redis prefix "kcl:cli-expired-[0-9a-f]+-app:" at redis:\/\/127\.0\.0\.1:\d+$/);
  const text = await runCli(['status', '--config', config, '--sample', '1500', '--skip-lag'], awsEnv(aws));
  t.regex(text.stdout, new RegExp(`^${a!.leaseKey}\\s+open\\s+-\\s+ghost\\s+EXPIRED`, 'm'));
  t.regex(text.stdout, new RegExp(`expired \\(any worker may take them\\): ${a!.leaseKey}, ${b!.leaseKey}`));
});

for (const kind of ['postgres', 'redis'] as const) {
  test(`status lists leases whose owner stopped renewing as expired (${kind} store, from a config file)`, expired, kind);
}
