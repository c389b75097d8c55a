import type { Message } from './consumer.js';

/**
 * A batch crosses threads as one transferable buffer of payloads plus parallel metadata arrays,
 * never as per-record clones: the cost is one copy of the payload bytes, whatever the count.
 */
/** A record as GetRecords returns it: readers buffer the SDK's objects as they come. */
export interface RawRecord {
  Data?: Uint8Array | undefined;
  PartitionKey?: string | undefined;
  SequenceNumber?: string | undefined;
  ApproximateArrivalTimestamp?: Date | undefined;
}

export interface PackedRecords {
  count: number;
  payload: ArrayBuffer;
  /** `count + 1` offsets into `payload`. */
  offsets: Uint32Array;
  partitionKeys: string[];
  sequenceNumbers: string[];
  arrivals: Float64Array;
}

export function packRecords(records: readonly RawRecord[]): PackedRecords {
  const count = records.length;
  const offsets = new Uint32Array(count + 1);
  let total = 0;
  for (let i = 0; i < count; i++) {
    offsets[i] = total;
    total += records[i]!.Data?.byteLength ?? 0;
  }
  offsets[count] = total;
  const payload = new ArrayBuffer(total);
  const bytes = new Uint8Array(payload);
  const partitionKeys = new Array<string>(count);
  const sequenceNumbers = new Array<string>(count);
  const arrivals = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const r = records[i]!;
    if (r.Data) bytes.set(r.Data, offsets[i]!);
    partitionKeys[i] = r.PartitionKey ?? '';
    sequenceNumbers[i] = r.SequenceNumber ?? '';
    arrivals[i] = r.ApproximateArrivalTimestamp?.getTime() ?? 0;
  }
  return { count, payload, offsets, partitionKeys, sequenceNumbers, arrivals };
}

export function transferablesOf(packed: PackedRecords): ArrayBuffer[] {
  return [packed.payload, packed.offsets.buffer as ArrayBuffer, packed.arrivals.buffer as ArrayBuffer];
}

/** Payloads come back as views over the one transferred buffer; nothing is copied. */
export function unpackRecords(packed: PackedRecords, shardId: string, streamName: string): Message[] {
  const out = new Array<Message>(packed.count);
  for (let i = 0; i < packed.count; i++) {
    const start = packed.offsets[i]!;
    out[i] = {
      data: new Uint8Array(packed.payload, start, packed.offsets[i + 1]! - start),
      partitionKey: packed.partitionKeys[i]!,
      sequenceNumber: packed.sequenceNumbers[i]!,
      subSequenceNumber: 0,
      approximateArrivalTimestamp: new Date(packed.arrivals[i]!),
      explicitHashKey: undefined,
      shardId,
      streamName,
    };
  }
  return out;
}
