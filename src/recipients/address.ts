/**
 * Reads an envelope recipient (RCPT TO, without the <>) into the parts the
 * recipient lookup needs: the local part folded for lookups, split at the
 * recipient delimiter like Postfix's split_addr(), and the domain normalized.
 * Owns address syntax for lookups only (the protocol parser owns RCPT syntax).
 * Pure: no I/O.
 */
import { createRequire } from 'node:module';

export interface RecipientAddress {
  /** The local part as received, unquoted (`"a b"@x` → `a b`); case kept. */
  local: string;
  /** The local part folded for lookups (ASCII lowercase), extension included. */
  folded: string;
  /** The folded local part before the delimiter: the name looked up. */
  base: string;
  /** The part after the delimiter, case kept (Dovecot keeps the detail's case); '' when none. */
  extension: string;
  /** Normalized (lowercase, A-labels, no trailing dot); '' when the address has no domain (`<postmaster>`). */
  domain: string;
}

/** The delimiter Postfix and Dovecot use when none is configured. */
export const DEFAULT_RECIPIENT_DELIMITER = '+';

/**
 * foldLocal lowercases ASCII letters only. Postfix local(8) (lowercase()) and
 * Dovecot (`auth_username_format = %Lu`) both fold the local part before any
 * lookup, though RFC 5321 §2.4 makes it case-sensitive: a user never gets mail
 * for "Alice" bounced while "alice" exists. Non-ASCII (SMTPUTF8) is left alone,
 * as both of them leave it.
 */
export function foldLocal(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/**
 * normalizeDomain: lowercase, one trailing dot dropped, U-labels to A-labels
 * (so `bücher.example` in the config matches `xn--bcher-kva.example` from an
 * SMTPUTF8 client and back). Address literals (`[192.0.2.1]`) are only
 * lowercased. undefined when an IDN cannot be converted.
 */
export function normalizeDomain(d: string): string | undefined {
  let s = d.endsWith('.') ? d.slice(0, -1) : d;
  s = s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
  if (s.startsWith('[') || /^[\x21-\x7e]*$/.test(s)) return s;
  // node:url only for an IDN: config validation is in deliver's bundle, and a top-level import
  // would load node:url at every start (what scripts/build.mjs avoids for import.meta.url too).
  const { domainToASCII } = createRequire(import.meta.url)('node:url') as typeof import('node:url');
  const ascii = domainToASCII(s);
  return ascii === '' ? undefined : ascii;
}

/** unquoteLocal turns an RFC 5321 Quoted-string local part into its content (`\x` → x). */
function unquoteLocal(local: string): string {
  if (local.length < 2 || !local.startsWith('"') || !local.endsWith('"')) return local;
  return local.slice(1, -1).replace(/\\(.)/gs, '$1');
}

/**
 * splitExtension follows Postfix split_addr(): split at the first character
 * of `delimiters` (each character is a delimiter, as Postfix ≥ 2.11 and
 * Dovecot 2.3 allow); never split postmaster or mailer-daemon; with '-' a
 * delimiter, never split owner-* or *-request (owner_request_special); never
 * split when the base would be empty (`+foo`). '' = no delimiter at all.
 */
export function splitExtension(local: string, delimiters: string): { base: string; extension: string } {
  const whole = { base: local, extension: '' };
  if (delimiters === '') return whole;
  const lower = foldLocal(local);
  if (lower === 'postmaster' || lower === 'mailer-daemon') return whole;
  if (delimiters.includes('-') && (lower.startsWith('owner-') || (lower.length > 8 && lower.endsWith('-request')))) return whole;
  let at = -1;
  for (let i = 0; i < local.length; i++) {
    if (delimiters.includes(local[i]!)) {
      at = i;
      break;
    }
  }
  if (at <= 0) return whole;
  return { base: local.slice(0, at), extension: local.slice(at + 1) };
}

/**
 * parseRecipientAddress reads an envelope address for lookups; a string is
 * why it names nobody (empty, no local part, a domain that is no domain).
 * A source route (`@a,@b:user@host`, RFC 5321 §4.1.1.3: to be ignored) is dropped.
 */
export function parseRecipientAddress(address: string, delimiters: string): RecipientAddress | string {
  let a = address;
  if (a.startsWith('@')) {
    const colon = a.indexOf(':');
    if (colon < 0) return 'no local part';
    a = a.slice(colon + 1);
  }
  if (a === '') return 'empty address';
  // The local part may itself hold '@' inside quotes: the domain follows the last one.
  const at = a.lastIndexOf('@');
  const local = unquoteLocal(at >= 0 ? a.slice(0, at) : a);
  if (local === '') return 'no local part';
  let domain = '';
  if (at >= 0) {
    const d = normalizeDomain(a.slice(at + 1));
    if (d === undefined || d === '') return `no usable domain in ${JSON.stringify(a.slice(at + 1))}`;
    domain = d;
  }
  const { base, extension } = splitExtension(local, delimiters);
  return { local, folded: foldLocal(local), base: foldLocal(base), extension, domain };
}
