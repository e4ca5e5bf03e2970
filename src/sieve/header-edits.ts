/**
 * The editheader extension's header model (RFC 5293): the message header as a Sieve run sees it
 * after addheader/deleteheader, as immutable snapshots (each store or redirect keeps the one in
 * effect when it ran), the field-name and value rules, the protected fields, and the rebuilt
 * header block of a snapshot from the original bytes. Pure: no I/O; the body is never here
 * (maildir/rewrite.ts streams it behind the rebuilt block).
 */
import type { HeaderLine } from './message.js';

/** One field of an edited header: an original one (by its index in the parsed header) or an added one. */
export interface EditField extends HeaderLine {
  /** Index into the original parsed fields; undefined for an added field. */
  orig?: number;
  /** An added field as written: `Name: value` lines without line ends (folded). */
  lines?: readonly string[];
}

/** A header state; the unedited one is `originalFields(...)`, every edit makes a new array. */
export type HeaderSnapshot = readonly EditField[];

export function originalFields(fields: readonly HeaderLine[]): HeaderSnapshot {
  return fields.map((f, i) => ({ name: f.name, value: f.value, orig: i }));
}

/** RFC 5322 §3.6.8 field-name = 1*ftext, ftext = %d33-57 / %d59-126. */
export function isFieldName(name: string): boolean {
  return /^[\x21-\x39\x3b-\x7e]+$/.test(name);
}

/** Pigeonhole's defaults: these may never be deleted; the redirect loop marker may not be added either. */
const UNDELETABLE = new Set(['received', 'auto-submitted', 'x-sieve-redirected-from']);
const UNADDABLE = new Set(['x-sieve-redirected-from']);

/** Why an edit of this field is refused (ignored, RFC 5293 §6 lets a site protect fields), or null. */
export function protectedField(name: string, op: 'add' | 'delete'): string | null {
  const n = name.toLowerCase();
  if (op === 'delete' && UNDELETABLE.has(n)) return `${name} is protected: it cannot be deleted`;
  if (op === 'add' && UNADDABLE.has(n)) return `${name} is protected: it cannot be added`;
  return null;
}

/** Pigeonhole's sieve_editheader_max_header_size: a longer new field is a runtime error. */
export const MAX_ADDED_FIELD = 2048;
const FOLD_AT = 76;

/**
 * The lines of a new field (RFC 5293 §4): a fold in the value (a line break then white space) is
 * unfolded, other line breaks become single spaces (a value must not smuggle in a field of its own); a value with non-ASCII characters is written as RFC 2047
 * UTF-8 B encoded-words, each short enough for one folded line (so is a value with a word too long
 * to fold); an ASCII value is folded at white space.
 */
export function fieldLines(name: string, value: string): string[] {
  // RFC 5322 §2.2.3: a line break followed by white space is a fold, which unfolding removes.
  const flat = value.replace(/\r?\n(?=[ \t])/g, '').replace(/[\r\n]+/g, ' ').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '').trim();
  // A word too long to fold would break RFC 5322 §2.1.1's 998-octet line limit: encoded-words can be split.
  const words = /[^\x00-\x7f]/.test(flat) || /\S{500}/.test(flat) ? encodedWords(flat).map((w) => ` ${w}`) : (flat.match(/[ \t]*\S+/g) ?? []);
  const lines: string[] = [];
  let line = `${name}:`;
  words.forEach((w, i) => {
    const word = i === 0 ? ` ${w.trimStart()}` : w;
    if (i > 0 && line.length + word.length > FOLD_AT) {
      lines.push(line);
      line = word; // starts with white space: a fold (RFC 5322 §2.2.3)
    } else line += word;
  });
  lines.push(line);
  return lines;
}

/** RFC 2047 §5(1) encoded-words of at most 75 characters (§2), whole UTF-8 characters each (§5(3)). */
function encodedWords(text: string): string[] {
  const out: string[] = [];
  let chunk = '';
  const flush = () => {
    if (chunk) out.push(`=?UTF-8?B?${Buffer.from(chunk, 'utf8').toString('base64')}?=`);
    chunk = '';
  };
  for (const ch of text) {
    if (Buffer.byteLength(chunk + ch, 'utf8') > 45) flush(); // 45 bytes → 60 base64 chars + 12 = 72
    chunk += ch;
  }
  flush();
  return out;
}

/** The value a test sees of added lines: unfolded as parseHeaderBlock would (RFC 5322 §2.2.3). */
function visibleValue(lines: readonly string[]): string {
  const joined = lines.join('');
  return joined.slice(joined.indexOf(':') + 1).trim();
}

