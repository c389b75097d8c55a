/**
 * Positions in a shard, as checkpoints name them: a sequence number (with a sub-sequence number
 * inside a KPL aggregate), or a sentinel. TRIM_HORIZON, LATEST and AT_TIMESTAMP come before any
 * record; SHARD_END after all of them. Sequence numbers compare as integers (they are too long
 * for a double).
 */
import { SHARD_END, START_SENTINELS } from './lease/lease.js';

export interface Position {
  sequenceNumber: string;
  subSequenceNumber: number;
}

export { START_SENTINELS };

const rank = (checkpoint: string): number => (START_SENTINELS.has(checkpoint) ? 0 : checkpoint === SHARD_END ? 2 : 1);

/** Negative when `a` comes first, 0 when equal, positive when `a` comes later. */
export function comparePositions(a: Position, b: Position): number {
  const ra = rank(a.sequenceNumber);
  const rb = rank(b.sequenceNumber);
  if (ra !== rb || ra !== 1) return ra - rb;
  const sa = BigInt(a.sequenceNumber);
  const sb = BigInt(b.sequenceNumber);
  if (sa !== sb) return sa < sb ? -1 : 1;
  return a.subSequenceNumber - b.subSequenceNumber;
}

/** The later of two positions; either may be missing. */
export function laterPosition(a: Position | undefined, b: Position | undefined): Position | undefined {
  if (!a) return b;
  if (!b) return a;
  return comparePositions(a, b) >= 0 ? a : b;
}

/** Wall-clock margin under an anchor written at take time: records stamped by a clock behind ours are not skipped. */
export const ANCHOR_SKEW_MS = 5_000;

/** What a reader is told to start from. `timestamp`: the anchor, for starts at a sentinel. */
interface StartFrom extends Position {
  timestamp?: number;
}

/**
 * Where a reader starts. A concrete position is used as it is. A LATEST or AT_TIMESTAMP one is
 * read from its anchor (AT_TIMESTAMP), except by the first reader of the owner that wrote the
 * anchor at LATEST (`exact`), which takes LATEST itself; the anchor still goes along, for that
 * reader's own later restarts. Without an anchor (a row no worker of ours took) the sentinel stands.
 */
export function startFrom(at: Position, anchor: number | undefined, exact: boolean): StartFrom {
  const sentinel = at.sequenceNumber === 'LATEST' || at.sequenceNumber === 'AT_TIMESTAMP';
  if (!sentinel || anchor === undefined) return at;
  const checkpoint = exact && at.sequenceNumber === 'LATEST' ? 'LATEST' : 'AT_TIMESTAMP';
  return { sequenceNumber: checkpoint, subSequenceNumber: 0, timestamp: anchor };
}

/** The anchor a take writes for a sentinel checkpoint: the configured timestamp for AT_TIMESTAMP, else our clock less a margin. */
export function anchorFor(checkpoint: string, initialTimestamp: number | undefined, wallNow: number): number | undefined {
  if (checkpoint === 'AT_TIMESTAMP') return initialTimestamp ?? wallNow - ANCHOR_SKEW_MS;
  if (checkpoint === 'LATEST') return wallNow - ANCHOR_SKEW_MS;
  return undefined;
}
