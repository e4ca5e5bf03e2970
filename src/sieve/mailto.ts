/**
 * Parses the `mailto:` URI of the enotify mailto method (RFC 5436 §2.1, URIs per RFC 6068 /
 * RFC 2368): the recipients (the path, `?to=` and `?cc=`, comma or `%2C` separated), the subject
 * and body, and the few other header fields a notification may carry. Unsafe fields (`from`,
 * `auto-submitted`, `received`, `bcc`, ...; RFC 5436 §2.7) are dropped here and reported, never
 * passed on. Must not: do I/O or decide whether to send (evaluate-notify.ts does). Pure.
 */
import { checkRedirectAddress } from './redirect-rules.js';

export interface MailtoUri {
  /** Envelope recipients, each a plain addr-spec, duplicates (case-insensitive) removed, in order. */
  recipients: string[];
  /** Who the notification's To and Cc fields name. */
  to: string[];
  cc: string[];
  subject: string | undefined;
  body: string | undefined;
  /** Header fields copied into the notification (lower-case name, decoded value). */
  headers: Array<[string, string]>;
  /** Fields of the URI that were dropped (lower-case names), for the trace. */
  ignored: string[];
}

export type MailtoResult = { ok: true; uri: MailtoUri } | { ok: false; why: string };

/** Longer URIs are refused: a header line must stay short and a URI is script text, not a message. */
export const MAX_MAILTO_LENGTH = 4096;
/**
 * Fields the URI may add besides to/cc/subject/body. Everything else is dropped: RFC 5436 §2.7 has
 * the implementation ignore fields it considers unsafe (`from`, `auto-submitted`, `received`, the
 * MIME and trace fields...); an allowlist cannot miss one.
 */
const SAFE_FIELDS: ReadonlySet<string> = new Set(['keywords', 'comments', 'reply-to', 'in-reply-to', 'references']);
/** RFC 3986 §2: what may appear literally in a URI (unreserved, sub-delims, ':' '@' '/' '?' and '%' escapes). */
const URI_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*$/;

export function parseMailtoUri(text: string): MailtoResult {
  if (text.length > MAX_MAILTO_LENGTH) return { ok: false, why: `longer than ${MAX_MAILTO_LENGTH} characters` };
  const colon = text.indexOf(':');
  const scheme = colon < 0 ? '' : text.slice(0, colon).toLowerCase();
  if (scheme !== 'mailto') return { ok: false, why: colon < 0 ? 'not a URI' : `unsupported notification method ${JSON.stringify(scheme)} (mda supports mailto)` };
  const rest = text.slice(colon + 1);
  if (!URI_CHARS.test(rest)) return { ok: false, why: 'characters that must be %-encoded (RFC 6068 §2)' };
  const q = rest.indexOf('?');
  const path = q < 0 ? rest : rest.slice(0, q);
  const query = q < 0 ? '' : rest.slice(q + 1);
  const uri: MailtoUri = { recipients: [], to: [], cc: [], subject: undefined, body: undefined, headers: [], ignored: [] };
  const seen = new Set<string>();
  const add = (list: string[], value: string): string | undefined => {
    for (const part of value.split(',')) {
      if (part.trim() === '') continue;
      const a = checkRedirectAddress(part);
      if (!a.ok) return `invalid recipient: ${a.why}`;
      list.push(a.address);
      const key = a.address.toLowerCase();
      if (!seen.has(key)) {
        seen.add(key);
        uri.recipients.push(a.address);
      }
    }
    return undefined;
  };
  const decodedPath = percentDecode(path);
  if (decodedPath === undefined) return { ok: false, why: 'an invalid %-escape or UTF-8 sequence in the address part' };
  const bad = add(uri.to, decodedPath);
  if (bad) return { ok: false, why: bad };
  for (const field of query === '' ? [] : query.split('&')) {
    const eq = field.indexOf('=');
    if (eq <= 0) return { ok: false, why: `header field without a name or '=': ${JSON.stringify(field)} (RFC 6068 §2)` };
    const name = percentDecode(field.slice(0, eq))?.toLowerCase();
    const value = percentDecode(field.slice(eq + 1));
    if (name === undefined || value === undefined) return { ok: false, why: 'an invalid %-escape or UTF-8 sequence in a header field' };
    if (!/^[a-z0-9-]+$/.test(name)) return { ok: false, why: `invalid header field name ${JSON.stringify(name)}` };
    if (name === 'to' || name === 'cc') {
      const why = add(name === 'to' ? uri.to : uri.cc, value);
      if (why) return { ok: false, why };
    } else if (name === 'subject') uri.subject ??= value;
    else if (name === 'body') uri.body ??= value;
    else if (SAFE_FIELDS.has(name)) uri.headers.push([name, value]);
    else uri.ignored.push(name);
  }
  return { ok: true, uri };
}

/** %XX-decodes as UTF-8 (RFC 6068 §2); undefined on a broken escape or invalid UTF-8. */
export function percentDecode(s: string): string | undefined {
  if (!s.includes('%')) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '%') {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(s.charCodeAt(i)); // URI_CHARS: ASCII only
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
}
