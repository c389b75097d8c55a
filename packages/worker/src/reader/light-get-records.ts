/**
 * A lighter reading of GetRecords answers, for the shard hosts' Kinesis client. The SDK walks every
 * record through its schema and gives each its own objects (a Buffer for the payload, a Date, the
 * strings); here the body is scanned once into a page of packed records (get-records-scan.ts),
 * the form records keep until a pool thread makes Messages of them. `recordPage(output)` is how a
 * reader takes the records of any GetRecords output; `output.Records` still has the SDK's shape,
 * built on first use.
 *
 * Only a successful (2xx) answer that scans as expected is read here: errors, and anything
 * unexpected, go to the SDK's own deserializer untouched, so retries, error names and $metadata
 * stay the SDK's. It plugs into the client's middleware stack around the SDK's deserializer: the
 * inner step takes the body and leaves the SDK an empty object to parse (for $metadata), the outer
 * step puts the page and the other fields into the output.
 */
import { Readable } from 'node:stream';
import type { GetRecordsCommandOutput, KinesisClient, _Record } from '@aws-sdk/client-kinesis';
import { packRecords, sequenceNumberAt, type PackedRecords } from '../batch-codec.js';
import { scanGetRecords, type ScannedGetRecords } from './get-records-scan.js';

type Next = (args: unknown) => Promise<{ response?: unknown; output?: unknown }>;
interface Context {
  commandName?: string;
  [SCANNED]?: ScannedGetRecords;
}
interface HttpResponse {
  statusCode: number;
  body: unknown;
}

const SCANNED = Symbol('kinesis-client: GetRecords scanned');
const PAGE = Symbol('kinesis-client: GetRecords page');
const EMPTY = Buffer.from('{}');
const DESERIALIZER = 'deserializerMiddleware';

/**
 * Where an answer's chunks are put together for the scan, reused: the scan is synchronous and
 * copies out what it keeps, so one buffer per thread serves every shard. A fresh buffer per
 * answer (Buffer.concat) costs a page fault per 4 KiB of it, some 25 times the copy itself.
 */
let scratch = Buffer.allocUnsafeSlow(0);

async function chunksOf(body: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return chunks;
}

/** The chunks as one buffer, valid until the next call. */
function joined(chunks: readonly Buffer[]): Buffer {
  if (chunks.length === 1) return chunks[0]!;
  let length = 0;
  for (const chunk of chunks) length += chunk.byteLength;
  if (scratch.byteLength < length) scratch = Buffer.allocUnsafeSlow(Math.max(length, 2 * scratch.byteLength));
  let at = 0;
  for (const chunk of chunks) {
    scratch.set(chunk, at);
    at += chunk.byteLength;
  }
  return scratch.subarray(0, length);
}

/** The SDK's record objects for a page: only for code that asks for `Records`. */
function sdkRecords(page: PackedRecords): _Record[] {
  const { count: n, bounds: b } = page;
  const text = Buffer.from(page.bytes);
  return Array.from({ length: n }, (_, i) => ({
    Data: new Uint8Array(page.bytes, b[i], b[i + 1]! - b[i]!),
    PartitionKey: text.toString('utf8', b[n + i], b[n + i + 1]),
    SequenceNumber: sequenceNumberAt(page, i),
    ApproximateArrivalTimestamp: new Date(page.arrivals[i]!),
  }));
}

/** A GetRecords output's records as one page, however the output was read. */
export function recordPage(output: GetRecordsCommandOutput): PackedRecords {
  return (output as { [PAGE]?: PackedRecords })[PAGE] ?? packRecords(output.Records ?? []);
}

/** Installs the lighter reading on a Kinesis client's GetRecords calls; other commands are untouched. */
export function readGetRecordsLightly(client: KinesisClient): KinesisClient {
  const inner = (next: Next, context: Context) => async (args: unknown) => {
    const result = await next(args);
    const response = result.response as HttpResponse | undefined;
    if (context.commandName !== 'GetRecordsCommand' || !response || response.statusCode < 200 || response.statusCode >= 300) return result;
    const chunks = await chunksOf(response.body as AsyncIterable<Buffer>);
    const scanned = scanGetRecords(joined(chunks));
    if (scanned) context[SCANNED] = scanned;
    response.body = Readable.from(scanned ? [EMPTY] : chunks);
    return result;
  };
  const outer = (next: Next, context: Context) => async (args: unknown) => {
    const result = await next(args);
    const scanned = context[SCANNED];
    if (!scanned) return result;
    delete context[SCANNED];
    const { page, fields } = scanned;
    let records: _Record[] | undefined;
    const output = { ...(result.output as object), ...fields, [PAGE]: page };
    Object.defineProperty(output, 'Records', { enumerable: true, get: () => (records ??= sdkRecords(page)) });
    result.output = output;
    return result;
  };
  const stack = client.middlewareStack as unknown as {
    addRelativeTo(middleware: unknown, options: { relation: 'before' | 'after'; toMiddleware: string; name: string }): void;
  };
  stack.addRelativeTo(outer, { relation: 'before', toMiddleware: DESERIALIZER, name: 'kinesisClientGetRecordsOutput' });
  stack.addRelativeTo(inner, { relation: 'after', toMiddleware: DESERIALIZER, name: 'kinesisClientGetRecordsBody' });
  return client;
}
