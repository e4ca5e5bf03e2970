/**
 * Parses address headers as mail really writes them (RFC 5322 §3.4 and the
 * obsolete §4.4 forms); broken entries keep their raw text, which only :all
 * sees (RFC 5228 §2.7.4). Owns ADDRESS-PARTs (RFC 5228, RFC 5233 subaddress).
 * Never decodes RFC 2047 and never reads a message. Pure: no I/O.
 */

export type AddressPart = 'all' | 'localpart' | 'domain' | 'user' | 'detail';

export type ParsedAddress =
  | {
      kind: 'mailbox';
      /** Unquoted: `"a b"@x` has local part `a b`. */
      localPart: string;
      /** As written (case kept); a `[domain literal]` keeps its brackets; undefined only for an envelope `postmaster`. */
      domain: string | undefined;
      /** Phrase words joined by one space (quotes removed), else the comment of `a@b (Name)`; '' when none. */
      displayName: string;
      /** The group this mailbox was listed in, if any. */
      group?: string;
    }
  | { kind: 'invalid'; raw: string };

interface Token {
  /** atom, quoted string, domain literal, a special character, or 'bad' (a stray special). */
  t: 'atom' | 'qs' | 'dl' | 'sp' | 'bad';
  v: string;
  start: number;
  end: number;
}

// RFC 5322 §3.2.3 specials; everything else printable (and any non-ASCII, RFC 6532) is atext.
const SPECIAL = new Set(['(', ')', '<', '>', '[', ']', ':', ';', '@', '\\', ',', '.', '"']);
const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';

/** Splits a header value into tokens; comments are dropped, but their text is kept for display names. */
function tokenize(s: string): { tokens: Token[]; comments: Array<{ at: number; text: string }> } {
  const tokens: Token[] = [];
  const comments: Array<{ at: number; text: string }> = [];
  let i = 0;
  // A quoted string or domain literal up to `close` (quoted-pairs unescaped, folds removed); unterminated is 'bad'.
  const until = (close: string, t: 'qs' | 'dl'): void => {
    const start = i++;
    let v = '';
    while (i < s.length && s[i] !== close) {
      if (s[i] === '\\' && i + 1 < s.length) i++;
      if (s[i] !== '\r' && s[i] !== '\n') v += s[i];
      i++;
    }
    const closed = i < s.length;
    if (closed) i++;
    tokens.push({ t: closed ? t : 'bad', v: t === 'dl' ? `[${v}]` : v, start, end: i });
  };
  while (i < s.length) {
    const c = s[i] as string;
    if (isSpace(c)) i++;
    else if (c === '(') {
      // Nested comments (RFC 5322 §3.2.2); an unterminated one runs to the end.
      const at = i;
      let depth = 0;
      let text = '';
      do {
        const d = s[i] as string;
        if (d === '\\' && i + 1 < s.length) {
          text += s[i + 1];
          i += 2;
          continue;
        }
        i++;
        if (d === '(' && depth++ === 0) continue; // the outer parentheses are not text
        if (d === ')' && --depth === 0) continue;
        text += d;
      } while (i < s.length && depth > 0);
      comments.push({ at, text: text.replace(/\s+/g, ' ').trim() });
    } else if (c === '"') until('"', 'qs');
    else if (c === '[') until(']', 'dl');
    else if (SPECIAL.has(c)) {
      tokens.push({ t: c === ')' || c === ']' || c === '\\' ? 'bad' : 'sp', v: c, start: i, end: i + 1 });
      i++;
    } else {
      const start = i;
      while (i < s.length && !isSpace(s[i] as string) && !SPECIAL.has(s[i] as string)) i++;
      tokens.push({ t: 'atom', v: s.slice(start, i), start, end: i });
    }
  }
  return { tokens, comments };
}

const isSp = (tok: Token | undefined, v: string): boolean => tok?.t === 'sp' && tok.v === v;
const isWord = (tok: Token | undefined): boolean => tok?.t === 'atom' || tok?.t === 'qs';

/**
 * local-part "@" domain. Lenient where real mail is (as Dovecot is): dots
 * may lead, trail or repeat in the local part (RFC 5322 §4.4 obs-local-part
 * and worse), but words must be joined by dots and both sides present.
 */
