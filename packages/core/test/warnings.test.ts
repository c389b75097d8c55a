import { execFile } from 'node:child_process';
import test from 'ava';
import { createStream, putRecords, uniqueName, withLocalAws } from '@kinesis-client/examples/testing';
import { jsonRecords } from './helpers/recording.js';

const aws = withLocalAws(test);
const RECORDS = 200;
const app = new URL('./fixtures/warning-app.mjs', import.meta.url).pathname;
// the AWS SDK's notice that its 2027 releases need Node 22
const sdkWarnsHere = Number(process.versions.node.split('.')[0]) < 22;

interface AppRun {
  stderr: string;
  batches: number;
  poolThreads: number;
  seen: Record<string, number>;
}

/** Runs warning-app.mjs in a process of its own with the SDK's notice enabled; what it printed and reported. */
async function runApp(streamName: string, nodeArgs: string[] = []): Promise<AppRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, KC_WARNING_APP: JSON.stringify({ streamName, records: RECORDS, clientOptions: aws.clientOptions }) };
  delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  delete env.NODE_NO_WARNINGS;
  const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
    execFile(process.execPath, [...nodeArgs, app], { env, timeout: 120_000 }, (error, stdout, stderr) => (error ? reject(Object.assign(error, { stderr })) : resolve({ stdout, stderr }))),
  );
  return { stderr, ...(JSON.parse(stdout.trim().split('\n').at(-1)!) as Omit<AppRun, 'stderr'>) };
}

const count = (text: string, pattern: RegExp) => text.match(new RegExp(pattern.source, 'g'))?.length ?? 0;

test.serial('a warning meant once is printed once per process, not once per shard-host and pool thread; every other warning each time', async (t) => {
  const streamName = uniqueName('warnings');
  await createStream(aws.kinesis, streamName, 4);
  await putRecords(aws.kinesis, streamName, jsonRecords(RECORDS));

  const run = await runApp(streamName);
  t.true(run.poolThreads >= 2, `the consumer was loaded in several pool threads (${run.poolThreads})`);
  // the main thread and four shard-host threads (two systems, two each) load the SDK
  t.is(count(run.stderr, /NodeVersionSupportWarning/), sdkWarnsHere ? 1 : 0, run.stderr);
  t.is(run.seen.NodeVersionSupportWarning ?? 0, sdkWarnsHere ? 1 : 0, 'the application saw it once too');
  t.is(count(run.stderr, /KC_TEST_DEPRECATION/), 1, 'a deprecation every pool thread emits, once');
  t.is(run.seen.DeprecationWarning, 1);
  t.is(count(run.stderr, /KinesisClientWarning/), 1, 'a throwing error listener, once per kind of event, over both systems');
  // the consumer's own warning, emitted on every batch, is never merged
  t.true(run.batches >= RECORDS / 10, `batches handled (${run.batches})`);
  t.is(count(run.stderr, /ConsumerWarning: kinesis-client test: a batch of/), run.batches, 'every batch warning is printed');
  t.is(run.seen.ConsumerWarning, run.batches, 'and reaches the application');
});

test.serial('--no-warnings still silences every warning, from every thread', async (t) => {
  const streamName = uniqueName('warnings');
  await createStream(aws.kinesis, streamName, 2);
  await putRecords(aws.kinesis, streamName, jsonRecords(RECORDS));
  const run = await runApp(streamName, ['--no-warnings']);
  t.true(run.batches > 0);
  t.is(count(run.stderr, /Warning/), 0, run.stderr);
});
