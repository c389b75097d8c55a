import type { ResumePoint } from '../kpl/expand.js';
import { SHARD_END } from '../lease/lease.js';

/** Where a reader starts a shard, for GetShardIterator and SubscribeToShard alike. */
type StartPosition =
  | { type: 'SHARD_END' }
  | { type: 'TRIM_HORIZON' | 'LATEST' }
  | { type: 'AT_TIMESTAMP'; timestamp: Date }
  /** `skipThrough`: user records up to and including this (sequence, sub-sequence) are already handled. */
  | { type: 'AT_SEQUENCE_NUMBER'; sequenceNumber: string; skipThrough: ResumePoint };

/**
 * The times an AT_TIMESTAMP start may come from. `anchor`: the lease's own (checkpointTimestamp,
 * written by its first owner's take or by `kinesis-client reset --to <time>`); `initial`: the
 * configured initialPosition's. The lease's own wins: it is what this shard was moved to.
 */
export interface StartTimestamps {
  anchor: number | undefined;
  initial: number | undefined;
}

/**
 * The Java KCL's resume rule, so a lease either library wrote resumes the same way: a concrete
 * checkpoint (seq, sub) is read again AT_SEQUENCE_NUMBER and every user record up to and including
 * (seq, sub) is skipped. A plain record checkpointed at (seq, 0) is skipped whole; an aggregate
 * checkpointed at (seq, 0) by a Java worker still delivers its user records 1..n-1, which an
 * AFTER_SEQUENCE_NUMBER start would lose.
 */
export function startPosition(checkpoint: string, subSequenceNumber: number, timestamps: StartTimestamps): StartPosition {
  switch (checkpoint) {
    case SHARD_END:
    case 'TRIM_HORIZON':
    case 'LATEST':
      return { type: checkpoint };
    case 'AT_TIMESTAMP':
      return { type: 'AT_TIMESTAMP', timestamp: new Date(timestamps.anchor ?? timestamps.initial ?? 0) };
    default:
      return { type: 'AT_SEQUENCE_NUMBER', sequenceNumber: checkpoint, skipThrough: { sequenceNumber: checkpoint, subSequenceNumber } };
  }
}
