/** What the one-worker and the many-worker demos share: the order producer and how a run ends. */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { putRecords } from './testing/index.js';

export const fmt = (n: number) => n.toLocaleString('en-US');

/** Writes `rate` orders a second in 100 ms ticks until stopped; `produced` counts what was sent. */
export class OrderProducer {
  produced = 0;
  private producing = true;
  private readonly running: Promise<void>;

  constructor(kinesis: KinesisClient, streamName: string, rate: number) {
    const encoder = new TextEncoder();
    const tickMs = 100;
    this.running = (async () => {
      while (this.producing) {
        const started = Date.now();
        const entries = Array.from({ length: Math.round((rate * tickMs) / 1000) }, () => {
          const orderId = this.produced++;
          const customer = `customer-${orderId % 1000}`;
          return { PartitionKey: customer, Data: encoder.encode(JSON.stringify({ orderId, customer, amountCents: 100 + (orderId % 9_900) })) };
        });
        if (entries.length) await putRecords(kinesis, streamName, entries);
        await new Promise((r) => setTimeout(r, Math.max(0, tickMs - (Date.now() - started))));
      }
    })();
  }

  /** Resolves once the call in progress is acknowledged. */
  stop(): Promise<void> {
    this.producing = false;
    return this.running;
  }
}

/** Ctrl-C, SIGTERM or the end of --duration stop the demo; the timer alone never keeps it alive. */
export function stopOn(stop: (why: string) => unknown, durationS: number): void {
  process.once('SIGINT', () => void stop('Ctrl-C'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  if (durationS > 0) setTimeout(() => void stop(`--duration ${durationS}s reached`), durationS * 1000).unref();
}
