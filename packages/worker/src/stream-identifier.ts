/**
 * A stream as a multi-stream lease table names it, in the Java KCL's format: `account:stream:epoch`
 * (the creation time of the stream in epoch seconds). The epoch tells a stream from one deleted and
 * recreated under the same name, so the new one never resumes the old one's checkpoints.
 *
 * A multi-stream lease key is `account:stream:epoch:shardId`, and its row carries the identifier in
 * `streamName` and the shard in `shardId` (the Java KCL's MultiStreamLease). A single-stream table's
 * lease key is the bare shard id. This module is the one place that reads or writes either form.
 */
export interface StreamIdentifier {
  /** The 12-digit account that owns the stream (any digits are accepted when read). */
  readonly accountId: string;
  readonly streamName: string;
  /** Seconds since the epoch at which the stream was created. */
  readonly creationEpoch: number;
}

const IDENTIFIER = /^([0-9]+):([^:]+):([0-9]+)$/;
const MULTI_STREAM_KEY = /^([0-9]+):([^:]+):([0-9]+):([^:]+)$/;

/** `account:stream:epoch`, the value of a multi-stream lease's `streamName` attribute. */
export function serializeStreamIdentifier(id: StreamIdentifier): string {
  return `${id.accountId}:${id.streamName}:${id.creationEpoch}`;
}

/** The identifier `account:stream:epoch` names, or undefined if it is not one. */
export function parseStreamIdentifier(text: string): StreamIdentifier | undefined {
  const match = IDENTIFIER.exec(text);
  if (match === null) return undefined;
  const creationEpoch = Number(match[3]);
  return creationEpoch > 0 ? { accountId: match[1]!, streamName: match[2]!, creationEpoch } : undefined;
}

/** The lease key of a shard of a stream in a multi-stream table. */
export function multiStreamLeaseKey(id: StreamIdentifier, shardId: string): string {
  return `${serializeStreamIdentifier(id)}:${shardId}`;
}

/** What a lease key names: the shard, and its stream when the key is a multi-stream one. */
export interface ParsedLeaseKey {
  readonly shardId: string;
  /** Undefined for a single-stream key (a bare shard id): the stream is the application's one. */
  readonly stream: StreamIdentifier | undefined;
}

export function parseLeaseKey(leaseKey: string): ParsedLeaseKey {
  const match = MULTI_STREAM_KEY.exec(leaseKey);
  if (match === null) return { shardId: leaseKey, stream: undefined };
  const creationEpoch = Number(match[3]);
  if (!(creationEpoch > 0)) return { shardId: leaseKey, stream: undefined };
  return { shardId: match[4]!, stream: { accountId: match[1]!, streamName: match[2]!, creationEpoch } };
}

/** Whether two identifiers name the same stream incarnation (name, account and creation epoch). */
export function sameStream(a: StreamIdentifier, b: StreamIdentifier): boolean {
  return a.accountId === b.accountId && a.streamName === b.streamName && a.creationEpoch === b.creationEpoch;
}
