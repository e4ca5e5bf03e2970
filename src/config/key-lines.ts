/**
 * Finds the line a TOML key is written on, so config errors can say
 * "mda.toml:3". smol-toml returns plain objects without positions, so this
 * scans the text itself: headers, key paths, and just enough of values
 * (strings, arrays, inline tables, comments) to skip them. It never parses
 * values and never throws; on text it cannot follow it falls back gracefully.
 * Pure: no I/O.
 */

/**
 * keyLine returns the 1-based line where `dottedKey` (written in TOML key
 * syntax, e.g. `delivery.deadline` or `users."a b".maildir`) is defined.
 * `scanner[1].timeout` is the key in the 2nd `[[scanner]]` table (0-based, as
 * tomlKey writes it); without an index, the first table that has the key.
 * Keys inside inline tables, and keys that are not in the text at all, map to
 * the line of their nearest enclosing key or [table] header; failing that, 1.
 */
export function keyLine(text: string, dottedKey: string): number {
  const path = new Scanner(dottedKey).keyPath(true);
  if (!path) return 1;
  const lines = keyLines(text);
  for (let n = path.length; n > 0; n--) {
    const line = lines.get(pathId(path.slice(0, n)));
    if (line !== undefined) return line;
  }
  return 1;
}

/**
 * tomlKey writes a path as a TOML dotted key, quoting segments that need it;
 * a number is an index into an array of tables, written `scanner[1]`.
 */
export function tomlKey(path: readonly (string | number)[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += (out === '' ? '' : '.') + (/^[A-Za-z0-9_-]+$/.test(p) ? p : JSON.stringify(p));
  }
  return out;
}

type KeyPath = (string | number)[];

// JSON keeps ["a.b"] and ["a", "b"] apart, which joining with dots would not,
// and ["s", 1] (an array element) apart from ["s", "1"] (a key named 1).
const pathId = (path: readonly (string | number)[]): string => JSON.stringify(path);

/** keyLines maps every key path and table header in the text to its first line. */
function keyLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  // Implicit parents ([users.alice] defines users) get the line they first appear on.
  const record = (path: KeyPath, line: number): void => {
    for (let n = 1; n <= path.length; n++) {
      const id = pathId(path.slice(0, n));
      if (!lines.has(id)) lines.set(id, line);
    }
    // Without its indexes the key names the first table that has it ("servers.name").
    const bare = path.filter((p) => typeof p === 'string');
    if (bare.length < path.length) record(bare, line);
  };
  // The index of the current element of every array of tables seen so far.
  const arrays = new Map<string, number>();
  // resolve adds the current element's index after each segment that names an array of tables.
  const resolve = (path: string[]): KeyPath => {
    const out: KeyPath = [];
    for (const p of path) {
      out.push(p);
      const index = arrays.get(pathId(out));
      if (index !== undefined) out.push(index);
    }
    return out;
  };
  const sc = new Scanner(text);
  let table: KeyPath = [];
  while (sc.skipBlank()) {
    const start = sc.pos;
    const line = sc.line;
    if (sc.peek() === '[') {
      const double = sc.peek(1) === '[';
      sc.pos += double ? 2 : 1;
      const path = sc.keyPath();
      if (path && sc.eat(double ? ']]' : ']')) {
        if (double) {
          // [[a.b]]: a new element of the array a.b (within a's current element, if a is one too).
          const array = [...resolve(path.slice(0, -1)), path[path.length - 1]!];
          const index = (arrays.get(pathId(array)) ?? -1) + 1;
          arrays.set(pathId(array), index);
          table = [...array, index];
        } else table = resolve(path);
        record(table, line);
      }
      sc.skipLine();
    } else {
      const path = sc.keyPath();
      if (path && sc.eat('=')) {
        record([...table, ...path], line);
        sc.skipValue();
      }
      sc.skipLine();
    }
    if (sc.pos === start) sc.pos++; // cannot happen, but never loop forever
  }
  return lines;
}

const BARE_KEY = /[A-Za-z0-9_-]+/y;
const ESCAPES: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', e: '\x1b', '"': '"', '\\': '\\' };

/** A cursor over TOML text that knows strings, comments and brackets. */
class Scanner {
  pos = 0;
  line = 1;
  constructor(private readonly s: string) {}

  peek(ahead = 0): string {
    return this.s[this.pos + ahead] ?? '';
  }

  /** next consumes one character, counting lines. */
  private next(): string {
    const c = this.s[this.pos++] ?? '';
    if (c === '\n') this.line++;
    return c;
  }

  private skipSpaces(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }

