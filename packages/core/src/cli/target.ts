/** Where `reset --to` moves a checkpoint, parsed before anything is read or written. */
import { usageError } from './usage.js';

/** What a checkpoint becomes: a sentinel, a sequence number (handled through it), or AT_TIMESTAMP with the time as its anchor. */
export interface ResetTarget {
  checkpoint: string;
  /** Epoch ms, for AT_TIMESTAMP: written as the lease's checkpointTimestamp. */
  timestamp?: number;
}

/** Parses --to; pure. */
export function parseTarget(to: string, wallNow: number): ResetTarget {
  const upper = to.toUpperCase();
  if (upper === 'TRIM_HORIZON' || upper === 'LATEST') return { checkpoint: upper };
  if (/^\d{1,128}$/.test(to)) return { checkpoint: to };
  if (/^\d{4}-\d{2}-\d{2}(T|$)/.test(to)) {
    const timestamp = Date.parse(to);
    if (Number.isNaN(timestamp)) throw usageError(`--to "${to}" is not a valid ISO time`);
    if (timestamp > wallNow) throw usageError(`--to ${to} is in the future`);
    return { checkpoint: 'AT_TIMESTAMP', timestamp };
  }
  throw usageError(`--to must be TRIM_HORIZON, LATEST, a sequence number or an ISO time (2026-01-31T12:00:00Z), not "${to}"`);
}
