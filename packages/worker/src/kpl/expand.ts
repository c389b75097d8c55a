import type { Message } from '../consumer.js';
import { deaggregate, hashKeyOf } from './aggregation.js';

export interface HashKeyRange {
  startingHashKey: string;
  endingHashKey: string;
}

/** A checkpoint inside an aggregate: user records up to and including this one are done. */
export interface ResumePoint {
  sequenceNumber: string;
  subSequenceNumber: number;
}

/**
 * Replaces each KPL aggregate in a batch by its user records (sub-sequence numbers 0..n-1), in the
 * pool thread, before handleMessage. User records hashed outside the shard's range are dropped, as
 * the Java KCL does: after a reshard an aggregate can carry records that now belong to a sibling.
 * `lastSubSequenceNumber` is what the batch's checkpoint records for its last Kinesis record.
 */
export function expandAggregates(messages: Message[], range?: HashKeyRange, resumeAfter?: ResumePoint): { messages: Message[]; lastSubSequenceNumber: number } {
  let out: Message[] | undefined;
  let lastSubSequenceNumber = 0;
  const low = range ? BigInt(range.startingHashKey) : undefined;
  const high = range ? BigInt(range.endingHashKey) : undefined;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!;
    const resumingHere = resumeAfter !== undefined && message.sequenceNumber === resumeAfter.sequenceNumber;
    const users = deaggregate(message.data);
    if (!users) {
      lastSubSequenceNumber = 0;
      // a plain record at the resume point was handled whole before the checkpoint
      if (resumingHere) out ??= messages.slice(0, i);
      else out?.push(message);
      continue;
    }
    out ??= messages.slice(0, i);
    lastSubSequenceNumber = users.length - 1;
    users.forEach((user, sub) => {
      if (resumingHere && sub <= resumeAfter.subSequenceNumber) return;
      if (low !== undefined) {
        const hash = hashKeyOf(user);
        if (hash < low || hash > high!) return;
      }
      out!.push({ ...message, data: user.data, partitionKey: user.partitionKey, explicitHashKey: user.explicitHashKey, subSequenceNumber: sub });
    });
  }
  return { messages: out ?? messages, lastSubSequenceNumber };
}
