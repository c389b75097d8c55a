import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { putRecords } from './streams.js';

/** One record the producer wrote: where Kinesis put it, and its key's counter. */
export interface Produced {
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  n: number;
}

export interface CountingProducerOptions {
  /** Partition keys `key-0` .. `key-(keys-1)`, written round robin. */
  keys?: number;
  /** Records per PutRecords call. */
  perTick?: number;
  /** Pause between calls. */
  tickMs?: number;
}

/**
 * Writes records continuously whose JSON payload `{ k, n }` carries a per-partition-key counter,
 * so a reader can check per-key order across splits and merges. Calls are sequential: a key's
 * record n+1 is never written before record n was acknowledged.
 */
export class CountingProducer {
  readonly produced: Produced[] = [];
  private readonly counters: number[];
  private readonly perTick: number;
  private readonly tickMs: number;
  private next = 0;
  private running: Promise<void> | undefined;
  private stopping = false;
  private bursts: { count: number; written: () => void }[] = [];

  constructor(
    private readonly kinesis: KinesisClient,
    private readonly streamName: string,
    { keys = 32, perTick = 30, tickMs = 50 }: CountingProducerOptions = {},
  ) {
    this.counters = new Array<number>(keys).fill(0);
    this.perTick = perTick;
    this.tickMs = tickMs;
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** Adds `count` records to the next call; resolves once they are written. */
  burst(count: number): Promise<void> {
    return new Promise((written) => this.bursts.push({ count, written }));
  }

  /** Resolves once the call in progress is acknowledged; rejects if producing failed. */
  async stop(): Promise<Produced[]> {
    this.stopping = true;
    await this.running;
    for (const b of this.bursts.splice(0)) b.written();
    return this.produced;
  }

  private async loop(): Promise<void> {
    const encoder = new TextEncoder();
    while (!this.stopping) {
      const bursts = this.bursts.splice(0);
      const batch = Array.from({ length: bursts.reduce((n, b) => n + b.count, this.perTick) }, () => {
        const k = this.next++ % this.counters.length;
        const n = this.counters[k]!++;
        return { partitionKey: `key-${k}`, n, entry: { PartitionKey: `key-${k}`, Data: encoder.encode(JSON.stringify({ k, n })) } };
      });
      const results = await putRecords(this.kinesis, this.streamName, batch.map((b) => b.entry));
      results.forEach((r, i) => this.produced.push({ ...r, partitionKey: batch[i]!.partitionKey, n: batch[i]!.n }));
      for (const b of bursts) b.written();
      await new Promise((r) => setTimeout(r, this.tickMs));
    }
  }
}
