/**
 * The rules around sending mail for Sieve: which redirect addresses are
 * acceptable (one plain addr-spec, RFC 5228 §4.2), the sendmail argv (never a
 * shell; `-f <>` for the null sender, RFC 3834 §3.3 / RFC 5228 §4.2), and the
 * redirect loop control mda uses: an `X-Sieve-Redirected-From: <recipient>`
 * field on every redirected copy. Pure: no I/O (sendmail.ts runs the program).
 */
import { formatAddress, parseAddressList } from './address.js';

export const REDIRECT_FIELD = 'X-Sieve-Redirected-From';

/**
 * A plain addr-spec with a domain: no display name, no list, no spaces or
 * control characters or address literals, not starting with '-' (it becomes an argv element, and
 * Postfix's sendmail parses recipients as an RFC 822 header: a comma would add recipients).
 */
export function checkRedirectAddress(raw: string): { ok: true; address: string } | { ok: false; why: string } {
  const a = raw.trim().replace(/^<(.*)>$/, '$1');
  if (a === '') return { ok: false, why: 'empty address' };
  if (a.length > 254) return { ok: false, why: 'address longer than 254 characters (RFC 5321 §4.5.3.1)' };
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f,;<>()"\\[\]]/.test(a)) return { ok: false, why: `not a single plain address: ${JSON.stringify(raw)}` };
  const at = a.lastIndexOf('@');
  if (at <= 0 || at === a.length - 1) return { ok: false, why: `not an address with a domain: ${JSON.stringify(raw)}` };
  if (a.startsWith('-') || a.startsWith('.') || a.includes('..')) return { ok: false, why: `not a valid address: ${JSON.stringify(raw)}` };
  const domain = a.slice(at + 1);
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(domain)) {
    return { ok: false, why: `not a valid domain: ${JSON.stringify(domain)}` };
  }
  return { ok: true, address: a };
}

/**
 * redirectAddress: the one address a redirect names. RFC 5228 §2.4.2.3 lets it be written as a
 * mailbox with a display name (`Carol <carol@example.com>`, RFC 5322 §3.4), so such a form is
 * parsed (address.ts) and must yield exactly one mailbox outside any group; the addr-spec that
 * comes out then passes checkRedirectAddress like a bare one. Duplicate redirects are compared on
 * this result, not on the text as written (RFC 5228 §2.10.3).
 */
export function redirectAddress(raw: string): { ok: true; address: string } | { ok: false; why: string } {
  // Only a phrase before one angle-addr goes through the parser; anything else is checked as written.
  if (!/^\s*[^\s<>][^<>]*<[^<>]*>\s*$/.test(raw)) return checkRedirectAddress(raw);
  const list = parseAddressList(raw);
  const [only] = list;
  if (list.length !== 1 || only?.kind !== 'mailbox' || only.group !== undefined || only.domain === undefined) {
    return { ok: false, why: `not a single address: ${JSON.stringify(raw)}` };
  }
  return checkRedirectAddress(formatAddress(only.localPart, only.domain));
}

/**
 * sendmailArgv: `sendmail -i -f SENDER -- RCPT`. -i: a line with a single dot
 * is content, not the end. The null sender is written `<>`, which Postfix,
 * Exim and Sendmail all read as MAIL FROM:<>.
 */
export function sendmailArgv(program: string, sender: string, recipient: string): string[] {
  return [program, '-i', '-f', sender === '' ? '<>' : sender, '--', recipient];
}

/** The field prepended to a redirected copy, with the message's own line end. */
export function redirectedFromField(recipient: string, eol: '\n' | '\r\n'): Buffer {
  return Buffer.from(`${REDIRECT_FIELD}: <${recipient}>${eol}`, 'utf8');
}

/**
 * isRedirectLoop: the message already went through a redirect of this
 * recipient's (RFC 5228 §4.2 asks for loop control); redirecting it again
 * would bounce it between two filters forever.
 */
export function isRedirectLoop(fieldValues: readonly string[], recipient: string): boolean {
  const me = recipient.trim().replace(/^<|>$/g, '').toLowerCase();
  if (me === '') return false;
  return fieldValues.some((v) => v.trim().replace(/^<|>$/g, '').toLowerCase() === me);
}

/**
 * The length of the Return-Path field(s) at the very start of a stored
 * message (Postfix prepends it): a redirected copy leaves it out, since the
 * next delivery adds its own from the envelope (RFC 5321 §4.4).
 */
export function leadingReturnPathLength(head: Buffer): number {
  let offset = 0;
  while (offset < head.length && /^return-path:/i.test(head.subarray(offset, offset + 12).toString('latin1'))) {
    let end = head.indexOf(0x0a, offset);
    // continuation lines belong to the field
    while (end >= 0 && (head[end + 1] === 0x20 || head[end + 1] === 0x09)) end = head.indexOf(0x0a, end + 1);
    if (end < 0) return offset; // unterminated: leave it alone
    offset = end + 1;
  }
  return offset;
}
