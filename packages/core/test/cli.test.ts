/**
 * The operator CLI (`kinesis-client`, docs/cli.md) as a child process against local services and
 * a running application of two worker processes: bad arguments, a missing application or stream,
 * and `status` (tables and --json) matching the lease table. reset and release: cli-leases.test.ts.
 */
import test from 'ava';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStream, uniqueName, withLocalAws } from '@kinesis-client/examples/testing';
import { Cluster } from './helpers/workers.js';
import { awsEnv, produce, runCli, until } from './helpers/cli.js';

const FAILOVER_MS = 3_000;
const aws = withLocalAws(test);

test('bad arguments exit 2 with a message saying what is wrong, and the usage', async (t) => {
  const cases: [string[], RegExp][] = [
    [[], /a command is needed/],
    [['bogus', '--app', 'app', '--stream', 's'], /unknown command "bogus"/],
    [['status', '--app', 'app', '--stream', 's', '--colour'], /Unknown option '--colour'/],
    [['status', '--stream', 's'], /--app .* is needed/],
    [['status', '--app', 'a'], /--stream .* is needed/],
    [['reset', '--app', 'app', '--stream', 's', '--shard', 'shardId-000000000000'], /reset needs --shard and --to/],
    [['reset', '--app', 'app', '--stream', 's', '--shard', 'x', '--to', 'yesterday'], /--to must be TRIM_HORIZON, LATEST, a sequence number or an ISO time/],
    [['release', '--app', 'app', '--stream', 's', '--shard', 'x', '--worker', 'w'], /release needs --shard or --worker \(one of them\)/],
    [['status', '--app', 'app', '--stream', 's', '--store', 'memory'], /--store must be dynamodb, postgres or redis/],
    [['status', '--app', 'app', '--stream', 's', '--force'], /--force is for reset, not status/],
    [['status', '--app', 'app', '--stream', 's', '--config', '/nonexistent/kc.json'], /--config \/nonexistent\/kc.json: ENOENT/],
  ];
  for (const [args, message] of cases) {
    const run = await runCli(args, awsEnv(aws));
    t.is(run.code, 2, `${args.join(' ')}: exit 2 (${run.stderr})`);
    t.regex(run.stderr, message, args.join(' '));
    t.regex(run.stderr, /Usage: kinesis-client/, `${args.join(' ')}: usage shown`);
    t.is(run.stdout, '');
  }
  // an invalid option names the option, as createSystem does; a password never appears
  const bad = await runCli(['status', '--app', 'app', '--stream', 's', '--store', 'postgres', '--connection-string', 'mysql://u:hunter2@h/db'], awsEnv(aws));
  t.is(bad.code, 2);
  t.regex(bad.stderr, /INVALID_OPTION: .*store.connectionString/);
  t.false(bad.stderr.includes('hunter2'), bad.stderr);
  t.is((await runCli(['--help'])).code, 0);
});

test('a missing application exits 3 (APPLICATION_NOT_FOUND), a missing stream 4 (STREAM_NOT_FOUND)', async (t) => {
  const streamName = uniqueName('cli-missing');
  await createStream(aws.kinesis, streamName, 1);
  const noApp = await runCli(['status', '--app', uniqueName('no-such-app'), '--stream', streamName], awsEnv(aws));
  t.is(noApp.code, 3, noApp.stderr);
  t.regex(noApp.stderr, /APPLICATION_NOT_FOUND: application "no-such-app-[0-9a-f]+" has no leases in the DynamoDB table/);
  const noStream = await runCli(['status', '--app', 'any-app', '--stream', uniqueName('no-such-stream')], awsEnv(aws));
  t.is(noStream.code, 4, noStream.stderr);
  t.regex(noStream.stderr, /STREAM_NOT_FOUND: stream "no-such-stream-[0-9a-f]+" does not exist/);
  for (const command of [['reset', '--shard', 'shardId-000000000000', '--to', 'LATEST'], ['release', '--worker', 'w1']]) {
    const run = await runCli([...command, '--app', uniqueName('no-such-app'), '--stream', streamName], awsEnv(aws));
    t.is(run.code, 3, `${command[0]}: ${run.stderr}`);
  }
});

