/**
 * Decodes header values for the header test (RFC 5228 §2.7.2: encoded-words
 * are decoded before comparing): unfolds, then decodes RFC 2047 B/Q words in
 * every charset Node's TextDecoder knows. What does not decode stays exactly as
 * written, never an error. Knows nothing of addresses. Pure: no I/O.
 */

/** RFC 5322 §2.2.3: a line break followed by white space is a fold; removing the break restores the line. */
export function unfold(value: string): string {
  return value.replace(/\r?\n(?=[ \t])/g, '');
}

// RFC 2047 §2: encoded-word = "=?" charset "?" encoding "?" encoded-text "?="; no white space or '?' inside.
// A charset may carry an RFC 2231 language ("utf-8*en"). Like Dovecot, words are found anywhere in the
// value, not only between white space, since plenty of mail writes "Re:=?utf-8?...".
const ENCODED_WORD = /=\?([^?\s*]+)(?:\*[^?\s]*)?\?([BbQq])\?([^?\s]*)\?=/g;

const decoders = new Map<string, TextDecoder | null>();

/**
 * The decoder for a charset label, or null when Node has none. WHATWG labels:
 * us-ascii, iso-8859-1 and latin1 all mean windows-1252, a superset that
 * also gives the C1 range the characters real mail means by it.
 */
function decoderFor(charset: string): TextDecoder | null {
  const label = charset.toLowerCase();
  let d = decoders.get(label);
  if (d === undefined) {
    try {
      d = new TextDecoder(label, { fatal: false });
    } catch {
      d = null; // RangeError: a charset Node cannot decode (utf-7, x-unknown...)
    }
    decoders.set(label, d);
  }
  return d;
}

// windows-1252's 0x80..0x9F; the five it leaves undefined stay C1 controls. Node 20's decoder maps
// these bytes to U+0080..U+009F instead (a known bug), which would turn smart quotes into controls.
const CP1252_C1 = '€\x81‚ƒ„…†‡ˆ‰Š‹Œ\x8dŽ\x8f\x90‘’“”•–—˜™š›œ\x9džŸ';

function decode(charset: string, bytes: Uint8Array): string {
  const d = decoderFor(charset) as TextDecoder;
  const text = d.decode(bytes);
  return d.encoding === 'windows-1252' ? text.replace(/[\x80-\x9f]/g, (c) => CP1252_C1[c.charCodeAt(0) - 0x80] as string) : text;
}

const HEX = /^[0-9A-Fa-f]{2}$/;

/** Q encoding (RFC 2047 §4.2): '_' is a space, =XX a byte; a stray '=' is kept as itself. */
function decodeQ(text: string): Uint8Array {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    const hex = text.slice(i + 1, i + 3);
    if (c === '=' && HEX.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c === '_') bytes.push(0x20);
    else if (c.charCodeAt(0) < 0x80) bytes.push(c.charCodeAt(0));
    else bytes.push(...Buffer.from(c, 'utf8')); // not allowed in Q text, but keep it rather than lose it
  }
  return Uint8Array.from(bytes);
}

/** B encoding (RFC 2047 §4.1): base64; padding may be missing, but any other character makes the word invalid. */
function decodeB(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) return null;
  return Buffer.from(text, 'base64');
}

interface Decoded {
  charset: string;
  /** Joined once at the end: concatenating word by word would be quadratic on a long run. */
  chunks: Uint8Array[];
}

/**
 * Unfolds and decodes every encoded-word. White space between two
 * encoded-words is dropped (RFC 2047 §6.2), and adjacent words in the same
 * charset are decoded as one byte string, so a character split across two
 * words (common in B-encoded UTF-8) comes out whole. A word with an unknown
 * charset or broken encoding stays as written.
 */
export function decodeEncodedWords(value: string): string {
  const text = unfold(value);
  if (!text.includes('=?')) return text;
  let out = '';
  let run: Decoded | null = null; // the valid words just before, not yet turned into text
  let last = 0;
  const flush = (): void => {
    if (run) out += decode(run.charset, Buffer.concat(run.chunks));
    run = null;
  };
  for (const m of text.matchAll(ENCODED_WORD)) {
    const [word, charset = '', encoding = '', encoded = ''] = m;
    const before = text.slice(last, m.index);
    last = m.index + word.length;
    const bytes = decoderFor(charset) ? (encoding.toUpperCase() === 'B' ? decodeB(encoded) : decodeQ(encoded)) : null;
    if (!bytes) {
      flush();
      out += before + word;
      continue;
    }
    const current = run as Decoded | null;
    const adjacent = current !== null && /^[ \t\r\n]*$/.test(before);
    if (adjacent && current.charset.toLowerCase() === charset.toLowerCase()) {
      current.chunks.push(bytes);
      continue;
    }
    flush();
    if (!adjacent) out += before;
    run = { charset, chunks: [bytes] };
  }
  flush();
  return out + text.slice(last);
}
