/**
 * The Sieve lexer (RFC 5228 §2.2-§2.4 and §8.1): script text → tokens with 1-based line/column,
 * string values unescaped (quoted) or dot-unstuffed (text:) and line breaks normalised to CRLF.
 * Must not: know commands or grammar (parser.ts) or decode ${hex:...} (encoded-character.ts).
 * Pure: no I/O.
 */
import type { Pos } from './ast.js';

export type PunctKind = '[' | ']' | ',' | '(' | ')' | '{' | '}' | ';';

export type Token =
  | { kind: 'identifier'; /** lower-cased */ name: string; raw: string; pos: Pos }
  | { kind: 'tag'; /** lower-cased, no colon */ name: string; raw: string; pos: Pos }
  | { kind: 'number'; value: number; raw: string; pos: Pos }
  | { kind: 'string'; value: string; multiline: boolean; pos: Pos }
  | { kind: PunctKind | 'eof'; pos: Pos };

/** A lexical error; `fatal` ones (unterminated string/comment/text:) end the token stream there. */
export interface LexError {
  line: number;
  column: number;
  message: string;
  fatal: boolean;
}

/**
 * The largest number accepted. RFC 5228 §2.4.1 requires 0..2^31-1 and allows more; every number
 * above 2^53-1 would lose precision in a JavaScript number, so that is where overflow starts
 * (Pigeonhole 0.5 goes up to 2^64-1).
 */
export const MAX_NUMBER = Number.MAX_SAFE_INTEGER;

/** K, M and G are powers of two (RFC 5228 §2.4.1); the suffix is case-insensitive like all ABNF literals. */
const QUANTIFIER: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 };
const PUNCT = new Set(['[', ']', ',', '(', ')', '{', '}', ';']);
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isIdentStart = (c: string | undefined): boolean => c !== undefined && /[A-Za-z_]/.test(c);
const isIdentChar = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9_]/.test(c);

