/**
 * Builds the bytes of a vacation auto-reply (RFC 5230 §5, RFC 3834 §3): the
 * header Pigeonhole sends (Auto-Submitted: auto-replied, Precedence: bulk,
 * X-Auto-Response-Suppress: All, In-Reply-To/References), CRLF line ends, and
 * nothing taken from the original message that could inject a header line.
 * Whether to reply is vacation-rules.ts's. Pure: time and ids come in.
 */
import type { VacationReply } from './plan.js';

export interface ReplyContext {
  now: Date;
  /** A fresh Message-ID with its angle brackets. */
  messageId: string;
}

const CRLF = '\r\n';
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** Pigeonhole caps the reply's subject; a header line must stay well under RFC 5322's 998 octets. */
const MAX_SUBJECT = 256;

/** rfc5322Date formats a date in UTC (RFC 5322 §3.3), e.g. `Tue, 02 Jan 2024 03:04:05 +0000`. */
export function rfc5322Date(d: Date): string {
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]}, ${p2(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ` +
    `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
}

/** oneLine removes what could end a header line or smuggle another one in (CR, LF, other controls). */
export function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f]+/g, ' ').replace(/ {2,}/g, ' ').trim();
}

/**
 * encodeWord makes header text ASCII: as is when it already is, else RFC 2047
 * B-encoded UTF-8 words, each ≤ 75 characters (§2) and never splitting a character.
 */
export function encodeWord(text: string): string {
  if (/^[\x20-\x7e]*$/.test(text)) return text;
  const words: string[] = [];
  let chunk = '';
  for (const ch of text) {
    // 45 bytes of UTF-8 → 60 base64 characters + 12 of `=?UTF-8?B??=` = 72.
    if (Buffer.byteLength(chunk + ch) > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join(`${CRLF} `);
}

/** A From/To mailbox: a bare address is put in angle brackets; `Name <addr>` keeps its name, encoded. */
export function mailbox(value: string): string {
  const v = oneLine(value);
  const m = /^(.*?)\s*<([^<>]*)>$/.exec(v);
  if (!m) return `<${v}>`;
  const name = m[1]!.replace(/^"|"$/g, '').trim();
  if (name === '') return `<${m[2]}>`;
  const shown = /^[\x20-\x7e]*$/.test(name) ? `"${name.replace(/["\\]/g, '\\$&')}"` : encodeWord(name);
  return `${shown} <${m[2]}>`;
}

/** Message-IDs are copied only when they look like msg-ids, so a hostile value cannot add lines. */
function msgIds(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const ids = oneLine(value).match(/<[^<>\s]+>/g);
  return ids ? ids.join(' ') : undefined;
}

/** buildVacationReply returns the complete reply message (header + body) to hand to sendmail. */
export function buildVacationReply(r: VacationReply, ctx: ReplyContext): Buffer {
  const subject = [...oneLine(r.subject)].slice(0, MAX_SUBJECT).join('');
  const inReplyTo = msgIds(r.inReplyTo);
  const refs = msgIds(r.references);
  const lines = [
    `Message-ID: ${ctx.messageId}`,
    `Date: ${rfc5322Date(ctx.now)}`,
    `From: ${mailbox(r.from ?? '')}`,
    `To: <${oneLine(r.to)}>`,
    `Subject: ${encodeWord(subject)}`,
  ];
  // RFC 3834 §3.1.5: In-Reply-To is the original Message-ID; References the original's References plus it.
  if (inReplyTo) lines.push(`In-Reply-To: ${inReplyTo}`);
  const references = [refs, inReplyTo].filter((x) => x !== undefined).join(' ');
  if (references) lines.push(`References: ${references}`);
  lines.push('Auto-Submitted: auto-replied (vacation)', 'Precedence: bulk', 'X-Auto-Response-Suppress: All', 'MIME-Version: 1.0');
  const reason = r.reason.replace(/\r?\n/g, CRLF);
  if (r.mime) {
    // RFC 5230 §4.4: with :mime the reason is a MIME entity: its own header fields, a blank line, its body.
    return Buffer.from(lines.join(CRLF) + CRLF + reason + (reason.endsWith(CRLF) ? '' : CRLF), 'utf8');
  }
  lines.push('Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit');
  return Buffer.from(lines.join(CRLF) + CRLF + CRLF + reason + (reason.endsWith(CRLF) ? '' : CRLF), 'utf8');
}
