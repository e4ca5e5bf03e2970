/**
 * Streaming DATA decoder: turns the dot-stuffed bytes after `354` into the
 * bytes mda stores, chunk by chunk, and finds the end of the message.
 * Pure: no I/O; memory per push is one output buffer no larger than the
 * chunk (a line is never buffered, whatever its length).
 * Must not: interpret the message (headers are the pipeline's job).
 *
 * Decoding, per RFC 5321 §4.5.2 and what Postfix local(8) and Dovecot store:
 * - a line starting with "." loses that dot (dot-unstuffing);
 * - a line that is exactly "." ends the message. Line ends are CRLF or, leniently,
 *   a bare LF ("\n.\n" ends it too), and the very first line counts as a line;
 * - CRLF becomes LF (Maildir files have LF line ends); a bare CR is kept as is;
 * - the bytes after the terminator are returned as `rest`: with PIPELINING
 *   they are the next commands.
 * Limits:
 * - maxSize (stored bytes, 0 = none): once over it, `tooLarge` is set and the
 *   decoder discards the rest but keeps reading to the terminator, so the
 *   session can answer 552 5.3.4 after the dot and stay in sync;
 * - maxLineLength (stored bytes without the LF, 0 = none): a longer line sets
 *   `longLines`, and that is all. RFC 5321 §4.5.3.1.6 says 1000 octets with
 *   CRLF, but Postfix already accepted the message into its queue: refusing
 *   it here would bounce real mail, and memory does not depend on it.
 */

const CR = 13;
const LF = 10;
const DOT = 46;

/** RFC 5321 §4.5.3.1.6: 1000 octets with CRLF; the default for reporting `longLines`. */
export const RFC5321_TEXT_LINE = 998;

export interface DataDecoderOptions {
  /** Stored bytes allowed; 0 = no limit. */
  maxSize: number;
  /** Longest line (stored bytes, no line end) before `longLines` is set; 0 = never. */
  maxLineLength?: number;
}

export interface DecodeResult {
  /** Stored bytes decoded from this chunk (may be empty). */
  out: Buffer[];
  /** The terminating "." line has been seen. */
  done: boolean;
  /** Bytes after the terminator (only when done; else empty). */
  rest: Buffer;
}

/** Where the decoder stands between bytes: what the next byte means depends on it. */
type Phase =
  | 'line-start' // at the start of a line: a "." here is stuffing or the end
  | 'dot' // "." at line start seen
  | 'dot-cr' // ".\r" at line start seen: "\n" ends the message
  | 'mid' // inside a line
  | 'cr' // a CR inside a line, not yet known to be part of CRLF
  | 'done';

const EMPTY = Buffer.alloc(0);

export class DataDecoder {
  private phase: Phase = 'line-start';
  private stored = 0;
  private lineLength = 0;
  private over = false;
  private long = false;
  private readonly maxSize: number;
  private readonly maxLine: number;
  // per-push output buffer and its fill; only valid inside push()
  private buf = EMPTY;
  private fill = 0;

  constructor(opts: DataDecoderOptions) {
    this.maxSize = opts.maxSize > 0 ? opts.maxSize : Infinity;
    this.maxLine = (opts.maxLineLength ?? RFC5321_TEXT_LINE) > 0 ? (opts.maxLineLength ?? RFC5321_TEXT_LINE) : Infinity;
  }

  /** Stored bytes so far (counted even after tooLarge, so logs can say how big it was). */
  get size(): number {
    return this.stored;
  }
  /** The message went over maxSize: reply 552 5.3.4 after the dot, store nothing. */
  get tooLarge(): boolean {
    return this.over;
  }
  /** A line was longer than maxLineLength (informational). */
  get longLines(): boolean {
    return this.long;
  }
  get done(): boolean {
    return this.phase === 'done';
  }

  /** push decodes one chunk. After done, every byte pushed comes back as rest. */
  push(chunk: Buffer): DecodeResult {
    if (this.phase === 'done') return { out: [], done: true, rest: chunk };
    // Output ≤ input + the one byte a previous chunk may have held back (a CR).
    this.buf = Buffer.allocUnsafe(chunk.length + 1);
    this.fill = 0;
    const n = chunk.length;
    let i = 0;
    while (i < n && this.phase !== 'done') {
      switch (this.phase) {
        case 'line-start':
          if (chunk[i] === DOT) {
            this.phase = 'dot';
            i++;
          } else this.phase = 'mid';
          break;
        case 'dot': {
          const b = chunk[i];
          if (b === LF) {
            this.phase = 'done';
            i++;
          } else if (b === CR) {
            this.phase = 'dot-cr';
            i++;
          } else this.phase = 'mid'; // the dot was stuffing: dropped
          break;
        }
        case 'dot-cr':
          if (chunk[i] === LF) {
            this.phase = 'done';
            i++;
          } else {
            // ".\rX": stuffing dot dropped, the CR is a bare CR of the line
            this.emitByte(CR);
            this.phase = 'mid';
          }
          break;
        case 'cr':
          if (chunk[i] === LF) {
            this.endLine();
            i++;
          } else {
            this.emitByte(CR); // bare CR: kept
            this.phase = 'mid';
          }
          break;
        case 'mid': {
          const lf = chunk.indexOf(LF, i);
          if (lf < 0) {
            // no line end in this chunk: hold a final CR back, it may be half of CRLF
            if (chunk[n - 1] === CR) {
              this.emit(chunk, i, n - 1);
              this.phase = 'cr';
            } else this.emit(chunk, i, n);
            i = n;
          } else {
            this.emit(chunk, i, lf > i && chunk[lf - 1] === CR ? lf - 1 : lf);
            this.endLine();
            i = lf + 1;
          }
          break;
        }
      }
    }
    const out = this.fill > 0 ? [this.buf.subarray(0, this.fill)] : [];
    this.buf = EMPTY;
    const done = this.phase === 'done';
    return { out, done, rest: done ? chunk.subarray(i) : EMPTY };
  }

  private endLine(): void {
    this.emitByte(LF);
    this.lineLength = 0;
    this.phase = 'line-start';
  }

  private emitByte(b: number): void {
    if (b !== LF) this.lineLength++;
    this.account(1, this.lineLength);
    if (!this.over) this.buf[this.fill++] = b;
  }

  private emit(chunk: Buffer, from: number, to: number): void {
    if (to <= from) return;
    this.lineLength += to - from;
    this.account(to - from, this.lineLength);
    if (!this.over) this.fill += chunk.copy(this.buf, this.fill, from, to);
  }

  private account(bytes: number, lineLength: number): void {
    this.stored += bytes;
    if (this.stored > this.maxSize && !this.over) {
      this.over = true;
      this.fill = 0; // nothing of this chunk either: the spool is abandoned anyway
    }
    if (lineLength > this.maxLine) this.long = true;
  }
}