/** How a character appears in a message: printable as 'x', anything else as U+XXXX. */
export function showChar(c: string): string {
  const cp = c.codePointAt(0) ?? 0;
  return cp > 0x20 && cp < 0x7f ? `'${c}'` : `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

export function tokenize(text: string): { tokens: Token[]; errors: LexError[] } {
  return new Lexer(text).run();
}

class Lexer {
  private i = 0;
  private line = 1;
  private col = 1;
  private readonly tokens: Token[] = [];
  private readonly errors: LexError[] = [];

  constructor(private readonly text: string) {
    if (text.charCodeAt(0) === 0xfeff) this.i = 1; // a byte order mark some editors write: not part of the script
  }

  run(): { tokens: Token[]; errors: LexError[] } {
    try {
      while (this.scanToken());
    } catch (e) {
      if (!(e instanceof Fatal)) throw e;
    }
    this.tokens.push({ kind: 'eof', pos: this.pos() });
    return { tokens: this.tokens, errors: this.errors };
  }

  private pos(): Pos {
    return { line: this.line, column: this.col };
  }

  private error(at: Pos, message: string): void {
    this.errors.push({ line: at.line, column: at.column, message, fatal: false });
  }

  private fatal(at: Pos, message: string): never {
    this.errors.push({ line: at.line, column: at.column, message, fatal: true });
    throw new Fatal();
  }

  /** Moves to index `to`, keeping line and column right (columns count code points, a tab is one). */
  private jump(to: number): void {
    const t = this.text;
    for (; this.i < to; this.i++) {
      const code = t.charCodeAt(this.i);
      if (code === 10) {
        this.line++;
        this.col = 1;
      } else if (code < 0xdc00 || code > 0xdfff) {
        this.col++; // the low half of a surrogate pair is not a column of its own
      }
    }
  }

  /** Scans one token or piece of white space; false at the end of the text. */
  private scanToken(): boolean {
    const t = this.text;
    const c = t[this.i];
    if (c === undefined) return false;
    const start = this.pos();
    // white-space = 1*(SP / CRLF / HTAB) / comment (§8.1); a bare LF is accepted as a line break
    // (scripts written on Unix), a bare CR as blank (Pigeonhole does the same).
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      this.jump(this.i + 1);
    } else if (c === '#') {
      const nl = t.indexOf('\n', this.i);
      this.jump(nl < 0 ? t.length : nl); // a hash comment may end at the end of the script
    } else if (c === '/' && t[this.i + 1] === '*') {
      // bracket comments do not nest: the first */ ends it (§2.3)
      const end = t.indexOf('*/', this.i + 2);
      if (end < 0) this.fatal(start, 'unterminated comment: this /* has no closing */');
      this.jump(end + 2);
    } else if (c === '"') {
      this.quoted(start);
    } else if (isDigit(c)) {
      this.number(start);
    } else if (isIdentStart(c)) {
      this.identifier(start);
    } else if (c === ':') {
      this.jump(this.i + 1);
      const word = this.word();
      if (word) this.tokens.push({ kind: 'tag', name: word.toLowerCase(), raw: `:${word}`, pos: start });
      else this.error(start, "':' must be followed by a tag name, as in :is");
    } else if (PUNCT.has(c)) {
      this.tokens.push({ kind: c as PunctKind, pos: start });
      this.jump(this.i + 1);
    } else {
      this.garbage(start);
    }
    return true;
  }

  /** An identifier at the scan position, or '' (a digit cannot start one). */
  private word(): string {
    const from = this.i;
    let j = this.i;
    if (isIdentStart(this.text[j])) while (isIdentChar(this.text[j])) j++;
    this.jump(j);
    return this.text.slice(from, j);
  }

  /** One error for a run of characters that start no token (`$$$` is one mistake, not three). */
  private garbage(start: Pos): void {
    const first = String.fromCodePoint(this.text.codePointAt(this.i) ?? 0);
    let j = this.i;
    while (j < this.text.length && isGarbage(this.text, j)) j += this.text.codePointAt(j)! > 0xffff ? 2 : 1;
    this.error(start, `unexpected character ${showChar(first)}`);
    this.jump(j);
  }

  private number(start: Pos): void {
    const t = this.text;
    let j = this.i;
    while (isDigit(t[j])) j++;
    const digits = t.slice(this.i, j);
    const q = QUANTIFIER[(t[j] ?? '').toLowerCase()];
    if (q !== undefined) j++;
    const raw = t.slice(this.i, j);
    this.jump(j);
    // BigInt keeps the check exact; more than 20 digits is too large whatever they are
    const big = digits.length > 20 ? null : BigInt(digits) * BigInt(q ?? 1);
    const fits = big !== null && big <= BigInt(MAX_NUMBER);
    const shown = raw.length > 30 ? `${raw.slice(0, 30)}...` : raw;
    if (!fits) this.error(start, `number ${shown} is too large (the largest supported number is ${MAX_NUMBER})`);
    this.tokens.push({ kind: 'number', value: fits ? Number(big) : MAX_NUMBER, raw, pos: start });
  }

  private identifier(start: Pos): void {
    const word = this.word();
    if (word.toLowerCase() === 'text' && this.text[this.i] === ':') {
      this.jump(this.i + 1);
      this.multiline(start);
      return;
    }
    this.tokens.push({ kind: 'identifier', name: word.toLowerCase(), raw: word, pos: start });
  }

  /**
   * quoted-string (§2.4.2, §8.1): only \" and \\ are escapes; "\x" for any other x is just x.
   * A line break inside is part of the value, as CRLF.
   */
  private quoted(start: Pos): void {
    const t = this.text;
    let out = '';
    let from = this.i + 1; // start of the run of plain characters not yet copied to out
    for (let j = from; ; ) {
      const c = t[j];
      if (c === undefined || (c === '\\' && j + 1 >= t.length)) this.fatal(start, 'unterminated string: this " has no closing "');
      if (c === '"') {
        out += t.slice(from, j);
        this.jump(j + 1);
        break;
      }
      if (c !== '\\' && c !== '\r' && c !== '\n' && c !== '\0') {
        j++;
        continue;
      }
      out += t.slice(from, j);
      j = this.lineBreakOrChar(c === '\\' ? j + 1 : j, (x) => (out += x), 'string');
      from = j;
    }
    this.tokens.push({ kind: 'string', value: out, multiline: false, pos: start });
  }

  /** Appends the character at k (a line break as CRLF; NUL and a bare CR are errors) and returns the next index. */
  private lineBreakOrChar(k: number, emit: (s: string) => void, what: string): number {
    const t = this.text;
    const c = t[k]!;
    if (c === '\n') {
      emit('\r\n');
      return k + 1;
    }
    if (c === '\r') {
      if (t[k + 1] === '\n') {
        emit('\r\n');
        return k + 2;
      }
      this.errorAt(k, `a carriage return (CR) in a ${what} must be followed by a line feed (LF)`);
      return k + 1;
    }
    if (c === '\0') {
      this.errorAt(k, `a NUL character is not allowed in a ${what}; write \${hex:00} with require "encoded-character"`);
      return k + 1;
    }
    const cp = t.codePointAt(k)!;
    emit(String.fromCodePoint(cp));
    return k + (cp > 0xffff ? 2 : 1);
  }

  /** Reports an error at index k, ahead of the scan position, without moving. */
  private errorAt(k: number, message: string): void {
    const [i, line, col] = [this.i, this.line, this.col];
    this.jump(k);
    this.error(this.pos(), message);
    [this.i, this.line, this.col] = [i, line, col];
  }

  /**
   * multi-line = "text:" *(SP / HTAB) (hash-comment / CRLF) *(lines) "." CRLF (§8.1).
   * A line ".." stands for "." (dot-stuffing, §2.4.2); ".foo" stays ".foo". The line
   * breaks before the final "." belong to the value.
   */
  private multiline(start: Pos): void {
    const t = this.text;
    let j = this.i;
    while (t[j] === ' ' || t[j] === '\t') j++;
    if (t[j] === '#') {
      const nl = t.indexOf('\n', j);
      j = nl < 0 ? t.length : nl;
    }
    if (t[j] === '\r' && t[j + 1] === '\n') j += 2;
    else if (t[j] === '\n') j += 1;
    else if (j >= t.length) this.fatal(start, "unterminated text: string: the script ends before the line with a single '.'");
    else {
      this.jump(j);
      this.fatal(this.pos(), `unexpected ${showChar(String.fromCodePoint(t.codePointAt(j)!))} after text: (only spaces, tabs and a # comment may follow it on its line)`);
    }
    this.jump(j);
    let out = '';
    for (;;) {
      const nl = t.indexOf('\n', this.i);
      if (nl < 0) {
        const rest = t.slice(this.i);
        if (rest === '.' || rest === '.\r') this.fatal(this.pos(), "the '.' that ends a text: string must be followed by a line break");
        this.fatal(start, "unterminated text: string: the script ends before the line with a single '.'");
      }
      const lineEnd = t[nl - 1] === '\r' && nl - 1 >= this.i ? nl - 1 : nl;
      const line = t.slice(this.i, lineEnd);
      if (line === '.') {
        this.jump(nl + 1);
        break;
      }
      const body = line.startsWith('..') ? line.slice(1) : line;
      const skip = line.length - body.length;
      if (/[\r\0]/.test(body)) {
        // rare: copy character by character so errors get their exact column
        for (let k = this.i + skip; k < lineEnd; ) k = this.lineBreakOrChar(k, (s) => (out += s), 'text: string');
        out += '\r\n';
      } else {
        out += `${body}\r\n`;
      }
      this.jump(nl + 1);
    }
    this.tokens.push({ kind: 'string', value: out, multiline: true, pos: start });
  }
}

/** Thrown after a fatal error: the rest of the text cannot be tokenized reliably. */
class Fatal extends Error {}

function isGarbage(t: string, j: number): boolean {
  const c = t[j]!;
  return !(' \t\n\r#":'.includes(c) || (c === '/' && t[j + 1] === '*') || isDigit(c) || isIdentStart(c) || PUNCT.has(c));
}
