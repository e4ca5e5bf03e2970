/**
 * Parses the path of MAIL FROM / RCPT TO (RFC 5321 §4.1.2, with RFC 6531's
 * UTF-8) into the canonical address the rest of mda sees: no angle brackets,
 * no source route, the local part quoted only when it must be.
 * Pure: no I/O. Must not decide whether an address exists.
 */

export type PathResult = string | { why: string };

/** RFC 5322 §3.2.3 atext (what RFC 5321's Atom is made of), as a character class body. */
const ATEXT = "A-Za-z0-9!#$%&'*+\\-/=?^_`{|}~";
/** RFC 6531 §3.3: UTF8-non-ascii may appear wherever atext or qtext may; U+FFFD marks bytes that were not UTF-8. */
const NON_ASCII = '\\u00a0-\\ufffc\\u{10000}-\\u{10ffff}';

/**
 * Lenient on dots: "john..doe" and "john.@" are invalid Dot-strings, but
 * some large mobile carriers issued such addresses and Postfix passes them
 * on; refusing here would bounce real mail to no one's benefit.
 */
const LENIENT_DOT_STRING = new RegExp(`^[${ATEXT}${NON_ASCII}.]+$`, 'u');
/** Strict Dot-string (RFC 5321 §4.1.2): what may be written without quotes. */
const DOT_STRING = new RegExp(`^[${ATEXT}${NON_ASCII}]+(\\.[${ATEXT}${NON_ASCII}]+)*$`, 'u');
/**
 * Domain (RFC 5321 §4.1.2 sub-domains; RFC 6531 U-labels). Lenient on "_",
 * which real host names carry. address-literal: RFC 5321 §4.1.3, any dcontent.
 */
const DOMAIN = new RegExp(`^(?:[A-Za-z0-9_${NON_ASCII}](?:[A-Za-z0-9_\\-${NON_ASCII}]*[A-Za-z0-9_${NON_ASCII}])?)(?:\\.(?:[A-Za-z0-9_${NON_ASCII}](?:[A-Za-z0-9_\\-${NON_ASCII}]*[A-Za-z0-9_${NON_ASCII}])?))*$`, 'u');
const ADDRESS_LITERAL = /^\[[\x21-\x5a\x5e-\x7e]+\]$/;
/** RFC 5321 §4.1.2 A-d-l: `@a,@b:` before the mailbox. */
const SOURCE_ROUTE = /^@[^,:]+(?:,@[^,:]+)*:/;

function validDomain(d: string): boolean {
  return DOMAIN.test(d) || ADDRESS_LITERAL.test(d);
}

const QTEXT_CHAR = new RegExp(`^[\\x20\\x21\\x23-\\x5b\\x5d-\\x7e${NON_ASCII}]$`, 'u');

/** The unescaped content of a Quoted-string, or undefined when it is not one (RFC 5321 §4.1.2 QcontentSMTP). */
function unquote(q: string): string | undefined {
  const chars = Array.from(q.slice(1, -1)); // code points: an astral character is one
  let out = '';
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '\\') {
      // quoted-pairSMTP = %d92 %d32-126
      const n = chars[++i];
      if (n === undefined || !/^[\x20-\x7e]$/.test(n)) return undefined;
      out += n;
    } else if (!QTEXT_CHAR.test(c)) return undefined;
    else out += c;
  }
  return out;
}

/** The local part as mda writes it: bare when it is a Dot-string, quoted (minimally escaped) otherwise. */
function canonicalLocal(content: string): string {
  return DOT_STRING.test(content) ? content : `"${content.replace(/(["\\])/g, '\\$1')}"`;
}

/**
 * parsePath turns `<...>` (or, leniently, a bare address) into the address.
 * `<>` is the null reverse-path (RFC 5321 §4.1.1.2), allowed only for MAIL.
 * A local part without a domain is accepted (RFC 5321 §4.1.1.3 names
 * <Postmaster>; the recipient lookup works by local part anyway).
 * Source routes are accepted and ignored (RFC 5321 §4.1.2, §C).
 */
export function parsePath(raw: string, opts: { allowNull: boolean }): PathResult {
  let inner = raw;
  if (raw === '') return { why: 'no address' }; // only "<>" is the null path
  if (raw.startsWith('<')) {
    if (!raw.endsWith('>') || raw.length < 2) return { why: 'unbalanced <>' };
    inner = raw.slice(1, -1);
  } else if (raw.includes('>')) return { why: 'unbalanced <>' };
  if (inner === '') return opts.allowNull ? '' : { why: 'empty address' };
  const route = SOURCE_ROUTE.exec(inner);
  if (route) {
    const hops = route[0].slice(0, -1).split(',');
    if (!hops.every((h) => validDomain(h.slice(1)))) return { why: 'bad source route' };
    inner = inner.slice(route[0].length);
  }
  let local: string;
  let rest: string;
  if (inner.startsWith('"')) {
    // the closing quote is the first unescaped one
    let end = -1;
    for (let i = 1; i < inner.length; i++) {
      if (inner[i] === '\\') i++;
      else if (inner[i] === '"') {
        end = i;
        break;
      }
    }
    if (end < 0) return { why: 'unterminated quoted local part' };
    const content = unquote(inner.slice(0, end + 1));
    if (content === undefined) return { why: 'bad character in quoted local part' };
    local = canonicalLocal(content);
    rest = inner.slice(end + 1);
  } else {
    const at = inner.indexOf('@');
    const bare = at < 0 ? inner : inner.slice(0, at);
    if (!bare || !LENIENT_DOT_STRING.test(bare)) return { why: 'bad character in local part' };
    local = bare;
    rest = at < 0 ? '' : inner.slice(at);
  }
  if (rest === '') return local;
  if (!rest.startsWith('@')) return { why: 'text after the local part' };
  const domain = rest.slice(1);
  if (!validDomain(domain)) return { why: 'bad domain' };
  return `${local}@${domain}`;
}
