/** The soak's steady producer: JSON { k, n } with a counter per partition key, one record per key per call. */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { putRecords } from '@kinesis-client/examples/testing';
import type { Produced } from './logs.js';

export class SoakProducer {
  readonly produced: Produced[] = [];
  failedCalls = 0;
  private readonly counters: number[];
  private next = 0;
  private running: Promise<void> | undefined;
  private stopping = false;

  /**
   * `perTick` <= `keys`, so a call never holds two records of one key (PutRecords does not
   * promise order within a call), and calls are sequential: n+1 is written after n was acknowledged.
   */
  constructor(
    private readonly kinesis: KinesisClient,
    private readonly streamName: string,
    private readonly shape = { keys: 32, perTick: 16, tickMs: 100 },
  ) {
    this.counters = new Array<number>(shape.keys).fill(0);
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<Produced[]> {
    this.stopping = true;
    await this.running;
    return this.produced;
  }

  private async loop(): Promise<void> {
    const encoder = new TextEncoder();
    while (!this.stopping) {
      const batch = Array.from({ length: this.shape.perTick }, () => {
        const key = this.next++ % this.shape.keys;
        return { key, n: this.counters[key]!++ };
      });
      try {
        const results = await putRecords(
          this.kinesis,
          this.streamName,
          batch.map((b) => ({ PartitionKey: `key-${b.key}`, Data: encoder.encode(JSON.stringify({ k: b.key, n: b.n })) })),
        );
        const at = Date.now();
        results.forEach((r, i) => this.produced.push({ ...r, key: batch[i]!.key, n: batch[i]!.n, at }));
      } catch {
        // records of a call that failed as a whole are not counted as produced; their counters are skipped
        this.failedCalls++;
      }
      await new Promise((r) => setTimeout(r, this.shape.tickMs));
    }
  }
}
