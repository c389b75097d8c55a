import { uninitialized, type PackedRecords } from '../batch-codec.js';
import { BACKSLASH, COLON, OPEN_OBJECT, CLOSE_OBJECT, OPEN_ARRAY, CLOSE_ARRAY, EQUALS, Scanner, Unexpected, fail, isDigit } from './json-scanner.js';

/**
 * Reads a GetRecords answer's JSON straight into a page of packed records: payloads decoded from
 * base64 into the page's one buffer, partition keys and sequence numbers copied as bytes, and no
 * object, string or array made per record. The other top-level fields (NextShardIterator,
 * MillisBehindLatest, ChildShards, ...) are small and go through JSON.parse. Anything it does not
 * expect (a missing field, a payload that is not plain base64, malformed JSON) gives undefined,
 * and the caller lets the SDK read the answer instead.
 */

/** Per record, in `marks`: payload start/end, key start/end, sequence number start/end (in the body). */
const FIELDS = 6;
const DATA = 0;
const KEY = 2;
const SEQ = 4;

/**
 * Reused from scan to scan (a scan is synchronous): where the records are, while the page's size is
 * not known yet. Sized once per answer from its length (a record takes more than MIN_RECORD_BYTES of
 * JSON), never while records are read, and held in an object rather than module-level variables:
 * replacing those would throw away the optimized code of every function that reads them, and a
 * fresh thread would compile it all again.
 */
const MIN_RECORD_BYTES = 48;
/** GetRecords answers hold at most 10 000 records; a service that sends more is read by the SDK. */
const MAX_RECORDS = 10_000;
const work = { marks: new Uint32Array(FIELDS * 1024), arrivals: new Float64Array(1024) };

function reserve(bodyLength: number): void {
  const most = Math.min(Math.ceil(bodyLength / MIN_RECORD_BYTES) + 1, MAX_RECORDS);
  if (work.arrivals.length >= most) return;
  work.marks = new Uint32Array(FIELDS * most);
  work.arrivals = new Float64Array(most);
}

/** Bytes decoded from the base64 text body[start, end). */
function decodedLength(body: Buffer, start: number, end: number): number {
  const length = end - start;
  if (length % 4 !== 0) fail();
  return (length / 4) * 3 - (length > 0 && body[end - 1] === EQUALS ? (body[end - 2] === EQUALS ? 2 : 1) : 0);
}

export interface ScannedGetRecords {
  page: PackedRecords;
  /** Every other top-level field, as JSON.parse reads it. */
  fields: Record<string, unknown>;
}

export function scanGetRecords(body: Buffer): ScannedGetRecords | undefined {
  try {
    return scan(body);
  } catch (error) {
    if (error instanceof Unexpected || error instanceof SyntaxError) return undefined;
    throw error;
  }
}

function scan(body: Buffer): ScannedGetRecords {
  reserve(body.length);
  const s = new Scanner(body);
  const fields: Record<string, unknown> = {};
  /** Records whose partition key has escapes: decoded by JSON.parse, as UTF-8. */
  const escaped = new Map<number, Buffer>();
  let n = -1;
  if (s.open(OPEN_OBJECT, CLOSE_OBJECT)) {
    do {
      const ks = s.string();
      const ke = s.end;
      s.expect(COLON);
      if (!s.is(ks, ke, 'Records')) {
        const start = s.skip();
        fields[body.toString('latin1', ks, ke)] = JSON.parse(body.toString('utf8', start, s.at));
        continue;
      }
      n = 0;
      if (!s.open(OPEN_ARRAY, CLOSE_ARRAY)) continue;
      do {
        if (n >= work.arrivals.length) fail();
        record(s, n, escaped);
        n++;
      } while (s.more(CLOSE_ARRAY));
    } while (s.more(CLOSE_OBJECT));
  }
  if (n < 0) fail();
  return { page: build(body, n, escaped), fields };
}

/**
 * Record n's object: where its fields are, into `work`. Each loop over records or bytes is a
 * function of its own, here and in build: V8 optimizes a long-running loop on its own (on-stack
 * replacement) knowing only what ran so far, and a function whose later loops had not run yet is
 * thrown away on reaching them, and compiled again, several times per page in a fresh thread.
 */
