/**
 * A small MIME walker for the body test (RFC 5173): a size-capped message into its leaf parts
 * (RFC 2046 §5.1 boundaries, message/rfc822 descended into; a multipart's own prologue and epilogue
 * kept for `body :content "multipart"`, RFC 5173 §5.2), transfer encoding undone (RFC 2045
 * §6.7-6.8), charset decoded. Bounded in depth and parts; bad input gives fewer parts, never an error.
 * Pure: no I/O.
 */

export interface MimePart {
  /** Lower-cased `type/subtype`; text/plain when absent (RFC 2045 §5.2). */
  type: string;
  /** The decoded content as text; for a multipart, its prologue (RFC 2046 §5.1.1 "preamble"). */
  text: string;
  /** A multipart's epilogue; RFC 5173 §5.2 searches it as a string of its own. */
  epilogue?: string;
}

const MAX_DEPTH = 10;
const MAX_PARTS = 200;

/**
 * splitHead splits an entity at its first blank line (LF or CRLF). `hasBody` is false when there
 * is no blank line: RFC 5322 §2.1 makes the body the part after it, so such an entity has no body
 * at all (RFC 5173 §4), not an empty one.
 */
export function splitHead(entity: Buffer): { head: string; body: Buffer; hasBody: boolean } {
  for (let i = entity.indexOf(0x0a); i >= 0; i = entity.indexOf(0x0a, i + 1)) {
    if (i === 0) return { head: '', body: entity.subarray(1), hasBody: true };
    const next = entity[i + 1];
    if (next === 0x0a) return { head: entity.subarray(0, i).toString('latin1'), body: entity.subarray(i + 2), hasBody: true };
    if (next === 0x0d && entity[i + 2] === 0x0a) return { head: entity.subarray(0, i).toString('latin1'), body: entity.subarray(i + 3), hasBody: true };
  }
  if (entity[0] === 0x0d && entity[1] === 0x0a) return { head: '', body: entity.subarray(2), hasBody: true };
  return { head: entity.toString('latin1'), body: Buffer.alloc(0), hasBody: false };
}

/** One header field's unfolded value from a raw head (first occurrence), or undefined. */
export function fieldOf(head: string, name: string): string | undefined {
  const re = new RegExp(`^${name}[ \\t]*:(.*(?:\\r?\\n[ \\t].*)*)`, 'im');
  const m = re.exec(head);
  return m ? m[1]!.replace(/\r?\n/g, '').trim() : undefined;
}

/** parseContentType reads `type/subtype; name=value...` (RFC 2045 §5.1), parameters lower-cased by name. */
export function parseContentType(value: string | undefined): { type: string; params: Map<string, string> } {
  const params = new Map<string, string>();
  if (!value) return { type: 'text/plain', params };
  const [first, ...rest] = splitParams(value);
  const type = (first ?? '').trim().toLowerCase();
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    let v = p.slice(eq + 1).trim();
    if (v.startsWith('"')) v = v.slice(1, v.endsWith('"') ? -1 : undefined).replace(/\\(.)/g, '$1');
    params.set(p.slice(0, eq).trim().toLowerCase(), v);
  }
  return { type: /^[^\s/]+\/[^\s/]+$/.test(type) ? type : 'text/plain', params };
}

