import { DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { KinesisClientError } from '@kinesis-client/worker';
import { multiStreamLeaseKey, parseLeaseKey, sameStream, type StreamIdentifier } from '@kinesis-client/worker/internal';
import type { StreamOptions } from './stream-options.js';

/**
 * One stream of the application as the rest of the system sees it: its options, its ARN, and how
 * its shards' lease keys are written and recognised. In single-stream mode a lease key is the
 * bare shard id; in multi-stream mode it is the Java KCL's `account:stream:epoch:shardId`, and a
 * key of the same name with another epoch (a stream deleted and recreated) is not this stream's.
 */
export interface StreamUnit {
  readonly streamName: string;
  readonly options: StreamOptions;
  readonly arn: string;
  /** Multi-stream mode only: the identifier its lease keys start with. */
  readonly identifier: StreamIdentifier | undefined;
  /** With `retrieval.mode: 'fanout'`: the ARN of its registered stream consumer (withStreamConsumer). */
  readonly consumerArn?: string;
  leaseKeyOf(shardId: string): string;
  /** The shard a lease key names, when the lease is this stream's; undefined for any other. */
  shardOf(leaseKey: string): string | undefined;
}

/** A single-stream application's stream, its lease keys the bare shard ids (ARN unknown until described). */
export function singleStream(options: StreamOptions, arn = ''): StreamUnit {
  return { streamName: options.streamName, options, arn, identifier: undefined, leaseKeyOf: (shardId) => shardId, shardOf: (leaseKey) => leaseKey };
}

/** `arn:<partition>:kinesis:<region>:<account>:stream/<name>`: the account, as the Java KCL's StreamIdentifier reads it. */
function accountOf(arn: string): string {
  const account = arn.split(':')[4];
  if (!account || !/^[0-9]+$/.test(account)) throw new KinesisClientError('AWS_CALL_FAILED', `stream ARN "${arn}" names no account`, { details: { arn } });
  return account;
}

/** Streams deleted meanwhile, or never there, say so with STREAM_NOT_FOUND. */
async function describe(kinesis: KinesisClient, streamName: string) {
  try {
    const out = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    return out.StreamDescriptionSummary!;
  } catch (error) {
    if ((error as { name?: string })?.name === 'ResourceNotFoundException') {
      throw new KinesisClientError('STREAM_NOT_FOUND', `stream "${streamName}" does not exist`, { cause: error, details: { streamName } });
    }
    throw new KinesisClientError('AWS_CALL_FAILED', `DescribeStreamSummary for "${streamName}" failed: ${(error as Error)?.message}`, {
      cause: error,
      details: { streamName },
    });
  }
}

/**
 * Checks the stream exists and makes its unit. In multi-stream mode the identifier's epoch is the
 * stream's creation time in seconds (DescribeStreamSummary's StreamCreationTimestamp), the value
 * the Java KCL's MultiStreamTracker documentation has its users pass, and the account is the ARN's.
 */
export async function describeStream(kinesis: KinesisClient, options: StreamOptions, multi: boolean): Promise<StreamUnit> {
  const summary = await describe(kinesis, options.streamName);
  const arn = summary.StreamARN!;
  if (options.streamArn !== undefined && options.streamArn !== arn) {
    throw new KinesisClientError('STREAM_NOT_FOUND', `stream "${options.streamName}" is ${arn}, not ${options.streamArn}`, {
      details: { streamName: options.streamName, streamArn: options.streamArn },
    });
  }
  const { streamName } = options;
  if (!multi) return singleStream(options, arn);
  const created = summary.StreamCreationTimestamp;
  return multiStream({ accountId: accountOf(arn), streamName, creationEpoch: Math.max(1, Math.floor((created ? created.getTime() : 0) / 1000)) }, options, arn);
}

/** A stream of a multi-stream application, its lease keys `account:stream:epoch:shardId`. */
export function multiStream(identifier: StreamIdentifier, options: StreamOptions, arn: string): StreamUnit {
  const { streamName } = options;
  return {
    streamName,
    options,
    arn,
    identifier,
    leaseKeyOf: (shardId) => multiStreamLeaseKey(identifier, shardId),
    shardOf: (leaseKey) => {
      const parsed = parseLeaseKey(leaseKey);
      return parsed.stream && sameStream(parsed.stream, identifier) ? parsed.shardId : undefined;
    },
  };
}