test('status matches the lease table of a running two-worker application, as tables and as --json; a config file works as flags do', async (t) => {
  const streamName = uniqueName('cli-status');
  await createStream(aws.kinesis, streamName, 4);
  const appName = `${streamName}-app`;
  const table = aws.leaseTable(appName);
  const cluster = new Cluster(t, { streamName, appName, clientOptions: aws.clientOptions, lease: { failoverMs: FAILOVER_MS, checkpointIntervalMs: 0 }, retrieval: { idleMs: 200 } }, table);
  await cluster.start(['w1', 'w2']);
  await cluster.waitForBalance(['w1', 'w2'], 2, 60_000);
  const produced = await produce(aws, streamName, 40, 'a');
  await until(() => cluster.deliveries.reduce((n, d) => n + d.sequenceNumbers.length, 0) >= produced.length, 30_000, 'every record handled');
  // every shard checkpointed at its last record (checkpointIntervalMs 0: after each batch)
  const last = new Map(produced.map((p) => [p.shardId, p.sequenceNumber]));
  await until(async () => (await table.scan()).every((l) => !last.has(l.leaseKey) || l.checkpoint === last.get(l.leaseKey)), 30_000, 'checkpoints at the last records');

  const config = join(tmpdir(), `${appName}.json`);
  writeFileSync(config, JSON.stringify({ appName, streamName, consumer: './consumer.js', lease: { failoverMs: FAILOVER_MS } }));
  t.teardown(() => rmSync(config, { force: true }));
  const run = await runCli(['status', '--config', config, '--json'], awsEnv(aws));
  t.is(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout) as import('../src/cli/status.js').StatusReport;
  const rows = await table.scan();
  t.deepEqual(
    report.shards.map((s) => [s.shardId, s.owner, s.checkpoint, s.state]),
    rows.map((l) => [l.leaseKey, l.leaseOwner, l.checkpoint, 'open']).sort(),
    'every shard, with the owner and checkpoint of the table',
  );
  t.true(report.shards.every((s) => s.leaseCounter! <= rows.find((l) => l.leaseKey === s.shardId)!.leaseCounter), 'counters read before the table was');
  t.deepEqual(report.workers, [
    { workerId: 'w1', leases: 2, expired: 0 },
    { workerId: 'w2', leases: 2, expired: 0 },
  ]);
  t.true(report.shards.every((s) => s.renewal === 'live'), 'both workers renew within the sample');
  t.deepEqual(report.expired, []);
  t.like(report.summary, { shards: 4, open: 4, closed: 0, leases: 4, held: 4, free: 0, expired: 0, workers: 2 });
  for (const s of report.shards) {
    t.true(typeof s.lag === 'object' && s.lag.error === undefined && s.lag.oldestUnreadAgeMs === undefined, `${s.shardId}: nothing unread after the checkpoint (${JSON.stringify(s.lag)})`);
  }

  // the table view, by flags (the application's failover time given too), with the same facts
  const text = await runCli(['status', '--app', appName, '--stream', streamName, '--failover-ms', String(FAILOVER_MS), '--sample', '0'], awsEnv(aws));
  t.is(text.code, 0, text.stderr);
  t.log(text.stdout);
  t.regex(text.stdout, /shards 4 \(4 open, 0 closed\)\s+leases 4: 4 held, 0 free, 0 expired\s+workers 2/);
  t.regex(text.stdout, /^WORKER\s+LEASES\s+EXPIRED\nw1\s+2\s+0\nw2\s+2\s+0$/m);
  for (const l of rows) t.regex(text.stdout, new RegExp(`^${l.leaseKey}\\s+open\\s+-\\s+${l.leaseOwner}\\s.*${l.checkpoint}$`, 'm'));
});
