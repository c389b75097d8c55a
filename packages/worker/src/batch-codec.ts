/**
 * A batch crosses threads as one transferable buffer of payloads plus parallel metadata arrays,
 * never as per-record clones: the cost is one copy of the payload bytes, whatever the count.
 */
export interface RawRecord {
  data: Uint8Array;
  partitionKey: string;
  sequenceNumber: string;
  approximateArrivalTimestamp: number;
  explicitHashKey: string | undefined;
}

export interface PackedRecords {
  count: number;
  payload: ArrayBuffer;
  /** `count + 1` offsets into `payload`. */
  offsets: Uint32Array;
  partitionKeys: string[];
  sequenceNumbers: string[];
  arrivals: Float64Array;
  /** Sparse: only records that carry an explicit hash key appear. */
  explicitHashKeys: Record<number, string>;
}

export function packRecords(records: readonly RawRecord[]): PackedRecords {
  const count = records.length;
  const offsets = new Uint32Array(count + 1);
  let total = 0;
  for (let i = 0; i < count; i++) {
    offsets[i] = total;
    total += records[i]!.data.byteLength;
  }
  offsets[count] = total;
  const payload = new ArrayBuffer(total);
  const bytes = new Uint8Array(payload);
  const partitionKeys = new Array<string>(count);
  const sequenceNumbers = new Array<string>(count);
  const arrivals = new Float64Array(count);
  const explicitHashKeys: Record<number, string> = {};
  for (let i = 0; i < count; i++) {
    const r = records[i]!;
    bytes.set(r.data, offsets[i]!);
    partitionKeys[i] = r.partitionKey;
    sequenceNumbers[i] = r.sequenceNumber;
    arrivals[i] = r.approximateArrivalTimestamp;
    if (r.explicitHashKey !== undefined) explicitHashKeys[i] = r.explicitHashKey;
  }
  return { count, payload, offsets, partitionKeys, sequenceNumbers, arrivals, explicitHashKeys };
}

export function transferablesOf(packed: PackedRecords): ArrayBuffer[] {
  return [packed.payload, packed.offsets.buffer as ArrayBuffer, packed.arrivals.buffer as ArrayBuffer];
}

export interface UnpackedRecord {
  data: Uint8Array;
  partitionKey: string;
  sequenceNumber: string;
  approximateArrivalTimestamp: Date;
  explicitHashKey: string | undefined;
}

/** Payloads come back as views over the one transferred buffer; nothing is copied. */
export function unpackRecords(packed: PackedRecords): UnpackedRecord[] {
  const out = new Array<UnpackedRecord>(packed.count);
  for (let i = 0; i < packed.count; i++) {
    const start = packed.offsets[i]!;
    out[i] = {
      data: new Uint8Array(packed.payload, start, packed.offsets[i + 1]! - start),
      partitionKey: packed.partitionKeys[i]!,
      sequenceNumber: packed.sequenceNumbers[i]!,
      approximateArrivalTimestamp: new Date(packed.arrivals[i]!),
      explicitHashKey: packed.explicitHashKeys[i],
    };
  }
  return out;
}
