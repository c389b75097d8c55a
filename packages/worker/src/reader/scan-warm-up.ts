/**
 * A fresh shard-host thread would read its first GetRecords pages with the scan
 * (get-records-scan.ts) still unoptimized: V8 compiles a function only once it has run a while,
 * and a first page of 10 000 records is mostly read before that, several times slower than later
 * ones. Scanning a small made-up answer a few times, while the thread waits on its first calls (the
 * lease takes, GetShardIterator), has V8 start compiling the scan before the first real page comes.
 */
import { scanGetRecords } from './get-records-scan.js';

/** An answer shaped as GetRecords answers are, with `count` records of about 200 bytes. */
function madeUpAnswer(count: number): Buffer {
  const data = Buffer.alloc(200, 'warm-up ').toString('base64');
  const records = Array.from({ length: count }, (_, i) => ({
    SequenceNumber: `49${String(i).padStart(54, '0')}`,
    ApproximateArrivalTimestamp: 1_700_000_000.123 + i,
    Data: data,
    PartitionKey: `warm-up-${i}`,
  }));
  return Buffer.from(JSON.stringify({ Records: records, NextShardIterator: 'AAAAAAAAAAE=', MillisBehindLatest: 0 }));
}

/**
 * Scans a made-up answer of `count` records `rounds` times, yielding to the thread's other work
 * before each round; resolves with the records the scan read (rounds × count).
 */
export async function warmUpScan(rounds = 4, count = 250): Promise<number> {
  const answer = madeUpAnswer(count);
  let read = 0;
  for (let r = 0; r < rounds; r++) {
    await new Promise((resolve) => setImmediate(resolve));
    read += scanGetRecords(answer)?.page.count ?? 0;
  }
  return read;
}
