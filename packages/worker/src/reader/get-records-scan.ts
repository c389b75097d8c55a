import { uninitialized, type PackedRecords } from '../batch-codec.js';

/**
 * Reads a GetRecords answer's JSON straight into a page of packed records: payloads decoded from
 * base64 into the page's one buffer, partition keys and sequence numbers copied as bytes, and no
 * object, string or array made per record. The other top-level fields (NextShardIterator,
 * MillisBehindLatest, ChildShards, ...) are small and go through JSON.parse. Anything it does not
 * expect (a missing field, a payload that is not plain base64, malformed JSON) gives undefined,
 * and the caller lets the SDK read the answer instead.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const EQUALS = 0x3d;
const DOT = 0x2e;
const ZERO = 0x30;

/** Per record, in `marks`: payload start/end, key start/end, sequence number start/end (in the body). */
const FIELDS = 6;
const DATA = 0;
const KEY = 2;
const SEQ = 4;

class Unexpected extends Error {}
const fail = (): never => {
  throw new Unexpected();
};

const isSpace = (c: number | undefined) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isDigit = (c: number | undefined) => c !== undefined && c >= ZERO && c <= ZERO + 9;

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

class Scanner {
  at = 0;
  /** Where the last string() ended (exclusive); it began at `at` before the call, past the quote. */
  end = 0;
  constructor(readonly body: Buffer) {}

  /** The next byte that is not whitespace. */
  peek(): number {
    const { body } = this;
    while (isSpace(body[this.at])) this.at++;
    if (this.at >= body.length) fail();
    return body[this.at]!;
  }

  expect(c: number): void {
    if (this.peek() !== c) fail();
    this.at++;
  }

  /** At an opening quote: moves past the string; returns where its content starts (`end`: where it ends). */
  string(): number {
    this.expect(QUOTE);
    const start = this.at;
    let end = this.body.indexOf(QUOTE, start);
    for (;;) {
      if (end < 0) fail();
      let slashes = 0;
      while (this.body[end - 1 - slashes] === BACKSLASH) slashes++;
      if (slashes % 2 === 0) break;
      end = this.body.indexOf(QUOTE, end + 1);
    }
    this.at = end + 1;
    this.end = end;
    return start;
  }

  /** Moves past any value; returns where it started. */
  skip(): number {
    const c = this.peek();
    const start = this.at;
    if (c === QUOTE) {
      this.string();
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      let depth = 0;
      do {
        const d = this.peek();
        if (d === QUOTE) this.string();
        else {
          if (d === OPEN_OBJECT || d === OPEN_ARRAY) depth++;
          else if (d === CLOSE_OBJECT || d === CLOSE_ARRAY) depth--;
          this.at++;
        }
      } while (depth > 0);
    } else {
      const { body } = this;
      while (this.at < body.length && body[this.at] !== COMMA && body[this.at] !== CLOSE_OBJECT && body[this.at] !== CLOSE_ARRAY && !isSpace(body[this.at])) this.at++;
    }
    return start;
  }

  /** After a member or an element: true when another follows, false past the closing bracket. */
  more(close: number): boolean {
    const c = this.peek();
    this.at++;
    if (c === COMMA) return true;
    if (c !== close) fail();
    return false;
  }

  /** At `{` or `[`: false (and past it) when it closes at once. */
  open(open: number, close: number): boolean {
    this.expect(open);
    if (this.peek() !== close) return true;
    this.at++;
    return false;
  }

  /** Whether body[start, end) is `name` (ASCII). */
  is(start: number, end: number, name: string): boolean {
    if (end - start !== name.length) return false;
    for (let i = 0; i < name.length; i++) if (this.body[start + i] !== name.charCodeAt(i)) return false;
    return true;
  }

  /** Epoch seconds at `at`, as Number() reads them; NaN when the digits are more than a double holds exactly. */
  seconds(): number {
    const { body } = this;
    const start = this.skip();
    let digits = 0;
    let mantissa = 0;
    let scale = 0;
    let i = start;
    for (; isDigit(body[i]); i++, digits++) mantissa = mantissa * 10 + body[i]! - ZERO;
    if (body[i] === DOT) for (i++; isDigit(body[i]); i++, digits++, scale--) mantissa = mantissa * 10 + body[i]! - ZERO;
    if (body[i] === 0x45 || body[i] === 0x65) {
      i++;
      const negative = body[i] === 0x2d;
      if (negative || body[i] === 0x2b) i++;
      let exponent = 0;
      for (; isDigit(body[i]); i++) exponent = exponent * 10 + body[i]! - ZERO;
      scale += negative ? -exponent : exponent;
    }
    // an integer below 2^53 scaled by an exact power of ten rounds once, as Number() does
    if (i === this.at && digits > 0 && digits <= 15 && scale >= -22 && scale <= 22) return scale < 0 ? mantissa / 10 ** -scale : mantissa * 10 ** scale;
    return Number(body.toString('latin1', start, this.at));
  }
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
  const key = firstEscape(body, marks[m + KEY]!, marks[m + KEY + 1]!);
  if (key >= 0) escaped.set(n, Buffer.from(JSON.parse(body.toString('utf8', marks[m + KEY]! - 1, marks[m + KEY + 1]! + 1)) as string));
}

function allDigits(body: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isDigit(body[i])) return false;
  return true;
}

/** Where the first backslash in body[start, end) is; -1 if none. */
function firstEscape(body: Buffer, start: number, end: number): number {
  for (let i = start; i < end; i++) if (body[i] === BACKSLASH) return i;
  return -1;
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