/**
 * addField (RFC 5293 §4): prepends by default, appends with :last. A prepended field goes after
 * the leading Return-Path fields (the delivery trace, RFC 5321 §4.4, stays first as stores expect).
 */
export function addField(h: HeaderSnapshot, name: string, value: string, last: boolean): HeaderSnapshot {
  const lines = fieldLines(name, value);
  const f: EditField = { name: name.toLowerCase(), value: visibleValue(lines), lines };
  if (last) return [...h, f];
  let at = 0;
  while (at < h.length && h[at]!.orig !== undefined && h[at]!.name === 'return-path') at++;
  return [...h.slice(0, at), f, ...h.slice(at)];
}

/**
 * deleteField (RFC 5293 §5): removes the fields called `name` whose value `matches` (always true
 * without value patterns); with an index only the Nth such field (1 = first, or last with :last)
 * is considered. Returns the same snapshot when nothing was removed.
 */
export function deleteField(
  h: HeaderSnapshot,
  name: string,
  matches: (f: EditField) => boolean,
  index?: { n: number; last: boolean },
): HeaderSnapshot {
  const n = name.toLowerCase();
  const positions: number[] = [];
  h.forEach((f, i) => {
    if (f.name === n) positions.push(i);
  });
  let candidates = positions;
  if (index) {
    const k = index.last ? positions.length - index.n : index.n - 1;
    candidates = k >= 0 && k < positions.length ? [positions[k]!] : [];
  }
  const drop = new Set(candidates.filter((i) => matches(h[i]!)));
  return drop.size ? h.filter((_, i) => !drop.has(i)) : h;
}

/** One piece of the original header block: a field's bytes (with folds and line end) or a line no field owns. */
export type RawSegment = { field: number; bytes: Buffer } | { field: undefined; bytes: Buffer };

/**
 * splitRawHeader cuts a header block into segments whose field numbers agree with
 * parseHeaderBlock's (message.ts): the same lines start a field, the rest are loose lines.
 */
export function splitRawHeader(block: Buffer): RawSegment[] {
  const out: RawSegment[] = [];
  let field = 0;
  let inField = false;
  for (let start = 0; start < block.length; ) {
    const nl = block.indexOf(0x0a, start);
    const end = nl < 0 ? block.length : nl + 1;
    const bytes = block.subarray(start, end);
    start = end;
    const first = bytes[0];
    const line = bytes.toString('latin1').replace(/\r?\n$/, '');
    if ((first === 0x20 || first === 0x09) && inField) {
      const prev = out[out.length - 1]!;
      prev.bytes = Buffer.concat([prev.bytes, bytes]);
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).replace(/[ \t]+$/, '') : '';
    inField = colon > 0 && isFieldName(name);
    out.push(inField ? { field: field++, bytes } : { field: undefined, bytes });
  }
  return out;
}

/**
 * composeHeader: the header block of a snapshot. Original fields keep their exact bytes, added
 * ones are written with the message's line end; loose lines stay before the field that followed them.
 */
export function composeHeader(segments: readonly RawSegment[], h: HeaderSnapshot, eol: '\n' | '\r\n'): Buffer {
  const parts: Buffer[] = [];
  const ended = (b: Buffer): Buffer => (b.length && b[b.length - 1] === 0x0a ? b : Buffer.concat([b, Buffer.from(eol)]));
  const fieldAt = new Map<number, number>();
  segments.forEach((s, i) => {
    if (s.field !== undefined) fieldAt.set(s.field, i);
  });
  let next = 0; // the first segment not yet written or passed
  for (const f of h) {
    if (f.orig === undefined) {
      parts.push(Buffer.from(f.lines!.join(eol) + eol, 'utf8'));
      continue;
    }
    const at = fieldAt.get(f.orig);
    if (at === undefined) continue;
    for (; next < at; next++) if (segments[next]!.field === undefined) parts.push(ended(segments[next]!.bytes));
    parts.push(ended(segments[at]!.bytes));
    next = Math.max(next, at + 1);
  }
  for (; next < segments.length; next++) if (segments[next]!.field === undefined) parts.push(ended(segments[next]!.bytes));
  return Buffer.concat(parts);
}

/**
 * The RFC 5228 §5.9 size of a field, lines ending in CRLF: exact for added fields; for original
 * ones the unfolded value is measured (its folds cost two octets each, which it no longer shows).
 */
export function fieldSize(f: EditField): number {
  if (f.lines) return f.lines.reduce((n, l) => n + Buffer.byteLength(l, 'utf8') + 2, 0);
  return Buffer.byteLength(`${f.name}:${f.value}`, 'utf8') + 3;
}
