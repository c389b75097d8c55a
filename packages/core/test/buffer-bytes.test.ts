import test from 'ava';
import { putRecords, withLocalAws } from '@kinesis-client/examples/testing';
import { jsonRecords, startRecordingSystem } from './helpers/recording.js';

const aws = withLocalAws(test);

test.serial('read-ahead is bounded in bytes: large records and a slow consumer never buffer more than maxBufferedBytes plus one page', async (t) => {
  const RECORD = 100 * 1024;
  const PAGE = 5;
  const MAX_BYTES = 256 * 1024;
  const COUNT = 40;
  const run = await startRecordingSystem(
    t,
    aws,
    1,
    { retrieval: { maxBufferedBytes: MAX_BYTES, getRecordsLimit: PAGE, idleMs: 50 }, batchers: { batchSize: 2 }, processors: { concurrency: 1 }, shardHosts: { threads: 1 } },
    { delayMs: 200 },
  );
  let maxBytes = 0;
  let maxRecords = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      for (const s of await run.system.status()) {
        maxBytes = Math.max(maxBytes, s.bufferedBytes);
        maxRecords = Math.max(maxRecords, s.bufferedRecords);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  try {
    const big = 'x'.repeat(RECORD);
    const records = jsonRecords(COUNT).map((r, i) => ({ ...r, Data: new TextEncoder().encode(JSON.stringify({ i, big }).slice(0, RECORD)) }));
    // PutRecords takes at most 5 MiB a call
    for (let i = 0; i < COUNT; i += 10) await putRecords(aws.kinesis, run.stream, records.slice(i, i + 10));
    await run.deliveries.waitFor(() => run.deliveries.count >= COUNT, 60_000);
  } finally {
    sampling = false;
    await sampler;
    await run.stop();
  }
  t.log(`largest buffer seen: ${maxRecords} records, ${maxBytes} bytes`);
  t.true(maxBytes > 0, 'bufferedBytes is reported');
  t.true(maxBytes < MAX_BYTES + PAGE * RECORD, `bytes bounded (${maxBytes})`);
  t.true(maxRecords < Math.ceil(MAX_BYTES / RECORD) + PAGE, `records bounded (${maxRecords})`);
  t.is(run.deliveries.count, COUNT);
});
