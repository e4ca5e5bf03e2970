/**
 * Splits a connection's bytes into lines (CRLF or bare LF, RFC 5321 §2.3.8 asks for CRLF,
 * Postfix's policy protocol sends LF) with a hard cap: a line longer than `maxLength`
 * octets (line end included, as RFC 5321 §4.5.3.1.4 counts) is dropped as it arrives and
 * reported once when its end comes, so memory per connection stays at maxLength plus one
 * read chunk whatever the client sends. In raw mode the caller takes the bytes as they are.
 * Pure: no I/O.
 */

export type Piece = { kind: 'line'; line: Buffer } | { kind: 'too-long' };

const EMPTY = Buffer.alloc(0);
const LF = 0x0a;
const CR = 0x0d;

export class LineSplitter {
  private buf: Buffer = EMPTY;
  /** An over-long line is being dropped up to its LF. */
  private discarding = false;

  constructor(public maxLength: number) {}

  /** push appends bytes read from the connection. */
  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
  }

  /** unshift puts bytes back in front (what a raw-mode reader did not consume). */
  unshift(bytes: Buffer): void {
    if (bytes.length) this.buf = this.buf.length === 0 ? bytes : Buffer.concat([bytes, this.buf]);
  }

  /** next: the next whole line (line end removed), 'too-long' once per over-long line, or undefined (need more bytes). */
  next(): Piece | undefined {
    const lf = this.buf.indexOf(LF);
    if (lf < 0) {
      // Without its LF the line already has buf.length + 1 octets: drop it now, not when it ends.
      if (this.discarding || this.buf.length >= this.maxLength) {
        this.discarding = true;
        this.buf = EMPTY;
      }
      return undefined;
    }
    const line = this.buf.subarray(0, lf);
    this.buf = this.buf.subarray(lf + 1);
    if (this.discarding || lf + 1 > this.maxLength) {
      this.discarding = false;
      return { kind: 'too-long' };
    }
    return { kind: 'line', line: line.length && line[line.length - 1] === CR ? line.subarray(0, -1) : line };
  }

  /** takeAll: every buffered byte, for raw mode; the buffer is then empty. */
  takeAll(): Buffer {
    const all = this.buf;
    this.buf = EMPTY;
    return all;
  }

  /** Bytes held (for tests and accounting). */
  get buffered(): number {
    return this.buf.length;
  }
}
