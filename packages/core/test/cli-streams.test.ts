/**
 * The CLI on a multi-stream application's lease table (docs/cli.md), written as a Java KCL
 * multi-stream application writes it (keys `account:stream:epoch:shardId`, with `streamName` and
 * `shardId` attributes): `status` shows each lease under its stream with its lag read from the
 * shard (not the key), `reset` and `release` need --stream for a shard id two streams share, and a
 * stream missing from Kinesis or from the table is reported as such. Runs without a running
 * application: nobody renews the rows, so the CLI judges their owners gone after failoverMs.
 */
import test from 'ava';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStream, uniqueName, withLocalAws } from '@kinesis-client/examples/testing';
import { javaStreamIdentifier, multiStreamApplication, multiStreamLease } from './helpers/java-kcl.js';
import { awsEnv, produce, runCli } from './helpers/cli.js';
import type { StatusReport } from '../src/cli/status.js';

const aws = withLocalAws(test);
const FAILOVER_MS = 1_000;
const S0 = 'shardId-000000000000';
const S1 = 'shardId-000000000001';

test('a multi-stream table: status by stream (tables, --json, a config file of streams), reset and release with --stream, streams missing from Kinesis or the table', async (t) => {
  const { orders, payments, gone, app, java } = await multiStreamApplication(aws, 'cli');
  const sent = [...(await produce(aws, orders, 20, 'o')).map((r) => ({ ...r, stream: orders })), ...(await produce(aws, payments, 20, 'p')).map((r) => ({ ...r, stream: payments }))];
  const first = (stream: string, shardId: string) => sent.filter((r) => r.stream === stream && r.shardId === shardId).map((r) => r.sequenceNumber).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))[0]!;
  await java.put(multiStreamLease(orders, S0, 'java-w1', first(orders, S0)));
  await java.put(multiStreamLease(orders, S1, 'java-w1', 'TRIM_HORIZON'));
  await java.put(multiStreamLease(payments, S0, 'java-w2', first(payments, S0)));
  await java.put(multiStreamLease(payments, S1, 'java-w2', 'TRIM_HORIZON'));
  await java.put(multiStreamLease(gone, S0, 'java-w2', 'TRIM_HORIZON'));
  const flags = ['--app', app, '--failover-ms', String(FAILOVER_MS)];
  const cli = (...args: string[]) => runCli([...args, ...flags], awsEnv(aws));

  const json = await cli('status', '--stream', orders, '--stream', payments, '--json', '--sample', '0');
  t.is(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout) as StatusReport;
  t.deepEqual(
    report.shards.map((s) => [s.streamName, s.shardId, s.owner, s.state]),
    [
      [orders, S0, 'java-w1', 'open'],
      [orders, S1, 'java-w1', 'open'],
      [payments, S0, 'java-w2', 'open'],
      [payments, S1, 'java-w2', 'open'],
      [gone, S0, 'java-w2', 'unlisted'],
    ],
    'each lease under its stream, by shard id; the leases of a stream not given shown too',
  );
  t.deepEqual(
    report.streams.map((s) => [s.streamName, s.configured, s.inKinesis, s.summary.leases]),
    [
      [orders, true, true, 2],
      [payments, true, true, 2],
      [gone, false, false, 1],
    ],
  );
  t.deepEqual(report.workers, [
    { workerId: 'java-w1', leases: 2, expired: 0 },
    { workerId: 'java-w2', leases: 3, expired: 0 },
  ]);
  for (const s of report.shards.filter((r) => r.streamName !== gone)) {
    // read with the shard id of the lease, in its stream: after the first record, 9 more of 10 wait; from TRIM_HORIZON all 10
    t.true(typeof s.lag === 'object' && s.lag.error === undefined && s.lag.oldestUnreadAgeMs !== undefined, `${s.streamName}/${s.shardId}: lag read (${JSON.stringify(s.lag)})`);
  }

  // the same from a config file in createSystem's shape, one stream by ARN
  const config = join(tmpdir(), `${app}.json`);
  const arn = `arn:aws:kinesis:us-east-1:000000000000:stream/${payments}`;
  writeFileSync(config, JSON.stringify({ appName: app, streams: [{ streamName: orders }, { streamArn: arn }], consumer: './c.js' }));
  t.teardown(() => rmSync(config, { force: true }));
  const text = await runCli(['status', '--config', config, '--failover-ms', String(FAILOVER_MS), '--sample', '0', '--skip-lag'], awsEnv(aws));
  t.is(text.code, 0, text.stderr);
  t.log(text.stdout);
  t.regex(text.stdout, new RegExp(`^application ${app} {3}streams 3 \\(${orders}, ${payments}, ${gone}\\)`));
  t.regex(text.stdout, new RegExp(`^stream ${orders} {3}shards 2 \\(2 open, 0 closed\\) {3}leases 2: 2 held`, 'm'));
  t.regex(text.stdout, new RegExp(`^stream ${gone} .*NOT IN KINESIS.*not given`, 'm'));
  t.regex(text.stdout, new RegExp(`^stream ${payments} .*\\nSHARD .*\\n${S0}\\s+open\\s+-\\s+java-w2\\s`, 'm'));

  // a stream not in the table, beside one that is; a stream not in Kinesis at all
  const fresh = uniqueName('cli-fresh');
  await createStream(aws.kinesis, fresh, 1);
  const some = await cli('status', '--stream', orders, '--stream', fresh, '--sample', '0', '--skip-lag');
  t.is(some.code, 0, some.stderr);
  t.regex(some.stdout, new RegExp(`^stream ${fresh} {3}shards 1 .*no lease in the store yet`, 'm'));
  const none = await cli('status', '--stream', gone, '--stream', uniqueName('cli-nothing'));
  t.is(none.code, 4, none.stderr);
  t.regex(none.stderr, /STREAM_NOT_FOUND: streams "cli-gone-[0-9a-f]+", "cli-nothing-[0-9a-f]+" do not exist/);

  // reset: the shard id is in both streams
  const ambiguous = await runCli(['reset', '--config', config, '--failover-ms', String(FAILOVER_MS), '--shard', S0, '--to', 'TRIM_HORIZON'], awsEnv(aws));
  t.is(ambiguous.code, 2, ambiguous.stderr);
  t.regex(ambiguous.stderr, new RegExp(`INVALID_ARGUMENT: shard "${S0}" is in 2 streams of application "${app}" \\(${orders}, ${payments}\\): name one with --stream`));
  const reset = await cli('reset', '--stream', payments, '--shard', S0, '--to', 'TRIM_HORIZON', '--json');
  t.is(reset.code, 0, reset.stderr);
  t.like(JSON.parse(reset.stdout), { streamName: payments, shardId: S0, before: { checkpoint: first(payments, S0), owner: 'java-w2' }, after: { checkpoint: 'TRIM_HORIZON', owner: undefined } });
  const rows = await java.row(`${javaStreamIdentifier(payments)}:${S0}`);
  t.like(rows, { checkpoint: { S: 'TRIM_HORIZON' }, streamName: { S: javaStreamIdentifier(payments) }, shardId: { S: S0 } }, 'written under its key, its attributes kept');
  t.like(await java.row(`${javaStreamIdentifier(orders)}:${S0}`), { checkpoint: { S: first(orders, S0) }, leaseOwner: { S: 'java-w1' }, leaseCounter: { N: '7' } }, 'the same shard id of the other stream untouched');

  // release: by shard (with its stream), and a worker's leases of the streams given
  const one = await cli('release', '--stream', orders, '--shard', S1);
  t.is(one.code, 0, one.stderr);
  t.regex(one.stdout, new RegExp(`^${S1}\\s+java-w1\\s+7\\s+released$`, 'm'));
  const worker = await runCli(['release', '--config', config, '--worker', 'java-w2'], awsEnv(aws));
  t.is(worker.code, 0, worker.stderr);
  t.regex(worker.stdout, new RegExp(`^${payments}/${S1}\\s+java-w2\\s+7\\s+released$`, 'm'));
  t.false(worker.stdout.includes(gone), 'a stream not given is left alone');
  t.like(await java.row(`${javaStreamIdentifier(gone)}:${S0}`), { leaseOwner: { S: 'java-w2' } });
});
