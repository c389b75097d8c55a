/**
 * A scanner over JSON bytes for get-records-scan.ts: it moves through a body token by token without
 * making strings, and throws Unexpected at anything it does not expect (the caller then lets the
 * SDK read the answer).
 */

export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const COLON = 0x3a;
export const COMMA = 0x2c;
export const OPEN_OBJECT = 0x7b;
export const CLOSE_OBJECT = 0x7d;
export const OPEN_ARRAY = 0x5b;
export const CLOSE_ARRAY = 0x5d;
export const EQUALS = 0x3d;
export const DOT = 0x2e;
export const ZERO = 0x30;

export class Unexpected extends Error {}
export const fail = (): never => {
  throw new Unexpected();
};

const isSpace = (c: number | undefined) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
export const isDigit = (c: number | undefined) => c !== undefined && c >= ZERO && c <= ZERO + 9;

export class Scanner {
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
