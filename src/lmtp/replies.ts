/**
 * LMTP reply lines: formatting (single and multi-line, always CRLF) and the
 * fixed replies of a session (greeting, LHLO capabilities, 221, 421).
 * Pure: no I/O. Must not decide which reply a command gets (session-state.ts
 * and outcome/to-lmtp.ts do); it only makes any text safe to put on the wire.
 */

export const CRLF = '\r\n';

/**
 * RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets with its CRLF.
 * Longer texts are cut (on a character boundary) rather than sent, so a
 * client that enforces the limit never sees a broken reply.
 */
export const MAX_REPLY_LINE = 512;

/** One reply line's text: no CR/LF or other controls (reply injection), within the limit. */
function safeText(prefix: string, text: string): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
  const room = MAX_REPLY_LINE - CRLF.length - Buffer.byteLength(prefix);
  if (Buffer.byteLength(flat) <= room) return flat;
  let out = '';
  let used = 0;
  for (const ch of flat) {
    const n = Buffer.byteLength(ch);
    if (used + n > room - 3) break;
    out += ch;
    used += n;
  }
  return out + '...';
}

/**
 * reply formats one reply line, `code dsn text` CRLF (RFC 2034 §3: the
 * enhanced status code follows the reply code). dsn '' for the greeting and
 * LHLO, which RFC 2034 exempts.
 */
export function reply(code: number, dsn: string, text: string): string {
  const prefix = dsn ? `${code} ${dsn} ` : `${code} `;
  return prefix + safeText(prefix, text) + CRLF;
}

/** RFC 5321 §4.2.1: every line but the last is `code-text`, the last `code text`. */
export function multiline(code: number, lines: readonly string[]): string {
  if (lines.length === 0) return reply(code, '', '');
  return lines
    .map((l, i) => {
      const prefix = `${code}${i === lines.length - 1 ? ' ' : '-'}`;
      return prefix + safeText(prefix, l) + CRLF;
    })
    .join('');
}

/** A host name as it may appear in a reply: one printable token. */
function hostToken(host: string): string {
  const t = host.replace(/[^\x21-\x7e]/g, '');
  return t || 'localhost';
}

/** RFC 5321 §4.2 / RFC 2033: the connection greeting (no enhanced code, RFC 2034 §3). */
export function greeting(host: string): string {
  return reply(220, '', `${hostToken(host)} LMTP ready`);
}

/**
 * The LHLO reply (RFC 2033 §4.1, same as EHLO's): exactly the extensions mda
 * implements. SMTPUTF8 matters: Postfix's LMTP client bounces mail that needs
 * it from a server that does not offer it. RFC 1870 §4: `SIZE 0` means no
 * fixed maximum.
 */
export function lhloReply(host: string, maxMessageSize: number): string {
  const size = Number.isSafeInteger(maxMessageSize) && maxMessageSize > 0 ? maxMessageSize : 0;
  return multiline(250, [hostToken(host), 'PIPELINING', 'ENHANCEDSTATUSCODES', '8BITMIME', 'SMTPUTF8', `SIZE ${size}`]);
}

/** RFC 5321 §4.1.1.10: the reply to QUIT, after which the server closes. */
export const BYE = reply(221, '2.0.0', 'Bye');
/** RFC 5321 §3.8: the server is going down (SIGTERM/SIGINT); RFC 3463 4.3.2 system not accepting messages. */
export const SHUTTING_DOWN = reply(421, '4.3.2', 'Service shutting down');
/** RFC 5321 §4.5.3.2: the client was silent too long; RFC 3463 4.4.2 bad connection. */
export const IDLE_TIMEOUT = reply(421, '4.4.2', 'Idle timeout');