function addrSpec(ts: Token[], envelope: boolean): { localPart: string; domain: string | undefined } | null {
  const at = ts.findIndex((t) => isSp(t, '@'));
  const local = at < 0 ? ts : ts.slice(0, at);
  if (!local.some(isWord)) return null;
  for (let i = 0; i < local.length; i++) {
    const t = local[i] as Token;
    if (!(isWord(t) || isSp(t, '.')) || (isWord(t) && isWord(local[i - 1]))) return null;
  }
  const localPart = local.map((t) => t.v).join('');
  if (at < 0) return envelope ? { localPart, domain: undefined } : null; // "nonsense", "stephan@" are not addresses
  const dom = ts.slice(at + 1);
  if (dom.length === 1 && dom[0]?.t === 'dl') return { localPart, domain: dom[0].v };
  // domain = atom *("." atom); a single trailing dot (an absolute name) is tolerated.
  const end = isSp(dom[dom.length - 1], '.') ? dom.length - 1 : dom.length;
  if (end === 0 || end % 2 === 0) return null;
  for (let i = 0; i < end; i++) if (i % 2 === 0 ? dom[i]?.t !== 'atom' : !isSp(dom[i], '.')) return null;
  return { localPart, domain: dom.slice(0, end).map((t) => t.v).join('') };
}

/** Phrase words joined by one space; obs-phrase dots stick to the word before ("Dr. J. Doe"). */
const phraseText = (ts: Token[]): string => ts.map((t) => (isSp(t, '.') ? '.' : ` ${t.v}`)).join('').trim();

/** One list entry: name-addr (`phrase <addr>`, with an obsolete source route) or a bare addr-spec. */
function mailbox(ts: Token[], envelope: boolean): { localPart: string; domain: string | undefined; phrase: string } | null {
  const open = ts.findIndex((t) => isSp(t, '<'));
  if (open < 0) {
    const spec = addrSpec(ts, envelope);
    return spec && { ...spec, phrase: '' };
  }
  const close = ts.findIndex((t, i) => i > open && isSp(t, '>'));
  if (close < 0 || close !== ts.length - 1) return null;
  const phrase = ts.slice(0, open);
  if (!phrase.every((t) => isWord(t) || isSp(t, '.'))) return null; // obs-phrase allows dots
  let inner = ts.slice(open + 1, close);
  if (isSp(inner[0], '@')) {
    // obs-route "@a,@b:" before the address (RFC 5322 §4.4): ignored.
    const colon = inner.findIndex((t) => isSp(t, ':'));
    if (colon < 0) return null;
    inner = inner.slice(colon + 1);
  }
  const spec = addrSpec(inner, envelope);
  return spec && { ...spec, phrase: phraseText(phrase) };
}

/**
 * Every entry of an address-list header value, in order. Groups
 * (`Undisclosed: a@b, c@d;`) contribute their members; an empty group
 * (`undisclosed-recipients:;`) contributes nothing. An entry that is not a
 * mailbox stays as `invalid` with its raw text, and an empty value is one
 * invalid entry with raw '' (Pigeonhole: `Resent-To:` matches :all "").
 * Unlike Pigeonhole, one broken entry does not spoil the others.
 */
