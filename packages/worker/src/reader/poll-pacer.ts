import { backoffDelay, type BackoffOptions } from '../backoff.js';

/** Kinesis allows each shard 5 GetRecords calls and 2 MB of reads per second. */
export const KINESIS_SHARD_LIMITS = { minCallIntervalMs: 200, maxBytesPerSecond: 2 * 1024 * 1024 };

interface PacerLimits {
  minCallIntervalMs: number;
  maxBytesPerSecond: number;
  /** The longest wait between calls on a shard that keeps coming back empty. */
  idleMs: number;
  throttleBackoff: BackoffOptions;
}

interface Page {
  records: number;
  bytes: number;
  /** The service's lag, or (where it reports 0 regardless, as kinesalite does) a full page. */
  behind: boolean;
}

/**
 * When one shard's next GetRecords may go: at once while the shard is behind, within its call and
 * byte budgets; backing off while pages come back empty, up to idleMs; and backing off further on
 * throttling, for this shard only, until a call succeeds. Pure: time comes in as arguments.
 */
export class PollPacer {
  private lastCallAt = Number.NEGATIVE_INFINITY;
  private lastBytes = 0;
  private emptyPages = 0;
  private behind = true;
  private throttles = 0;
  private throttleUntil = Number.NEGATIVE_INFINITY;

  constructor(private readonly limits: PacerLimits) {}

  called(now: number): void {
    this.lastCallAt = now;
  }

  received(page: Page): void {
    this.throttles = 0;
    this.lastBytes = page.bytes;
    this.emptyPages = page.records === 0 ? this.emptyPages + 1 : 0;
    this.behind = page.behind;
  }

  /** Returns the backoff applied; the next call waits at least that long. */
  throttled(now: number, random?: () => number): number {
    this.throttles++;
    const delay = backoffDelay(this.throttles, this.limits.throttleBackoff, random);
    this.throttleUntil = now + delay;
    return delay;
  }

  get consecutiveThrottles(): number {
    return this.throttles;
  }

  /** Milliseconds from `now` until the next call may go. */
  delay(now: number): number {
    const { minCallIntervalMs, maxBytesPerSecond, idleMs } = this.limits;
    // the byte budget: a 2 MB page uses up one second of the shard's read allowance
    const budget = Math.max(minCallIntervalMs, (this.lastBytes / maxBytesPerSecond) * 1000);
    let wanted = 0;
    if (!this.behind && this.emptyPages > 0) wanted = Math.min(idleMs, minCallIntervalMs * 2 ** (this.emptyPages - 1));
    const at = Math.max(this.lastCallAt + budget, this.lastCallAt + wanted, this.throttleUntil);
    return Math.max(0, at - now);
  }
}
