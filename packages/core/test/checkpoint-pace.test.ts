import test from 'ava';
import { CheckpointPace } from '@kinesis-client/worker/internal';
import { createStream, putRecords, uniqueName, withLocalAws } from '@kinesis-client/examples/testing';
import { eventually, jsonRecords, startRecordingSystem } from './helpers/recording.js';

test('a handled batch is written at once when its shard is idle, else once it is an interval old; writes stay an interval apart', (t) => {
  const pace = new CheckpointPace(1_000);
  t.is(pace.handled(100, false), 1_100, 'busy: an interval after the oldest unwritten batch');
  t.is(pace.handled(400, false), 1_100, 'a later batch rides on the same write');
  t.true(pace.handled(500, true) <= 500, 'idle: at once');
  pace.writing(500);
  pace.caughtUp();
  t.is(pace.handled(600, true), 1_500, 'idle, but an interval after the last write at the soonest');
  t.is(pace.handled(700, false), 1_600, 'busy: an interval after the oldest unwritten batch (600)');
  pace.writing(1_600);
  t.is(pace.handled(1_700, false), 2_600, 'not caught up: still counted from 600, but an interval after the last write');
  t.true(new CheckpointPace(0).handled(5, false) <= 5, 'interval 0: every batch at once');
});

const aws = withLocalAws(test);

test.serial('the end of a burst is checkpointed at once, not an interval later', async (t) => {
  const stream = uniqueName('burst');
  await createStream(aws.kinesis, stream, 1);
  // all there before the first read: one page, one burst
  const put = await putRecords(aws.kinesis, stream, jsonRecords(200));
  const last = put.at(-1)!.sequenceNumber;
  const run = await startRecordingSystem(t, aws, { stream, app: uniqueName('app') }, { lease: { checkpointIntervalMs: 60_000 }, batchers: { batchSize: 20 } });
  const writes: string[] = [];
  run.system.events.on('checkpoint', (e) => writes.push(e.sequenceNumber));
  try {
    // an interval is a minute here: the burst's last record is checkpointed long before one passes
    await eventually(async () => (writes.includes(last) ? true : undefined), 20_000, 'the checkpoint at the last record');
    t.deepEqual(writes, [last], 'one write, at the end of the burst');
  } finally {
    await run.stop();
  }
});
