/**
 * Which shard runs on which shard-host thread: the one record of it on the main thread. The
 * coordinator places and forgets shards here, fault injection finds a shard's thread here, and it
 * outlives a coordinator restart, since the threads keep running their shards meanwhile.
 */
export class Placement {
  private readonly hostOfShard = new Map<string, number>();

  /** The index, among `candidates`, of the thread running the fewest shards. */
  leastBusy(candidates: readonly number[]): number | undefined {
    const load = new Map(candidates.map((index) => [index, 0]));
    for (const index of this.hostOfShard.values()) if (load.has(index)) load.set(index, load.get(index)! + 1);
    let best: number | undefined;
    for (const [index, n] of load) if (best === undefined || n < load.get(best)!) best = index;
    return best;
  }

  add(shardId: string, host: number): void {
    this.hostOfShard.set(shardId, host);
  }

  remove(shardId: string): void {
    this.hostOfShard.delete(shardId);
  }

  hostOf(shardId: string): number | undefined {
    return this.hostOfShard.get(shardId);
  }

  has(shardId: string): boolean {
    return this.hostOfShard.has(shardId);
  }

  shards(): string[] {
    return [...this.hostOfShard.keys()];
  }

  shardsOn(host: number): string[] {
    return [...this.hostOfShard].filter(([, index]) => index === host).map(([shardId]) => shardId);
  }

  /** A thread died: nothing runs on it any more. */
  dropHost(host: number): void {
    for (const shardId of this.shardsOn(host)) this.hostOfShard.delete(shardId);
  }
}
