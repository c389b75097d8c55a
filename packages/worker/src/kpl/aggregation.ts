/**
 * KPL record aggregation: many user records packed into one Kinesis record as
 *   magic F3 89 9A C2 | protobuf AggregatedRecord | MD5 of the protobuf (16 bytes).
 * The protobuf wire format is protobufjs's job; this file only knows the message shapes.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Type } from 'protobufjs';
import { KinesisClientError } from '../errors.js';

const KPL_MAGIC = Uint8Array.of(0xf3, 0x89, 0x9a, 0xc2);
const DIGEST_BYTES = 16;
/** A Kinesis record's data may be at most 1 MiB. */
const MAX_RECORD_BYTES = 1024 * 1024;

// the KPL's published message shapes; proto2, so optional fields have explicit presence
const SCHEMA = `
  syntax = "proto2";
  message AggregatedRecord {
    repeated string partition_key_table = 1;
    repeated string explicit_hash_key_table = 2;
    repeated Record records = 3;
  }
  message Tag {
    required string key = 1;
    optional string value = 2;
  }
  message Record {
    required uint64 partition_key_index = 1;
    optional uint64 explicit_hash_key_index = 2;
    required bytes data = 3;
    repeated Tag tags = 4;
  }
`;
let aggregatedRecord: Type | undefined;
/**
 * protobufjs is loaded when the first aggregate turns up, not when a pool thread starts: most
 * streams carry none, and it costs each thread tens of milliseconds of CPU.
 */
const AggregatedRecord = (): Type =>
  (aggregatedRecord ??= (createRequire(import.meta.url)('protobufjs') as typeof import('protobufjs')).parse(SCHEMA).root.lookupType('AggregatedRecord'));

interface DecodedRecord {
  partitionKeyIndex: number | { toNumber(): number };
  explicitHashKeyIndex?: number | { toNumber(): number } | null;
  data: Uint8Array;
}
interface DecodedAggregate {
  partitionKeyTable: string[];
  explicitHashKeyTable: string[];
  records: DecodedRecord[];
}

export interface UserRecord {
  partitionKey: string;
  explicitHashKey: string | undefined;
  data: Uint8Array;
}

const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest();
const index = (v: number | { toNumber(): number } | null | undefined) => (v == null ? undefined : typeof v === 'number' ? v : v.toNumber());

function hasKplMagic(data: Uint8Array): boolean {
  return data.byteLength > KPL_MAGIC.length + DIGEST_BYTES && KPL_MAGIC.every((b, i) => data[i] === b);
}

/**
 * The user records inside a KPL aggregate, in order; undefined when `data` is not one (no magic,
 * a digest mismatch, a protobuf that does not decode, a key index out of its table), in which case
 * the caller passes the record through as it is.
 */
export function deaggregate(data: Uint8Array): UserRecord[] | undefined {
  if (!hasKplMagic(data)) return undefined;
  const body = data.subarray(KPL_MAGIC.length, data.byteLength - DIGEST_BYTES);
  const digest = data.subarray(data.byteLength - DIGEST_BYTES);
  if (!md5(body).equals(digest)) return undefined;
  let decoded: DecodedAggregate;
  try {
    decoded = AggregatedRecord().decode(body) as unknown as DecodedAggregate;
  } catch {
    return undefined;
  }
  const out: UserRecord[] = [];
  for (const r of decoded.records) {
    const pk = decoded.partitionKeyTable[index(r.partitionKeyIndex)!];
    // protobufjs puts defaults on the prototype: only an own property was on the wire
    const ehkIndex = Object.hasOwn(r, 'explicitHashKeyIndex') ? index(r.explicitHashKeyIndex) : undefined;
    const ehk = ehkIndex === undefined ? undefined : decoded.explicitHashKeyTable[ehkIndex];
    if (pk === undefined || (ehkIndex !== undefined && ehk === undefined)) return undefined;
    out.push({ partitionKey: pk, explicitHashKey: ehk, data: r.data });
  }
  return out.length > 0 ? out : undefined;
}

/** Where Kinesis places a record: its explicit hash key, or the MD5 of its partition key as a 128-bit integer. */
export function hashKeyOf(record: { partitionKey: string; explicitHashKey?: string | undefined }): bigint {
  if (record.explicitHashKey !== undefined) return BigInt(record.explicitHashKey);
  return BigInt(`0x${md5(Buffer.from(record.partitionKey, 'utf8')).toString('hex')}`);
}

/**
 * Packs user records into one KPL aggregate, ready for PutRecord(s): its partition key is the
 * first record's, and its explicit hash key the first record's hash key, so the whole aggregate
 * lands on the shard that owns the first record (as the KPL does).
 */
export function aggregate(records: readonly UserRecord[]): { PartitionKey: string; ExplicitHashKey: string; Data: Uint8Array } {
  if (records.length === 0) throw new KinesisClientError('INVALID_ARGUMENT', 'aggregate: at least one user record is needed');
  const pkIndex = new Map<string, number>();
  const ehkIndex = new Map<string, number>();
  const intern = (table: Map<string, number>, key: string) => {
    let i = table.get(key);
    if (i === undefined) table.set(key, (i = table.size));
    return i;
  };
  const type = AggregatedRecord();
  const message = type.fromObject({
    records: records.map((r) => ({
      partitionKeyIndex: intern(pkIndex, r.partitionKey),
      ...(r.explicitHashKey === undefined ? {} : { explicitHashKeyIndex: intern(ehkIndex, r.explicitHashKey) }),
      data: r.data,
    })),
  }) as unknown as DecodedAggregate;
  message.partitionKeyTable = [...pkIndex.keys()];
  message.explicitHashKeyTable = [...ehkIndex.keys()];
  const body = type.encode(message as never).finish();
  const data = new Uint8Array(KPL_MAGIC.length + body.byteLength + DIGEST_BYTES);
  data.set(KPL_MAGIC, 0);
  data.set(body, KPL_MAGIC.length);
  data.set(md5(body), KPL_MAGIC.length + body.byteLength);
  if (data.byteLength > MAX_RECORD_BYTES) {
    throw new KinesisClientError('INVALID_ARGUMENT', `aggregate: ${data.byteLength} bytes is over the 1 MiB record limit; aggregate fewer records`, {
      details: { bytes: data.byteLength, records: records.length },
    });
  }
  return { PartitionKey: records[0]!.partitionKey, ExplicitHashKey: hashKeyOf(records[0]!).toString(), Data: data };
}
