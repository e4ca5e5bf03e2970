/**
 * The "encoded-character" extension (RFC 5228 §2.4.2.4): replaces ${hex:...} and ${unicode:...}
 * in a string value, in one pass (a decoded result is never decoded again). A malformed sequence
 * stays as written; a well-formed ${unicode:...} naming a surrogate or a value above 10FFFF is an
 * error. Pure. validate.ts applies it to every string when the script requires the extension.
 */

export type DecodeResult = { ok: true; value: string } | { ok: false; error: string; offset: number };

/** "${" then the name, case-insensitive: ${HEX:40} and ${UnICoDE:40} count, "${ hex:40}" does not. */
const START = /\$\{(hex|unicode):/gi;
/** blank = WSP / CRLF; a bare LF too, as the lexer accepts it as a line break. */
const BLANKS = /^[ \t\r\n]*$/;
const HEX_PAIR_SEQ = /^[ \t\r\n]*[0-9A-Fa-f]{1,2}(?:[ \t\r\n]+[0-9A-Fa-f]{1,2})*[ \t\r\n]*$/;
const UNICODE_HEX_SEQ = /^[ \t\r\n]*[0-9A-Fa-f]+(?:[ \t\r\n]+[0-9A-Fa-f]+)*[ \t\r\n]*$/;

const utf8 = new TextDecoder('utf-8');

/**
 * decodeEncodedCharacters returns the string with every well-formed sequence replaced.
 * ${hex:..} yields octets: they are joined with the octets around them (so ${hex:C3}${hex:A9}
 * is "é") and read as UTF-8; octets that are not UTF-8 become U+FFFD, since values are
 * JavaScript strings.
 */
export function decodeEncodedCharacters(s: string): DecodeResult {
  if (!s.includes('${')) return { ok: true, value: s };
  const parts: Array<string | Uint8Array> = [];
  let from = 0;
  START.lastIndex = 0;
  for (let m = START.exec(s); m !== null; m = START.exec(s)) {
    const bodyStart = m.index + m[0].length;
    const close = s.indexOf('}', bodyStart);
    const body = close < 0 ? '' : s.slice(bodyStart, close);
    const isHex = m[1]!.toLowerCase() === 'hex';
    if (close < 0 || BLANKS.test(body) || !(isHex ? HEX_PAIR_SEQ : UNICODE_HEX_SEQ).test(body)) {
      START.lastIndex = m.index + 2; // not a sequence: keep it, look for one inside it ("${hex:4${hex:30}}")
      continue;
    }
    const items = body.trim().split(/[ \t\r\n]+/);
    let decoded: string | Uint8Array;
    if (isHex) {
      decoded = Uint8Array.from(items, (h) => parseInt(h, 16));
    } else {
      const chars: string[] = [];
      for (const h of items) {
        const digits = h.replace(/^0+(?=.)/, '');
        const cp = digits.length > 6 ? Infinity : parseInt(digits, 16);
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
          const shown = digits.length > 12 ? `${digits.slice(0, 12)}...` : digits.toUpperCase();
          return {
            ok: false,
            offset: m.index,
            error: `invalid Unicode character U+${shown} in \${unicode:...}: only 0-D7FF and E000-10FFFF are characters (RFC 5228 §2.4.2.4)`,
          };
        }
        chars.push(String.fromCodePoint(cp));
      }
      decoded = chars.join('');
    }
    if (m.index > from) parts.push(s.slice(from, m.index));
    parts.push(decoded);
    from = close + 1;
    START.lastIndex = from;
  }
  if (from === 0) return { ok: true, value: s };
  parts.push(s.slice(from));
  return { ok: true, value: join(parts) };
}

/** Joins text and octet runs: adjacent octets are decoded together so multi-byte UTF-8 survives. */
function join(parts: Array<string | Uint8Array>): string {
  if (!parts.some((p) => typeof p !== 'string')) return parts.join('');
  let out = '';
  let pending: number[] = [];
  const flush = (): void => {
    if (pending.length > 0) out += utf8.decode(Uint8Array.from(pending));
    pending = [];
  };
  for (const p of parts) {
    if (typeof p === 'string') {
      flush();
      out += p;
    } else {
      pending.push(...p);
    }
  }
  flush();
  return out;
}
