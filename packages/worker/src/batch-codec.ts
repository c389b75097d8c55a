import type { Message } from './consumer.js';

/**
 * Records travel columnar, from a page read off the wire to the pool thread that runs them: one
 * buffer with every payload, partition key and sequence number as bytes, one array of bounds and
 * one of arrival times. Crossing threads costs three transfers, whatever the count; only the pool
 * thread makes per-record objects, the Messages the consumer gets.
 */

/** A record as the SDK returns it (SubscribeToShard events, GetRecords read by the SDK). */
export interface RawRecord {
  Data?: Uint8Array | undefined;
  PartitionKey?: string | undefined;
  SequenceNumber?: string | undefined;
  ApproximateArrivalTimestamp?: Date | undefined;
}

/**
 * A page of records or a batch of them. With n = count, record i's payload is
 * bytes[bounds[i], bounds[i + 1]), its partition key (UTF-8) bytes[bounds[n + i], bounds[n + i + 1])
 * and its sequence number (ASCII digits) bytes[bounds[2n + i], bounds[2n + i + 1]).
 */
export interface PackedRecords {
  count: number;
  bytes: ArrayBuffer;
  /** 3 × count + 1 offsets into `bytes`. */
  bounds: Uint32Array;
  /** ApproximateArrivalTimestamp, epoch ms. */
  arrivals: Float64Array;
}

/** Records `start` to `end` (exclusive) of a page. */
export interface RecordRange {
  page: PackedRecords;
  start: number;
  end: number;
}

const encoder = new TextEncoder();

/** A buffer every byte of which is written before it is read: no zeroing, and never a slice of Node's shared pool (it is transferred). */
export const uninitialized = (bytes: number): ArrayBuffer => Buffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer;

/** Packs the SDK's record objects. */
export function packRecords(records: readonly RawRecord[]): PackedRecords {
  const n = records.length;
  const keys = records.map((r) => encoder.encode(r.PartitionKey ?? ''));
  let total = 0;
  for (let i = 0; i < n; i++) total += (records[i]!.Data?.byteLength ?? 0) + keys[i]!.byteLength + (records[i]!.SequenceNumber?.length ?? 0);
  const bytes = uninitialized(total);
  const out = Buffer.from(bytes);
  const bounds = new Uint32Array(3 * n + 1);
  const arrivals = new Float64Array(n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    bounds[i] = at;
    const data = records[i]!.Data;
    if (data) out.set(data, at);
    at += data?.byteLength ?? 0;
    arrivals[i] = records[i]!.ApproximateArrivalTimestamp?.getTime() ?? 0;
  }
  for (let i = 0; i < n; i++) {
    bounds[n + i] = at;
    out.set(keys[i]!, at);
    at += keys[i]!.byteLength;
  }
  for (let i = 0; i < n; i++) {
    bounds[2 * n + i] = at;
    at += out.write(records[i]!.SequenceNumber ?? '', at, 'latin1');
  }
  bounds[3 * n] = at;
  return { count: n, bytes, bounds, arrivals };
}

/** Copies consecutive ranges of pages into one batch (the pages stay as they are: a batch may be sent again). */
export function sliceRecords(ranges: readonly RecordRange[]): PackedRecords {
  let n = 0;
  let total = 0;
  for (const { page, start, end } of ranges) {
    const b = page.bounds;
    const pn = page.count;
    n += end - start;
    total += b[end]! - b[start]! + b[pn + end]! - b[pn + start]! + b[2 * pn + end]! - b[2 * pn + start]!;
  }
  const bytes = uninitialized(total);
  const out = new Uint8Array(bytes);
  const bounds = new Uint32Array(3 * n + 1);
  const arrivals = new Float64Array(n);
  let at = 0;
  for (let section = 0; section < 3; section++) {
    let i = section * n;
    for (const { page, start, end } of ranges) {
      const b = page.bounds;
      const from = section * page.count;
      const shift = at - b[from + start]!;
      for (let j = start; j < end; j++) bounds[i++] = b[from + j]! + shift;
      out.set(new Uint8Array(page.bytes, b[from + start]!, b[from + end]! - b[from + start]!), at);
      at = b[from + end]! + shift;
    }
  }
  bounds[3 * n] = at;
  let i = 0;
  for (const { page, start, end } of ranges) {
    arrivals.set(page.arrivals.subarray(start, end), i);
    i += end - start;
  }
  return { count: n, bytes, bounds, arrivals };
}

export function transferablesOf(packed: PackedRecords): ArrayBuffer[] {
  return [packed.bytes, packed.bounds.buffer as ArrayBuffer, packed.arrivals.buffer as ArrayBuffer];
}

/** Record i's sequence number. */
export function sequenceNumberAt(packed: PackedRecords, i: number): string {
  const at = 2 * packed.count + i;
  return Buffer.from(packed.bytes).toString('latin1', packed.bounds[at], packed.bounds[at + 1]);
}

/** Payload bytes of records `start` to `end` (exclusive). */
export const payloadBytes = (packed: PackedRecords, start = 0, end = packed.count): number => packed.bounds[end]! - packed.bounds[start]!;

/** Payloads come back as views over the one transferred buffer; nothing is copied. */
export function unpackRecords(packed: PackedRecords, shardId: string, streamName: string): Message[] {
  const { count: n, bounds: b, arrivals } = packed;
  const text = Buffer.from(packed.bytes);
  const out = new Array<Message>(n);
  for (let i = 0; i < n; i++) {
    out[i] = {
      data: new Uint8Array(packed.bytes, b[i], b[i + 1]! - b[i]!),
      partitionKey: text.toString('utf8', b[n + i], b[n + i + 1]),
      sequenceNumber: text.toString('latin1', b[2 * n + i], b[2 * n + i + 1]),
      subSequenceNumber: 0,
      approximateArrivalTimestamp: new Date(arrivals[i]!),
      explicitHashKey: undefined,
      shardId,
      streamName,
    };
  }
  return out;
}
