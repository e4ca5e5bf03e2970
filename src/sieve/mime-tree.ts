/**
 * The MIME structure the RFC 5703 extensions walk (foreverypart, :mime, extracttext): the message
 * as a tree of entities, each with its own header fields and an undecoded body slice, listed in
 * depth-first order (RFC 5703 §3). Owns the walk, the §4.2 header options (:type, :subtype,
 * :contenttype, :param with RFC 2231 values) and the §7 text of a part. Must not: read files or
 * copy the message: it works on the capped prefix the pipeline already read for the body test
 * (sieve.ts MAX_BODY_BYTES), so nothing past that limit is ever in memory; parts past it are cut
 * short or missing, as for `body`. Bounded in depth and part count; bad MIME gives fewer parts,
 * never an error. Pure.
 *
 * Why not mailparser: it streams the whole message and decodes every attachment eagerly into
 * buffers, and it hides each part's raw header lines, which `header :mime` must match as written.
 * mime.ts's helpers (boundaries, transfer and charset decoding) already fit the bounded model.
 */
import { decodeTransfer, fieldOf, parseContentType, splitHead, splitMultipart, splitParams, toText } from './mime.js';
import { parseHeaderBlock, type HeaderLine } from './message.js';

/** Entities at most (the top level counts); later parts are not listed. */
export const MAX_MIME_PARTS = 200;
/** Nesting of multipart / message/rfc822 entities at most; deeper ones are leaves. */
export const MAX_MIME_DEPTH = 10;

export interface MimeEntity {
  /** Position in depth-first order (0 = the message itself). */
  index: number;
  /** Header fields of this entity (the message's own for index 0). */
  fields: readonly HeaderLine[];
  /** Lower-cased type/subtype in effect (RFC 2045 §5.2 default text/plain, multipart/digest's message/rfc822). */
  type: string;
  /** Content-Type parameters (names lower-cased). */
  params: ReadonlyMap<string, string>;
  /** The undecoded body (a slice of the message buffer). */
  body: Buffer;
  /** Index just past this entity's last descendant: its subtree is [index, end). */
  end: number;
}

/** mimeTree lists every entity of a message (header + body bytes) in depth-first order, bounded. */
export function mimeTree(message: Buffer): MimeEntity[] {
  const out: MimeEntity[] = [];
  walk(message, out, 0, 'text/plain');
  return out;
}

function walk(entity: Buffer, out: MimeEntity[], depth: number, defaultType: string): void {
  if (out.length >= MAX_MIME_PARTS) return;
  const { head, body } = splitHead(entity);
  const rawType = fieldOf(head, 'content-type');
  const ct = rawType ? parseContentType(rawType) : { type: defaultType, params: new Map<string, string>() };
  const e: MimeEntity = { index: out.length, fields: parseHeaderBlock(Buffer.from(head, 'latin1')), type: ct.type, params: ct.params, body, end: 0 };
  out.push(e);
  const boundary = ct.params.get('boundary');
  if (depth < MAX_MIME_DEPTH && ct.type.startsWith('multipart/') && boundary) {
    // RFC 2046 §5.1.5: the parts of multipart/digest default to message/rfc822.
    const inner = ct.type === 'multipart/digest' ? 'message/rfc822' : 'text/plain';
    for (const part of splitMultipart(body, boundary)) walk(part, out, depth + 1, inner);
  } else if (depth < MAX_MIME_DEPTH && ct.type === 'message/rfc822') {
    // RFC 5703 §3: the encapsulated message is one more part (its own header), then its parts.
    walk(decodeTransfer(body, fieldOf(head, 'content-transfer-encoding')), out, depth + 1, 'text/plain');
  }
  e.end = out.length;
}

/**
 * A MIME header value split into its value and parameters (RFC 2045 §5.1, RFC 2183 §2), the
 * parameters RFC 2231-decoded: continuations `name*0`, `name*1*` joined, `charset'lang'%XX` decoded.
 */
