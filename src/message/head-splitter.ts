/**
 * Streams a message through without keeping it: drops Postfix's leading mbox
 * `From ` line and keeps a capped copy of the header block for envelope and
 * loop checks. Everything else passes through byte-exact (bare LF, CRLF, NUL,
 * 8-bit). Pure: no I/O; the caller writes what feed() returns.
 */

/** Longest From_ line we wait for before deciding it is message content. */
const MAX_FROM_LINE = 64 * 1024;
/** Header bytes kept for parsing; the rest of a huge header still gets stored. */
export const MAX_HEAD_KEPT = 256 * 1024;
const FROM_ = 'From ';

export interface Head {
  /** The mbox From_ line without its LF (undefined when the input had none). */
  fromLine: string | undefined;
  /** The header block as stored (without the blank line), capped at MAX_HEAD_KEPT. */
  header: Buffer;
  /** True when the header block was longer than what was kept. */
  truncated: boolean;
}

export class HeadSplitter {
  private pendingFirst: Buffer[] | undefined = [];
  private pendingLen = 0;
  private fromLine: string | undefined;
  private headParts: Buffer[] = [];
  private headLen = 0;
  private headDone = false;
  private truncated = false;
  /** Last bytes of the header seen so far, to find a blank line across chunks. */
  private tail = Buffer.alloc(0);
  /** Header bytes scanned so far, and where the header ends once found (absolute offsets). */
  private scanned = 0;
  private headEnd = -1;

  /** feed takes the next chunk of input and returns the bytes to store. */
  feed(chunk: Buffer): Buffer {
    if (this.pendingFirst) {
      this.pendingFirst.push(chunk);
      this.pendingLen += chunk.length;
      const all = Buffer.concat(this.pendingFirst, this.pendingLen);
      const lf = all.indexOf(0x0a);
      const mayBeFromLine = FROM_.startsWith(all.subarray(0, 5).toString('latin1'));
      if (lf < 0 && mayBeFromLine && this.pendingLen < MAX_FROM_LINE) {
        return Buffer.alloc(0); // still could be a From_ line: wait for its end
      }
      this.pendingFirst = undefined;
      let out = all;
      if (lf >= 0 && all.subarray(0, 5).toString('latin1') === FROM_) {
        this.fromLine = all.subarray(0, lf).toString('utf8').replace(/\r$/, '');
        out = all.subarray(lf + 1);
      }
      this.scanHead(out);
      return out;
    }
    this.scanHead(chunk);
    return chunk;
  }

  /** end flushes input held back while looking for the end of a From_ line. */
  end(): Buffer {
    if (!this.pendingFirst) return Buffer.alloc(0);
    const all = Buffer.concat(this.pendingFirst, this.pendingLen);
    this.pendingFirst = undefined;
    this.scanHead(all);
    return all;
  }

  head(): Head {
    let header = Buffer.concat(this.headParts, this.headLen);
    // A blank line split across chunks leaves its first bytes (a CR) in what was kept already.
    if (this.headDone && this.headEnd < header.length) header = header.subarray(0, this.headEnd);
    return { fromLine: this.fromLine, header, truncated: this.truncated };
  }

  private scanHead(bytes: Buffer): void {
    if (this.headDone || bytes.length === 0) return;
    // A blank line ends the header (RFC 5322 §2.1); a message may start with one.
    const joined = Buffer.concat([this.tail, bytes]);
    const offset = this.tail.length;
    // joined starts at the first header byte while the tail holds everything seen (a first chunk of just "\r")
    const start = this.scanned - offset;
    const end = findBlankLine(joined, start === 0);
    const upto = end < 0 ? bytes.length : Math.max(0, end - offset);
    this.keep(bytes.subarray(0, upto));
    this.scanned += bytes.length;
    if (end >= 0) {
      this.headDone = true;
      this.headEnd = start + end;
      this.tail = Buffer.alloc(0);
    } else {
      this.tail = joined.subarray(Math.max(0, joined.length - 3));
    }
  }

  private keep(bytes: Buffer): void {
    const room = MAX_HEAD_KEPT - this.headLen;
    if (bytes.length > room) this.truncated = true;
    const part = bytes.subarray(0, Math.max(0, room));
    if (part.length) {
      this.headParts.push(Buffer.from(part));
      this.headLen += part.length;
    }
  }
}

/**
 * Index where the header ends (start of the empty line's line break) or -1.
 * atStart: the buffer begins at the first header byte, so a leading line break
 * means there is no header at all.
 */
export function findBlankLine(buf: Buffer, atStart: boolean): number {
  if (atStart && (buf[0] === 0x0a || (buf[0] === 0x0d && buf[1] === 0x0a))) return 0;
  for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, i + 1)) {
    if (buf[i + 1] === 0x0a) return i + 1;
    if (buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) return i + 1;
    if (i + 1 >= buf.length) break;
  }
  return -1;
}
