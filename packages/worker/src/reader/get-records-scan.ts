import type { PackedRecords } from '../batch-codec.js';

/**
 * Reads a GetRecords answer's JSON straight into a page of packed records: payloads decoded from
 * base64 into the page's one buffer, partition keys and sequence numbers copied as bytes, no
 * object or string per record. The other top-level fields (NextShardIterator,
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

/** Per record: payload start/end, key start/end, sequence number start/end (in the body), and whether its key has escapes. */
const FIELDS = 7;
const DATA = 0;
const KEY = 2;
const SEQ = 4;
const ESCAPED = 6;

class Unexpected extends Error {}
const fail = (): never => {
  throw new Unexpected();
};

const isSpace = (c: number | undefined) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

class Scanner {
  at = 0;
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

  /** At an opening quote: returns the string's inner start and end, and moves past it. */
  string(): [number, number] {
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
    return [start, end];
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

  /** Between members: true when another follows. */
  more(close: number): boolean {
    const c = this.peek();
    if (c === COMMA) {
      this.at++;
      return true;
    }
    if (c !== close) fail();
    this.at++;
    return false;
  }

  /** `{ "k": v, ... }`, calling `member` with each key's bounds when the scanner is at its value. */
  object(member: (keyStart: number, keyEnd: number) => void): void {
    this.expect(OPEN_OBJECT);
    if (this.peek() === CLOSE_OBJECT) return void this.at++;
    do {
      const [ks, ke] = this.string();
      this.expect(COLON);
      member(ks, ke);
    } while (this.more(CLOSE_OBJECT));
  }

  /** Whether body[start, end) is `name` (ASCII). */
  is(start: number, end: number, name: string): boolean {
    if (end - start !== name.length) return false;
    for (let i = 0; i < name.length; i++) if (this.body[start + i] !== name.charCodeAt(i)) return false;
    return true;
  }

  /** Whether body[start, end) holds a byte outside '0'..'9'. */
  notDigits(start: number, end: number): boolean {
    for (let i = start; i < end; i++) if (this.body[i]! < 0x30 || this.body[i]! > 0x39) return true;
    return start === end;
  }

  has(byte: number, start: number, end: number): boolean {
    for (let i = start; i < end; i++) if (this.body[i] === byte) return true;
    return false;
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
  const s = new Scanner(body);
  const fields: Record<string, unknown> = {};
  let marks = new Float64Array(FIELDS * 1024);
  const arrivals: number[] = [];
  let n = 0;
  let found = false;
  const record = () => {
    if (marks.length < (n + 1) * FIELDS) {
      const grown = new Float64Array(marks.length * 2);
      grown.set(marks);
      marks = grown;
    }
    const m = n * FIELDS;
    marks[m + DATA] = marks[m + KEY] = marks[m + SEQ] = -1;
    marks[m + ESCAPED] = 0;
    arrivals[n] = 0;
    s.object((ks, ke) => {
      const at = s.is(ks, ke, 'Data') ? DATA : s.is(ks, ke, 'PartitionKey') ? KEY : s.is(ks, ke, 'SequenceNumber') ? SEQ : -1;
      if (at >= 0) {
        const [vs, ve] = s.string();
        marks[m + at] = vs;
        marks[m + at + 1] = ve;
        // a payload is plain base64 (a skipped escape shows as a short decode in build) and a sequence number plain digits
        if (at === SEQ && s.notDigits(vs, ve)) fail();
        if (at === KEY && s.has(BACKSLASH, vs, ve)) marks[m + ESCAPED] = 1;
      } else if (s.is(ks, ke, 'ApproximateArrivalTimestamp')) {
        const start = s.skip();
        // epoch seconds, read as the SDK reads them
        const seconds = Number(body.toString('latin1', start, s.at));
        if (!Number.isFinite(seconds)) fail();
        arrivals[n] = Math.round(seconds * 1000);
      } else {
        s.skip();
      }
    });
    if (marks[m + DATA]! < 0 || marks[m + KEY]! < 0 || marks[m + SEQ]! < 0) fail();
    n++;
  };
  s.object((ks, ke) => {
    if (s.is(ks, ke, 'Records')) {
      found = true;
      s.expect(OPEN_ARRAY);
      if (s.peek() === CLOSE_ARRAY) return void s.at++;
      do record();
      while (s.more(CLOSE_ARRAY));
      return;
    }
    const start = s.skip();
    fields[body.toString('latin1', ks, ke)] = JSON.parse(body.toString('utf8', start, s.at));
  });
  if (!found) fail();
  return { page: build(body, marks, n, arrivals), fields };
}

function build(body: Buffer, marks: Float64Array, n: number, arrivalMs: number[]): PackedRecords {
  const keys = new Map<number, Buffer>();
  let total = 0;
  for (let i = 0; i < n; i++) {
    const m = i * FIELDS;
    total += decodedLength(body, marks[m + DATA]!, marks[m + DATA + 1]!) + marks[m + SEQ + 1]! - marks[m + SEQ]!;
    if (marks[m + ESCAPED]) {
      const key = Buffer.from(JSON.parse(body.toString('utf8', marks[m + KEY]! - 1, marks[m + KEY + 1]! + 1)) as string);
      keys.set(i, key);
      total += key.byteLength;
    } else {
      total += marks[m + KEY + 1]! - marks[m + KEY]!;
    }
  }
  const bytes = new ArrayBuffer(total);
  const out = Buffer.from(bytes);
  const bounds = new Uint32Array(3 * n + 1);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const m = i * FIELDS;
    const [start, end] = [marks[m + DATA]!, marks[m + DATA + 1]!];
    bounds[i] = at;
    const expected = decodedLength(body, start, end);
    if (out.write(body.toString('latin1', start, end), at, expected, 'base64') !== expected) fail();
    at += expected;
  }
  for (let i = 0; i < n; i++) {
    const m = i * FIELDS;
    bounds[n + i] = at;
    const escaped = keys.get(i);
    at += escaped ? escaped.copy(out, at) : body.copy(out, at, marks[m + KEY]!, marks[m + KEY + 1]!);
  }
  for (let i = 0; i < n; i++) {
    const m = i * FIELDS;
    bounds[2 * n + i] = at;
    at += body.copy(out, at, marks[m + SEQ]!, marks[m + SEQ + 1]!);
  }
  bounds[3 * n] = at;
  return { count: n, bytes, bounds, arrivals: Float64Array.from(arrivalMs) };
}