  /** eat consumes `token` (after spaces) if it is next. */
  eat(token: string): boolean {
    this.skipSpaces();
    if (!this.s.startsWith(token, this.pos)) return false;
    this.pos += token.length;
    return true;
  }

  /** skipBlank skips whitespace, newlines and comments; false at end of text. */
  skipBlank(): boolean {
    for (;;) {
      const c = this.peek();
      if (c === '') return false;
      if (c === '#') this.skipLine();
      else if (c === ' ' || c === '\t' || c === '\r' || c === '\n') this.next();
      else return true;
    }
  }

  /** skipLine moves past the end of the current line (comment included). */
  skipLine(): void {
    while (this.pos < this.s.length && this.next() !== '\n');
  }

  /**
   * keyPath reads `a.b."c d".'e'`, or returns undefined if no key is there.
   * With `indexes` (a key from tomlKey, not TOML text) `a[1].b` reads as ['a', 1, 'b'].
   */
  keyPath(indexes: true): KeyPath | undefined;
  keyPath(): string[] | undefined;
  keyPath(indexes = false): KeyPath | undefined {
    const path: KeyPath = [];
    for (;;) {
      this.skipSpaces();
      const part = this.keyPart();
      if (part === undefined) return undefined;
      path.push(part);
      while (indexes && this.peek() === '[') {
        const m = /\[(\d+)\]/y;
        m.lastIndex = this.pos;
        const index = m.exec(this.s);
        if (!index) return undefined;
        path.push(Number(index[1]));
        this.pos += index[0].length;
      }
      this.skipSpaces();
      if (this.peek() !== '.') return path;
      this.pos++;
    }
  }

  private keyPart(): string | undefined {
    const c = this.peek();
    if (c === '"') return this.basicString();
    if (c === "'") {
      const end = this.s.indexOf("'", this.pos + 1);
      const nl = this.s.indexOf('\n', this.pos + 1);
      if (end < 0 || (nl >= 0 && nl < end)) return undefined;
      const part = this.s.slice(this.pos + 1, end);
      this.pos = end + 1;
      return part;
    }
    BARE_KEY.lastIndex = this.pos;
    const m = BARE_KEY.exec(this.s);
    if (!m) return undefined;
    this.pos += m[0].length;
    return m[0];
  }

  /** basicString reads a one-line "..." string, decoding the escapes keys may use. */
  private basicString(): string | undefined {
    let out = '';
    this.pos++;
    for (;;) {
      const c = this.peek();
      if (c === '' || c === '\n') return undefined;
      this.pos++;
      if (c === '"') return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.peek();
      this.pos++;
      const hexLen = e === 'u' ? 4 : e === 'U' ? 8 : e === 'x' ? 2 : 0;
      if (ESCAPES[e] !== undefined) out += ESCAPES[e];
      else if (hexLen > 0) {
        const hex = this.s.slice(this.pos, this.pos + hexLen);
        const cp = /^[0-9A-Fa-f]+$/.test(hex) ? parseInt(hex, 16) : NaN;
        if (hex.length !== hexLen || !(cp <= 0x10ffff)) return undefined;
        out += String.fromCodePoint(cp);
        this.pos += hexLen;
      } else return undefined;
    }
  }

  /**
   * skipValue moves past a value, up to (not including) the newline that ends
   * it: multi-line strings and arrays may span lines, and their contents must
   * not be mistaken for keys.
   */
  skipValue(): void {
    let depth = 0;
    for (;;) {
      const c = this.peek();
      if (c === '') return;
      if (depth === 0 && (c === '\n' || c === '#')) return;
      if (c === '#') this.skipLine();
      else if (c === '"' || c === "'") this.skipString(c);
      else {
        if (c === '[' || c === '{') depth++;
        else if ((c === ']' || c === '}') && depth > 0) depth--;
        this.next();
      }
    }
  }

  /** skipString skips '...', "...", '''...''' or """...""" (escapes only in "). */
  private skipString(q: string): void {
    const multi = this.s.startsWith(q.repeat(3), this.pos);
    this.pos += multi ? 3 : 1;
    for (;;) {
      const c = this.peek();
      if (c === '' || (c === '\n' && !multi)) return; // unterminated: stop at the line end
      if (c === '\\' && q === '"') {
        this.next();
        this.next();
      } else if (c === q && (!multi || this.s.startsWith(q.repeat(3), this.pos))) {
        this.pos += multi ? 3 : 1;
        // A multi-line string may end with up to two extra quotes: """a""""".
        for (let i = 0; multi && i < 2 && this.peek() === q; i++) this.pos++;
        return;
      } else this.next();
    }
  }
}
