import { DescribeStreamConsumerCommand, RegisterStreamConsumerCommand, type ConsumerDescription, type KinesisClient } from '@aws-sdk/client-kinesis';
import { KinesisClientError } from '@kinesis-client/worker';
import type { ResolvedOptions } from './options.js';
import type { StreamUnit } from './stream-unit.js';

const errorName = (e: unknown) => (e as { name?: string })?.name;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The enhanced fan-out consumer of the stream, registered if missing and reused if present, once
 * ACTIVE. Idempotent across workers: when several register at once, one wins and the others find
 * its consumer; one still DELETING is waited out and registered again.
 */
export async function ensureStreamConsumer(
  kinesis: KinesisClient,
  streamArn: string,
  consumerName: string,
  { timeoutMs = 120_000, pollMs = 250 } = {},
): Promise<string> {
  const fail = (message: string, cause?: unknown) =>
    new KinesisClientError('STREAM_CONSUMER_FAILED', `stream consumer "${consumerName}": ${message}`, { cause, details: { consumerName, streamArn } });
  const describe = async (): Promise<ConsumerDescription | undefined> => {
    try {
      const out = await kinesis.send(new DescribeStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: consumerName }));
      return out.ConsumerDescription;
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException') return undefined;
      throw fail(`DescribeStreamConsumer failed: ${(error as Error)?.message}`, error);
    }
  };
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const found = await describe();
    if (found?.ConsumerStatus === 'ACTIVE') return found.ConsumerARN!;
    if (!found) {
      try {
        await kinesis.send(new RegisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: consumerName }));
      } catch (error) {
        // ResourceInUse: another worker registered it between our describe and register, so use
        // theirs; LimitExceeded: too many consumers CREATING at once on the stream, so wait
        if (errorName(error) !== 'ResourceInUseException' && errorName(error) !== 'LimitExceededException') {
          throw fail(`RegisterStreamConsumer failed: ${(error as Error)?.message}`, error);
        }
        lastError = error;
      }
    }
    if (Date.now() > deadline) throw fail(`not ACTIVE after ${timeoutMs} ms (last status ${found?.ConsumerStatus ?? 'missing'})`, lastError);
    await sleep(pollMs);
  }
}

/**
 * The stream as the system reads it: with fan-out, its consumer (`retrieval.consumerName`, the same
 * name on every stream) registered or found; with polling, as it is.
 */
export async function withStreamConsumer(kinesis: KinesisClient, unit: StreamUnit, retrieval: ResolvedOptions['retrieval']): Promise<StreamUnit> {
  if (retrieval.mode !== 'fanout') return unit;
  return { ...unit, consumerArn: await ensureStreamConsumer(kinesis, unit.arn, retrieval.consumerName) };
}
