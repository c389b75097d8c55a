/**
 * When a shard's checkpoint is written. Writes are at least `intervalMs` apart: that bounds what
 * checkpoints cost. Within that bound a handled batch is written as soon as its shard has nothing
 * left to hand over (idle), so the end of a burst is checkpointed at once rather than an interval
 * later; while batches keep coming, once the oldest one not yet written is an interval old. Either
 * way a crash replays at most about an interval of handled records. Pure: time comes in as
 * arguments (the lease actor's clock).
 */
export class CheckpointPace {
  private lastWriteAt = Number.NEGATIVE_INFINITY;
  /** When the oldest handled batch not yet written was noted. */
  private pendingSince: number | undefined;

  constructor(private readonly intervalMs: number) {}

  /** A batch was handled; returns when its checkpoint is due. */
  handled(now: number, idle: boolean): number {
    this.pendingSince ??= now;
    const spaced = this.lastWriteAt + this.intervalMs;
    return idle ? spaced : Math.max(spaced, this.pendingSince + this.intervalMs);
  }

  /** A write starts. */
  writing(now: number): void {
    this.lastWriteAt = now;
  }

  /** A write carried every handled batch noted so far. */
  caughtUp(): void {
    this.pendingSince = undefined;
  }
}