export function parseMimeHeader(value: string): { value: string; params: Map<string, string> } {
  const [first, ...rest] = splitParams(value);
  const pieces = new Map<string, Array<{ n: number; text: string; encoded: boolean }>>();
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    const rawName = p.slice(0, eq).trim().toLowerCase();
    let v = p.slice(eq + 1).trim();
    if (v.startsWith('"')) v = v.slice(1, v.endsWith('"') && v.length > 1 ? -1 : undefined).replace(/\\(.)/g, '$1');
    const m = /^([^*]+)(?:\*(\d+))?(\*)?$/.exec(rawName);
    if (!m) continue;
    const list = pieces.get(m[1]!) ?? [];
    list.push({ n: m[2] === undefined ? 0 : Number(m[2]), text: v, encoded: m[3] !== undefined });
    pieces.set(m[1]!, list);
  }
  const params = new Map<string, string>();
  for (const [name, list] of pieces) {
    list.sort((a, b) => a.n - b.n);
    let charset = '';
    const bytes: number[] = [];
    list.forEach((piece, i) => {
      let text = piece.text;
      if (piece.encoded && i === 0) {
        const q = /^([^']*)'[^']*'(.*)$/.exec(text);
        if (q) [charset, text] = [q[1]!, q[2]!];
      }
      if (piece.encoded) for (const b of percentDecode(text)) bytes.push(b);
      else for (const b of Buffer.from(text, 'utf8')) bytes.push(b);
    });
    params.set(name, toText(Buffer.from(bytes), charset || 'utf-8'));
  }
  return { value: (first ?? '').trim(), params };
}

function percentDecode(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const hex = s[i] === '%' ? /^[0-9A-Fa-f]{2}$/.exec(s.slice(i + 1, i + 3)) : null;
    if (hex) {
      out.push(parseInt(hex[0], 16));
      i += 2;
    } else for (const b of Buffer.from(s[i]!, 'utf8')) out.push(b);
  }
  return out;
}

export type MimeOption = { kind: 'type' } | { kind: 'subtype' } | { kind: 'contenttype' } | { kind: 'param'; names: readonly string[] };

/**
 * RFC 5703 §4.2: what `header :mime` compares for one (decoded) field value. :type is the type of
 * a Content-Type and the disposition of a Content-Disposition, :subtype the subtype of a
 * Content-Type, :contenttype type/subtype (or the disposition); other fields and other cases give
 * "". :param gives the named parameters that are present; no option gives the whole value.
 */
export function mimeOptionValues(field: string, value: string, option: MimeOption | undefined): string[] {
  if (!option) return [value];
  const name = field.toLowerCase();
  const h = parseMimeHeader(value);
  if (option.kind === 'param') {
    if (name !== 'content-type' && name !== 'content-disposition') return [];
    return option.names.flatMap((n) => {
      const v = h.params.get(n.toLowerCase());
      return v === undefined ? [] : [v];
    });
  }
  if (name === 'content-disposition') return [option.kind === 'subtype' ? '' : h.value];
  if (name !== 'content-type') return [''];
  const [type = '', subtype = ''] = h.value.split('/', 2).map((s) => s.trim());
  if (option.kind === 'type') return [type];
  if (option.kind === 'subtype') return [subtype];
  return [h.value.replace(/\s+/g, '')];
}

/** Block-level HTML elements that end a line of text. */
const HTML_BLOCK = /^\/?(p|br|div|li|ul|ol|tr|td|th|table|h[1-6]|blockquote|pre|hr)\b/i;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/**
 * RFC 5703 §7: the text of a part for extracttext: text/* decoded from its transfer encoding and
 * charset to UTF-8, text/html reduced to its text (tags, scripts and styles dropped, as Pigeonhole
 * does); any other type, and multipart or message entities, give "".
 */
export function partText(e: MimeEntity): string {
  if (!e.type.startsWith('text/')) return '';
  const text = toText(decodeTransfer(e.body, fieldValue(e, 'content-transfer-encoding')), e.params.get('charset'));
  return e.type === 'text/html' ? htmlToText(text) : text;
}

export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<([^>]*)>/g, (_, inner: string) => (HTML_BLOCK.test(inner.trim()) ? ' ' : ''))
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, ent: string) => {
      if (ent[0] === '#') {
        const cp = ent[1] === 'x' || ent[1] === 'X' ? parseInt(ent.slice(2), 16) : parseInt(ent.slice(1), 10);
        return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
      }
      return ENTITIES[ent.toLowerCase()] ?? m;
    })
    .replace(/[ \t\r\n]+/g, ' ')
    .replace(/^ /, '');
}

function fieldValue(e: MimeEntity, name: string): string | undefined {
  return e.fields.find((f) => f.name === name)?.value;
}
