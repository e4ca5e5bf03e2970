/**
 * Validates the two `[delivery]` keys the RCPT-time recipient lookup reads
 * (`domains`, `recipient_delimiter`) into Config.recipients; validate.ts lists
 * them as known and calls this with the parsed top table. The lookup itself is
 * src/recipients/'s. Pure: no I/O.
 */
import { normalizeDomain } from '../recipients/address.js';
import { table, typeName, type Fail, type Path, type Table } from './fields.js';
import type { Config } from './schema.js';

/** The [delivery] keys this module reads. */
export const DELIVERY_RECIPIENT_KEYS = ['domains', 'recipient_delimiter'] as const;

const MAX_DELIMITERS = 16;

/** validateRecipients reads `[delivery] domains` and `recipient_delimiter` from `top` into `config`. */
export function validateRecipients(top: Table, config: Config, fail: Fail): void {
  const delivery = table(top['delivery'], ['delivery'], () => undefined); // validate.ts reports a non-table
  if (!delivery) return;
  const r = config.recipients;
  r.domains = domains(delivery['domains'], ['delivery', 'domains'], fail) ?? r.domains;
  r.delimiter = delimiter(delivery['recipient_delimiter'], ['delivery', 'recipient_delimiter'], fail) ?? r.delimiter;
}

/** domains: DNS names or address literals, stored normalized (lowercase, A-labels, no trailing dot). */
function domains(v: unknown, path: Path, fail: Fail): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) return fail(path, `must be an array of domain names, got ${typeName(v)}`);
  const out: string[] = [];
  for (const [i, d] of v.entries()) {
    if (typeof d !== 'string') return fail(path, `must be an array of domain names, element ${i + 1} is ${typeName(d)}`);
    if (d === '' || d.includes('@') || /[\s\0]/.test(d)) {
      return fail(path, `element ${i + 1} ${JSON.stringify(d)} is not a domain name (no "@", no spaces)`);
    }
    const n = normalizeDomain(d);
    if (n === undefined || n === '') return fail(path, `element ${i + 1} ${JSON.stringify(d)} is not a valid domain name`);
    out.push(n);
  }
  return out;
}

/**
 * delimiter: like Postfix's recipient_delimiter, each character starts an
 * extension ("+-" splits at the first "+" or "-"); "" turns extensions off.
 * Letters, digits, quotes, "\", "@", spaces and non-ASCII are refused: they
 * would cut ordinary names (a delimiter "2" makes bob2 into bob) or the syntax.
 */
function delimiter(v: unknown, path: Path, fail: Fail): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') return fail(path, `must be a string, got ${typeName(v)}`);
  if (v.length > MAX_DELIMITERS) return fail(path, `must be at most ${MAX_DELIMITERS} characters, got ${v.length}`);
  for (const ch of v) {
    if (!/^[\x21-\x7e]$/.test(ch) || /[A-Za-z0-9"\\@]/.test(ch)) {
      return fail(path, `${JSON.stringify(ch)} cannot be a delimiter (use punctuation such as "+" or "-")`);
    }
  }
  return v;
}
