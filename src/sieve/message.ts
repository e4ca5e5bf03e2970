/**
 * The message as a Sieve script sees it: header fields in order (unfolded,
 * RFC 5322 §2.2.3, and RFC 2047-decoded for the header test, RFC 5228 §5.7),
 * the RFC 5228 §5.9 size (as if every line ended in CRLF), and, only when a
 * script uses the body test, the raw message bytes up to a cap.
 * Pure: built from bytes the pipeline read.
 */

export interface HeaderLine {
  /** Lower-cased field name. */
  name: string;
  /** Unfolded value (CRLFs removed, the folding white space kept), trimmed. */
  value: string;
}

export class SieveMessage {
  private readonly decoded = new Map<number, string>();

  constructor(
    readonly fields: readonly HeaderLine[],
    /** RFC 5228 §5.9 size in octets. */
    readonly size: number,
    /** RFC 2047 decoder for header values. */
    private readonly decodeWords: (value: string) => string,
    /** The message bytes (header and body), capped; undefined when not read (no script uses body). */
    readonly raw?: Buffer,
  ) {}

  /** Raw values of every field called `name` (case-insensitive), in order. */
  values(name: string): string[] {
    const n = name.toLowerCase();
    const out: string[] = [];
    for (const f of this.fields) if (f.name === n) out.push(f.value);
    return out;
  }

  /** Values with RFC 2047 encoded-words decoded (computed once per field). */
  decodedValues(name: string): string[] {
    const n = name.toLowerCase();
    const out: string[] = [];
    this.fields.forEach((f, i) => {
      if (f.name !== n) return;
      let d = this.decoded.get(i);
      if (d === undefined) {
        d = f.value.includes('=?') ? this.decodeWords(f.value) : f.value;
        this.decoded.set(i, d);
      }
      out.push(d);
    });
    return out;
  }

  /** The same message with another header (editheader, RFC 5293 §3: later tests see the edits). */
  withFields(fields: readonly HeaderLine[], size: number): SieveMessage {
    return new SieveMessage(fields, size, this.decodeWords, this.raw);
  }

  has(name: string): boolean {
    const n = name.toLowerCase();
    return this.fields.some((f) => f.name === n);
  }
}

/**
 * parseHeaderBlock splits a header block (without the blank line) into
 * fields. A continuation line (leading SP/HT) joins the previous field; a
 * line without a colon, or with a malformed name, is skipped as Pigeonhole does.
 */
export function parseHeaderBlock(block: Buffer): HeaderLine[] {
  const text = block.toString('utf8');
  const out: HeaderLine[] = [];
  let name: string | undefined;
  let value = '';
  const flush = () => {
    if (name !== undefined) out.push({ name, value: value.trim() });
    name = undefined;
  };
  for (const rawLine of text.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if ((line.startsWith(' ') || line.startsWith('\t')) && name !== undefined) {
      value += line; // unfolding removes only the CRLF (RFC 5322 §2.2.3)
      continue;
    }
    flush();
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const n = line.slice(0, colon).replace(/[ \t]+$/, '');
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(n)) continue;
    name = n.toLowerCase();
    value = line.slice(colon + 1);
  }
  flush();
  return out;
}

/**
 * Counts LFs not preceded by CR in a chunk; `prev` is the last byte of the
 * previous chunk (-1 at the start). RFC 5228 §5.9 sizes a message as if
 * every line ended in CRLF, so each bare LF adds one octet.
 */
export function countBareLf(chunk: Buffer, prev: number): number {
  let n = 0;
  for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) {
    const before = i === 0 ? prev : chunk[i - 1];
    if (before !== 0x0d) n++;
  }
  return n;
}