export function parseAddressList(value: string, envelope = false): ParsedAddress[] {
  const { tokens, comments } = tokenize(value);
  if (tokens.length === 0) return [{ kind: 'invalid', raw: value.trim() }];
  const out: ParsedAddress[] = [];
  let group: string | undefined;
  let i = 0;
  let regionStart = 0; // raw text of an entry runs from the previous separator to the next
  let nextComment = 0; // comments and entries both come in text order: one pass over each
  while (i < tokens.length) {
    // "display-name :" opens a group: words (or dots) then a colon, before any '<' or '@'.
    let j = i;
    while (j < tokens.length && (isWord(tokens[j]) || isSp(tokens[j], '.'))) j++;
    if (group === undefined && j > i && isSp(tokens[j], ':')) {
      group = phraseText(tokens.slice(i, j));
      regionStart = (tokens[j] as Token).end;
      i = j + 1;
      continue;
    }
    // The entry runs to the next ',' (or ';' that closes the group) outside angle brackets.
    let depth = 0;
    for (j = i; j < tokens.length; j++) {
      const t = tokens[j] as Token;
      if (isSp(t, '<')) depth++;
      else if (isSp(t, '>')) depth = Math.max(0, depth - 1);
      else if (depth === 0 && (isSp(t, ',') || isSp(t, ';'))) break;
    }
    const sep = tokens[j];
    const regionEnd = sep ? sep.start : value.length;
    if (j > i) {
      const entry = tokens.slice(i, j);
      const m = entry.some((t) => t.t === 'bad') ? null : mailbox(entry, envelope);
      const raw = value.slice(regionStart, regionEnd).trim();
      if (!m) out.push({ kind: 'invalid', raw });
      else {
        while (nextComment < comments.length && (comments[nextComment] as { at: number }).at < regionStart) nextComment++;
        const c = comments[nextComment];
        const comment = c && c.at < regionEnd ? c : undefined;
        const displayName = m.phrase || comment?.text || '';
        out.push({ kind: 'mailbox', localPart: m.localPart, domain: m.domain, displayName, ...(group !== undefined && { group }) });
      }
    }
    if (isSp(sep, ';')) group = undefined;
    regionStart = sep ? sep.end : value.length;
    i = j + 1;
  }
  return out;
}

/**
 * An envelope address (RFC 5321 path, with or without <>): its mailbox, or
 * for the null path "<>" an invalid entry with raw '' (RFC 5228 §5.4: the
 * null reverse-path is the empty string whatever the ADDRESS-PART). A local
 * part without domain (`postmaster`) is accepted here.
 */
export function parseEnvelopeAddress(path: string): ParsedAddress {
  const trimmed = path.trim();
  const bare = trimmed.startsWith('<') && trimmed.endsWith('>') ? trimmed.slice(1, -1).trim() : trimmed;
  if (bare === '') return { kind: 'invalid', raw: '' };
  const list = parseAddressList(trimmed.startsWith('<') ? trimmed : bare, true);
  const [only] = list;
  return list.length === 1 && only ? only : { kind: 'invalid', raw: trimmed };
}

// RFC 5322 §3.2.3 atext: a local part made of these and single inner dots needs no quotes.
const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\u{10FFFF}-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\u{10FFFF}-]+)*$/u;

/** local@domain as :all compares it: the local part quoted only when it must be (`"a b"@x`, `sirius@x` for `"sirius"@x`). */
export function formatAddress(localPart: string, domain: string | undefined): string {
  const local = DOT_ATOM.test(localPart) ? localPart : `"${localPart.replace(/["\\]/g, '\\$&')}"`;
  return domain === undefined ? local : `${local}@${domain}`;
}

/**
 * One ADDRESS-PART of an entry, or undefined when it has none (no match).
 * RFC 5233 §4: user+detail split at the first separator character
 * (`separator` is a set, like Postfix's recipient_delimiter and Dovecot's:
 * "+-" splits at the first '+' or '-'); without one, :user is the whole
 * local part and :detail does not exist; `+x@` has user '' and `a+@` detail ''.
 * An invalid entry has only :all (its raw text), except that an empty one
 * is '' for every part, as in Pigeonhole.
 */
export function addressPart(addr: ParsedAddress, part: AddressPart, separator = '+'): string | undefined {
  if (addr.kind === 'invalid') return part === 'all' || addr.raw === '' ? addr.raw : undefined;
  const { localPart, domain } = addr;
  switch (part) {
    case 'all':
      return formatAddress(localPart, domain);
    case 'localpart':
      return localPart;
    case 'domain':
      return domain;
    case 'user':
    case 'detail': {
      let cut = -1;
      for (let i = 0; i < localPart.length && cut < 0; i++) if (separator.includes(localPart[i] as string)) cut = i;
      if (cut < 0) return part === 'user' ? localPart : undefined;
      return part === 'user' ? localPart.slice(0, cut) : localPart.slice(cut + 1);
    }
  }
}
