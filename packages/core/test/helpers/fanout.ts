/** What the fan-out tests (kinesis-mock) share: quick options, and a stream's registered consumers. */
import { DescribeStreamSummaryCommand, ListStreamConsumersCommand } from '@aws-sdk/client-kinesis';
import type { SystemOptions } from '@kinesis-client/core';
import type { LocalAws } from '@kinesis-client/examples/testing';

export const FANOUT_QUICK = {
  lease: { failoverMs: 6_000 },
  processors: { concurrency: 1 },
  shardHosts: { threads: 1 },
  batchers: { batchSize: 50, backoff: { baseMs: 5, maxMs: 20 } },
} satisfies Partial<SystemOptions>;

/** The stream's registered consumers, with the stream's ARN beside each. */
export async function streamConsumers(aws: LocalAws, stream: string) {
  const { StreamDescriptionSummary } = await aws.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
  const streamArn = StreamDescriptionSummary!.StreamARN!;
  const { Consumers } = await aws.kinesis.send(new ListStreamConsumersCommand({ StreamARN: streamArn }));
  return (Consumers ?? []).map((c) => ({ ...c, streamArn }));
}