/** Splits on ';' outside quoted strings. */
export function splitParams(v: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (c === '\\' && quoted) {
      cur += c + (v[i + 1] ?? '');
      i++;
    } else if (c === '"') {
      quoted = !quoted;
      cur += c;
    } else if (c === ';' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** decodeTransfer undoes base64 and quoted-printable; 7bit/8bit/binary and unknown encodings pass as they are. */
export function decodeTransfer(body: Buffer, encoding: string | undefined): Buffer {
  const enc = (encoding ?? '').trim().toLowerCase();
  if (enc === 'base64') return Buffer.from(body.toString('latin1').replace(/[^A-Za-z0-9+/]/g, ''), 'base64');
  if (enc === 'quoted-printable') {
    const s = body.toString('latin1').replace(/[ \t]+(\r?\n)/g, '$1').replace(/=\r?\n/g, '');
    const out: number[] = [];
    for (let i = 0; i < s.length; i++) {
      const hex = s[i] === '=' ? /^[0-9A-Fa-f]{2}/.exec(s.slice(i + 1, i + 3)) : null;
      if (hex) {
        out.push(parseInt(hex[0], 16));
        i += 2;
      } else out.push(s.charCodeAt(i) & 0xff);
    }
    return Buffer.from(out);
  }
  return body;
}

/** toText decodes bytes in `charset` (default us-ascii read as UTF-8, which is its superset); unknown charsets as UTF-8. */
export function toText(bytes: Buffer, charset: string | undefined): string {
  const cs = (charset ?? 'utf-8').trim().toLowerCase();
  try {
    return new TextDecoder(cs === 'us-ascii' || cs === 'ascii' ? 'utf-8' : cs).decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}

/** splitMultipart returns the body parts between `--boundary` lines (RFC 2046 §5.1.1), without preamble and epilogue. */
export function splitMultipart(body: Buffer, boundary: string): Buffer[] {
  return splitMultipartEntity(body, boundary).parts;
}

/**
 * splitMultipartEntity: a multipart body as its preamble (before the first delimiter line),
 * its body parts, and its epilogue (after the line of the closing delimiter; empty without one),
 * RFC 2046 §5.1.1. The CRLF before a delimiter belongs to the delimiter.
 */
export function splitMultipartEntity(body: Buffer, boundary: string): { preamble: Buffer; parts: Buffer[]; epilogue: Buffer } {
  const text = body.toString('latin1');
  const delim = `--${boundary}`;
  const parts: Buffer[] = [];
  const none = Buffer.alloc(0);
  let preamble = body; // no delimiter at all: everything is preamble
  let start = -1;
  let pos = 0;
  while (pos <= text.length) {
    const at = text.indexOf(delim, pos);
    if (at < 0) break;
    const lineStart = at === 0 || text[at - 1] === '\n';
    pos = at + delim.length;
    if (!lineStart) continue;
    const closing = text.startsWith('--', pos);
    // The CRLF before a boundary belongs to the boundary (§5.1.1).
    let end = at;
    if (text[end - 1] === '\n') end--;
    if (text[end - 1] === '\r') end--;
    if (start >= 0) parts.push(body.subarray(start, Math.max(start, end)));
    else preamble = body.subarray(0, end);
    const eol = text.indexOf('\n', pos);
    if (closing) return { preamble, parts, epilogue: eol < 0 ? none : body.subarray(eol + 1) };
    if (eol < 0) return { preamble, parts, epilogue: none };
    start = eol + 1;
    if (parts.length >= MAX_PARTS) return { preamble, parts, epilogue: none };
  }
  if (start >= 0 && start < body.length) parts.push(body.subarray(start)); // no closing delimiter: take the rest
  return { preamble, parts, epilogue: none };
}

/** RFC 2045 §6.1's mechanisms (an empty field counts as the 7bit default). */
const KNOWN_ENCODINGS = new Set(['', '7bit', '8bit', 'binary', 'quoted-printable', 'base64']);

/**
 * mimeParts walks a whole message (header + body) into its leaf parts in
 * order. A multipart's own entry is listed too, with its prologue as `text`
 * and its `epilogue`, because `body :content "multipart"` searches exactly
 * those (RFC 5173 §5.2), never the nested parts or the boundaries.
 */
export function mimeParts(message: Buffer): MimePart[] {
  const out: MimePart[] = [];
  walk(message, out, 0, 'text/plain');
  return out;
}

function walk(entity: Buffer, out: MimePart[], depth: number, defaultType: string): void {
  if (out.length >= MAX_PARTS) return;
  const { head, body } = splitHead(entity);
  const rawType = fieldOf(head, 'content-type');
  const ct = rawType ? parseContentType(rawType) : { type: defaultType, params: new Map<string, string>() };
  const boundary = ct.params.get('boundary');
  if (ct.type.startsWith('multipart/') && boundary && depth < MAX_DEPTH) {
    const split = splitMultipartEntity(body, boundary);
    out.push({ type: ct.type, text: toText(split.preamble, undefined), epilogue: toText(split.epilogue, undefined) });
    // RFC 2046 §5.1.5: the parts of multipart/digest default to message/rfc822.
    const inner = ct.type === 'multipart/digest' ? 'message/rfc822' : 'text/plain';
    for (const part of split.parts) walk(part, out, depth + 1, inner);
    return;
  }
  if (ct.type === 'message/rfc822' && depth < MAX_DEPTH) {
    // RFC 5173 §5.2: a matching message/rfc822 part is searched as the nested message's header, one string.
    const nested = decodeTransfer(body, fieldOf(head, 'content-transfer-encoding'));
    const nestedHead = splitHead(nested).head;
    // as written: every field line with its line end (splitHead leaves the last one's LF out)
    out.push({ type: ct.type, text: nestedHead ? toText(Buffer.from(`${nestedHead}\n`, 'latin1'), 'utf-8') : '' });
    walk(nested, out, depth + 1, 'text/plain');
    return;
  }
  const cte = fieldOf(head, 'content-transfer-encoding');
  // RFC 2045 §6.4: an entity with an unrecognized encoding must be treated as application/octet-stream.
  if (cte !== undefined && !KNOWN_ENCODINGS.has(cte.trim().toLowerCase())) {
    out.push({ type: 'application/octet-stream', text: body.toString('latin1') });
    return;
  }
  const bytes = decodeTransfer(body, cte);
  out.push({ type: ct.type, text: ct.type.startsWith('text/') ? toText(bytes, ct.params.get('charset')) : bytes.toString('latin1') });
}

/**
 * contentTypeMatches: RFC 5173 §5.2: "" matches every part, `type` every
 * subtype of it, `type/subtype` exactly; case-insensitive.
 */
export function contentTypeMatches(partType: string, wanted: string): boolean {
  const w = wanted.trim().toLowerCase();
  if (w === '') return true;
  return w.includes('/') ? partType === w : partType.split('/')[0] === w;
}
