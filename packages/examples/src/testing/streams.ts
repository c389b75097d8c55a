/** Streams from the outside, as a producer or an operator sees them: create, write, fresh names. */
import { randomBytes } from 'node:crypto';
import { CreateStreamCommand, DescribeStreamSummaryCommand, PutRecordsCommand, type KinesisClient, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';

/** `prefix-` and 8 hex digits: a stream or application no other test (or run) uses. */
export const uniqueName = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

export async function createStream(kinesis: KinesisClient, streamName: string, shardCount: number): Promise<void> {
  await kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shardCount }));
  for (let i = 0; i < 200; i++) {
    const { StreamDescriptionSummary } = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    if (StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`stream ${streamName} did not become ACTIVE`);
}

/** PutRecords in chunks of 500, retrying entries the service rejected; returns each entry's shard and sequence number. */
export async function putRecords(
  kinesis: KinesisClient,
  streamName: string,
  entries: PutRecordsRequestEntry[],
): Promise<{ shardId: string; sequenceNumber: string }[]> {
  const out: { shardId: string; sequenceNumber: string }[] = new Array(entries.length);
  for (let start = 0; start < entries.length; start += 500) {
    let pending = entries.slice(start, start + 500).map((entry, i) => ({ entry, index: start + i }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 20) throw new Error('PutRecords kept failing');
      const res = await kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: pending.map((p) => p.entry) }));
      const failed: typeof pending = [];
      res.Records!.forEach((r, i) => {
        if (r.ErrorCode) failed.push(pending[i]!);
        else out[pending[i]!.index] = { shardId: r.ShardId!, sequenceNumber: r.SequenceNumber! };
      });
      pending = failed;
      if (failed.length) await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
    }
  }
  return out;
}
