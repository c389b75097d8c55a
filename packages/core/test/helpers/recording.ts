/**
 * What the core tests share on top of the testing module (@kinesis-client/examples/testing, which
 * starts the local services and systems): the recording consumer's deliveries, records to put,
 * checks on orders and on the lease table.
 */

import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { ExecutionContext } from 'ava';
import type { SystemOptions } from '@kinesis-client/core';
import { startSystem, uniqueName, type LocalAws, type SystemRun as BareRun } from '@kinesis-client/examples/testing';

/** Writes a checkpoint straight into a lease row, as another worker (a Java KCL one) would have left it. */
export async function writeCheckpoint(aws: LocalAws, table: string, shardId: string, sequenceNumber: string, subSequenceNumber: number): Promise<void> {
  await aws.dynamodb.send(
    new UpdateItemCommand({
      TableName: table,
      Key: { leaseKey: { S: shardId } },
      UpdateExpression: 'SET checkpoint = :c, checkpointSubSequenceNumber = :n',
      ExpressionAttributeValues: { ':c': { S: sequenceNumber }, ':n': { N: String(subSequenceNumber) } },
    }),
  );
}

export const fixture = (name: string, query: Record<string, string | number> = {}) => {
  const url = new URL(`../fixtures/${name}`, import.meta.url);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, String(v));
  return url;
};

const encoder = new TextEncoder();

/** `count` JSON records spread over `keys` partition keys, each carrying its global index. */
export function jsonRecords(count: number, { keys = 64, offset = 0, tag = 'r' } = {}) {
  return Array.from({ length: count }, (_, i) => ({
    PartitionKey: `pk-${(offset + i) % keys}`,
    Data: encoder.encode(JSON.stringify({ tag, i: offset + i })),
  }));
}

interface BatchReport {
  type: 'batch';
  streamName: string;
  shardId: string;
  attempt: number;
  sequenceNumbers: string[];
  subSequenceNumbers: number[];
  bodies: string[];
  /** Date.now() when handleBatch began and ended. */
  startedAt: number;
  endedAt: number;
}

/** Listens to the recording consumer's BroadcastChannel: what handleBatch really received. */
export class Deliveries {
  readonly channelName = uniqueName('kc-test');
  readonly batches: BatchReport[] = [];
  readonly threw: { shardId: string; attempt: number; first: string }[] = [];
  readonly failed: { shardId: string; sequenceNumbers: string[] }[] = [];
  private readonly channel = new BroadcastChannel(this.channelName);
  private waiters: (() => void)[] = [];

  constructor() {
    this.channel.onmessage = (event: MessageEvent) => {
      const m = event.data as { type: string };
      if (m.type === 'batch') this.batches.push(m as BatchReport);
      else if (m.type === 'threw') this.threw.push(m as never);
      else if (m.type === 'failed') this.failed.push(m as never);
      for (const w of this.waiters) w();
    };
  }

  get count(): number {
    return this.batches.reduce((n, b) => n + b.sequenceNumbers.length, 0) + this.failed.reduce((n, b) => n + b.sequenceNumbers.length, 0);
  }

  /** Sequence numbers per shard, in delivery order (duplicates included). */
  byShard(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const b of this.batches) {
      const list = out.get(b.shardId) ?? [];
      list.push(...b.sequenceNumbers);
      out.set(b.shardId, list);
    }
    return out;
  }

  /** Sequence numbers per `<streamName>/<shardId>`, in delivery order (duplicates included). */
  byStreamShard(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const b of this.batches) {
      const key = `${b.streamName}/${b.shardId}`;
      out.set(key, [...(out.get(key) ?? []), ...b.sequenceNumbers]);
    }
    return out;
  }

  bodies(): string[] {
    return this.batches.flatMap((b) => b.bodies);
  }

  async waitFor(predicate: () => boolean, timeoutMs = 60_000, what = 'deliveries'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (have ${this.count} records)`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      this.waiters = [];
    }
  }

  close(): void {
    this.channel.close();
  }
}

export function isAscending(seqs: readonly string[]): boolean {
  for (let i = 1; i < seqs.length; i++) if (BigInt(seqs[i - 1]!) >= BigInt(seqs[i]!)) return false;
  return true;
}

/** Waits until `check` holds, polling; for table state that settles after an event. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Sequence numbers sorted numerically (ava compares Sets in insertion order, so compare these). */
export const sortedSeqs = (seqs: Iterable<string>) => [...seqs].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));

export interface SystemRun extends BareRun {
  deliveries: Deliveries;
}

/**
 * A system with the recording consumer (`query`: its settings, see fixtures/recording-consumer.mjs)
 * on a fresh stream of `shards` shards, or on an existing stream and app; stopped, and its
 * deliveries closed, when the test ends.
 */
export async function startRecordingSystem(
  t: ExecutionContext,
  aws: LocalAws,
  shards: number | { stream: string; app: string },
  options: Partial<SystemOptions> = {},
  query: Record<string, string | number> = {},
): Promise<SystemRun> {
  const deliveries = new Deliveries();
  const where = typeof shards === 'number' ? { shards } : shards;
  const consumer = fixture('recording-consumer.mjs', { channel: deliveries.channelName, ...query });
  const run = await startSystem({ aws, consumer, options, ...where }).catch((error: unknown) => {
    deliveries.close();
    throw error;
  });
  const recording: SystemRun = {
    ...run,
    deliveries,
    async stop() {
      await run.stop();
      deliveries.close();
    },
  };
  t.teardown(() => recording.stop());
  return recording;
}

/** Waits until every shard's lease is checkpointed at the last record put to it. */
export function checkpointedAtLast(aws: LocalAws, app: string, put: readonly { shardId: string; sequenceNumber: string }[], timeoutMs = 15_000): Promise<true> {
  const last = new Map(put.map((p) => [p.shardId, p.sequenceNumber]));
  return eventually(async () => {
    const leases = await aws.leaseTable(app).scan();
    return leases.every((l) => l.checkpoint === last.get(l.leaseKey)) ? true : undefined;
  }, timeoutMs, 'checkpoints at the last records');
}
