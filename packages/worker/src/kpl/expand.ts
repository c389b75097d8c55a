import type { Message } from '../consumer.js';
import { deaggregate, hashKeyOf, type UserRecord } from './aggregation.js';

export interface HashKeyRange {
  startingHashKey: string;
  endingHashKey: string;
}

/** A checkpoint (sequence, sub-sequence): every user record up to and including it is done. */
export interface ResumePoint {
  sequenceNumber: string;
  subSequenceNumber: number;
}

interface Bounds {
  low: bigint;
  high: bigint;
}

/** A lease row's hash range as numbers; none (no filtering) when the row's keys are not decimal integers. */
function boundsOf(range: HashKeyRange | undefined): Bounds | undefined {
  if (!range) return undefined;
  try {
    return { low: BigInt(range.startingHashKey), high: BigInt(range.endingHashKey) };
  } catch {
    return undefined;
  }
}

/**
 * One Kinesis record's user records after the resume point and inside the shard's range, or
 * undefined when the record is not a usable aggregate. Throws on a user record whose explicit hash
 * key is not a number: the caller then treats the whole record as corrupt.
 */
function expandOne(message: Message, bounds: Bounds | undefined, skipThrough: number): { users: UserRecord[]; kept: [UserRecord, number][] } | undefined {
  const users = deaggregate(message.data);
  if (!users) return undefined;
  const kept: [UserRecord, number][] = [];
  users.forEach((user, sub) => {
    const hash = bounds || user.explicitHashKey !== undefined ? hashKeyOf(user) : undefined;
    if (sub <= skipThrough) return;
    if (bounds && (hash! < bounds.low || hash! > bounds.high)) return;
    kept.push([user, sub]);
  });
  return { users, kept };
}

/**
 * Replaces each KPL aggregate in a batch by its user records (sub-sequence numbers 0..n-1), in the
 * pool thread, before handleMessage. User records hashed outside the shard's range are dropped, as
 * the Java KCL does: after a reshard an aggregate can carry records that now belong to a sibling.
 * At `resumeAfter` (the checkpoint the shard resumed at, read again AT_SEQUENCE_NUMBER), user
 * records up to and including its sub-sequence number are skipped, and a plain record is skipped
 * whole. Anything in a record that cannot be read (a wrong magic or digest, a protobuf that does
 * not decode, an explicit hash key that is not a number) makes that record corrupt: it passes
 * through whole, so one poison record never fails its batch or stalls its shard.
 * `lastSubSequenceNumber` is what the batch's checkpoint records for its last Kinesis record.
 */
export function expandAggregates(messages: Message[], range?: HashKeyRange, resumeAfter?: ResumePoint): { messages: Message[]; lastSubSequenceNumber: number } {
  let out: Message[] | undefined;
  let lastSubSequenceNumber = 0;
  const bounds = boundsOf(range);
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!;
    const resumingHere = resumeAfter !== undefined && message.sequenceNumber === resumeAfter.sequenceNumber;
    let expanded: ReturnType<typeof expandOne>;
    try {
      expanded = expandOne(message, bounds, resumingHere ? resumeAfter.subSequenceNumber : -1);
    } catch {
      expanded = undefined;
    }
    if (!expanded) {
      lastSubSequenceNumber = 0;
      // a plain (or corrupt) record at the resume point was handled whole before the checkpoint
      if (resumingHere) out ??= messages.slice(0, i);
      else out?.push(message);
      continue;
    }
    out ??= messages.slice(0, i);
    lastSubSequenceNumber = expanded.users.length - 1;
    for (const [user, sub] of expanded.kept) {
      out.push({ ...message, data: user.data, partitionKey: user.partitionKey, explicitHashKey: user.explicitHashKey, subSequenceNumber: sub });
    }
  }
  return { messages: out ?? messages, lastSubSequenceNumber };
}