function record(s: Scanner, n: number, escaped: Map<number, Buffer>): void {
  const { body } = s;
  const { marks, arrivals } = work;
  const m = n * FIELDS;
  let seen = 0;
  arrivals[n] = 0;
  if (s.open(OPEN_OBJECT, CLOSE_OBJECT)) {
    do {
      const fs = s.string();
      const fe = s.end;
      s.expect(COLON);
      const field = s.is(fs, fe, 'Data') ? DATA : s.is(fs, fe, 'PartitionKey') ? KEY : s.is(fs, fe, 'SequenceNumber') ? SEQ : -1;
      if (field >= 0) {
        const vs = s.string();
        marks[m + field] = vs;
        marks[m + field + 1] = s.end;
        seen |= 1 << field;
      } else if (s.is(fs, fe, 'ApproximateArrivalTimestamp')) {
        // epoch seconds, read as the SDK reads them
        const seconds = s.seconds();
        if (!Number.isFinite(seconds)) fail();
        arrivals[n] = Math.round(seconds * 1000);
      } else {
        s.skip();
      }
    } while (s.more(CLOSE_OBJECT));
  }
  if (seen !== (1 << DATA) + (1 << KEY) + (1 << SEQ)) fail();
  // a sequence number is plain digits; a payload plain base64 (an escape in it shows as a short decode in build)
  if (marks[m + SEQ] === marks[m + SEQ + 1] || !allDigits(body, marks[m + SEQ]!, marks[m + SEQ + 1]!)) fail();
  if (hasEscape(body, marks[m + KEY]!, marks[m + KEY + 1]!)) escaped.set(n, Buffer.from(JSON.parse(body.toString('utf8', marks[m + KEY]! - 1, marks[m + KEY + 1]! + 1)) as string));
}

function allDigits(body: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isDigit(body[i])) return false;
  return true;
}

function hasEscape(body: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (body[i] === BACKSLASH) return true;
  return false;
}

function build(body: Buffer, n: number, escaped: ReadonlyMap<number, Buffer>): PackedRecords {
  const bytes = uninitialized(pageBytes(body, n, escaped));
  const out = Buffer.from(bytes);
  const bounds = new Uint32Array(3 * n + 1);
  let at = decodePayloads(body, n, out, bounds);
  at = copyKeys(body, n, escaped, out, bounds, at);
  at = copySequenceNumbers(body, n, out, bounds, at);
  bounds[3 * n] = at;
  return { count: n, bytes, bounds, arrivals: work.arrivals.slice(0, n) };
}

function pageBytes(body: Buffer, n: number, escaped: ReadonlyMap<number, Buffer>): number {
  const { marks } = work;
  const anyEscaped = escaped.size > 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const m = i * FIELDS;
    const length = decodedLength(body, marks[m + DATA]!, marks[m + DATA + 1]!);
    total += length + marks[m + SEQ + 1]! - marks[m + SEQ]!;
    total += (anyEscaped && escaped.get(i)?.byteLength) || marks[m + KEY + 1]! - marks[m + KEY]!;
  }
  return total;
}

/**
 * Buffer's own per-encoding methods, which its toString and write call once they have looked the
 * encoding up (Node 20 to 24 have them). Called straight, the 10 000 payloads of a page skip that
 * look-up twice each: a fresh thread runs it unoptimized, for a third of a cold page's scan.
 */
interface EncodingMethods {
  latin1Slice(start: number, end: number): string;
  base64Write(text: string, offset: number, length: number): number;
}

/** Payloads, base64-decoded, from 0; returns where they end. */
function decodePayloads(body: Buffer, n: number, out: Buffer, bounds: Uint32Array): number {
  const { marks } = work;
  const text = body as unknown as EncodingMethods;
  const bytes = out as unknown as EncodingMethods;
  let at = 0;
  for (let i = 0; i < n; i++) {
    const m = i * FIELDS;
    const start = marks[m + DATA]!;
    const end = marks[m + DATA + 1]!;
    bounds[i] = at;
    const expected = ((end - start) / 4) * 3 - (end > start && body[end - 1] === EQUALS ? (body[end - 2] === EQUALS ? 2 : 1) : 0);
    if (bytes.base64Write(text.latin1Slice(start, end), at, expected) !== expected) fail();
    at += expected;
  }
  return at;
}

function copyKeys(body: Buffer, n: number, escaped: ReadonlyMap<number, Buffer>, out: Buffer, bounds: Uint32Array, from: number): number {
  const { marks } = work;
  const anyEscaped = escaped.size > 0;
  let at = from;
  for (let i = 0; i < n; i++) {
    const m = i * FIELDS;
    bounds[n + i] = at;
    const key = anyEscaped ? escaped.get(i) : undefined;
    if (key) at += key.copy(out, at);
    else at = copyBytes(body, marks[m + KEY]!, marks[m + KEY + 1]!, out, at);
  }
  return at;
}

/** A few bytes: a loop beats a native copy, which makes a view of each. */
function copyBytes(body: Buffer, start: number, end: number, out: Buffer, to: number): number {
  let at = to;
  for (let j = start; j < end; j++) out[at++] = body[j]!;
  return at;
}

function copySequenceNumbers(body: Buffer, n: number, out: Buffer, bounds: Uint32Array, from: number): number {
  const { marks } = work;
  let at = from;
  for (let i = 0; i < n; i++) {
    const m = i * FIELDS;
    bounds[2 * n + i] = at;
    out.set(body.subarray(marks[m + SEQ], marks[m + SEQ + 1]), at);
    at += marks[m + SEQ + 1]! - marks[m + SEQ]!;
  }
  return at;
}
