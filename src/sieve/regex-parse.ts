/**
 * Parses a POSIX extended regular expression (IEEE 1003.1 §9.4, as glibc's
 * regcomp(REG_EXTENDED) reads it, which is what Pigeonhole uses for :regex)
 * into a syntax tree for regex.ts, and the character sets its atoms stand for.
 * Owns syntax and its limits; never runs a search. Pure: no I/O.
 */

/** A set of code points: sorted, merged [lo, hi] pairs, possibly negated. */
export interface CharSet {
  neg: boolean;
  ranges: number[];
}

export type Assertion = 'bol' | 'eol' | 'boundary' | 'nonboundary' | 'wordstart' | 'wordend';

export type Node =
  | { t: 'empty' }
  | { t: 'char'; set: CharSet }
  | { t: 'assert'; a: Assertion }
  | { t: 'cat'; items: Node[] }
  | { t: 'alt'; alts: Node[] }
  /** max -1 = unbounded. */
  | { t: 'rep'; node: Node; min: number; max: number }
  /** cap 0: a group past MAX_CAPTURE_GROUPS, which groups but does not capture. */
  | { t: 'group'; cap: number; node: Node };

export interface ParsedRegex {
  node: Node;
  /** Capturing groups: ${1}..${groups}. */
  groups: number;
}

/** Longest pattern accepted, in characters. */
export const MAX_PATTERN_LENGTH = 8192;
/** Largest {m,n} bound (POSIX RE_DUP_MAX). */
export const MAX_REPEAT = 255;
/** Groups that capture: with ${0} this fills Pigeonhole's 32 match values. */
export const MAX_CAPTURE_GROUPS = 31;
/** Deepest group nesting (keeps the recursive parser and compiler off the stack limit). */
export const MAX_NESTING = 200;

const cp = (s: string): number => s.codePointAt(0) ?? 0;
/** "AZaz" → [65, 90, 97, 122]: each pair of characters is one inclusive range. */
const pairs = (s: string): number[] => [...s].map(cp);

// POSIX character classes in the C locale (ASCII only), as glibc has them there.
const CLASSES = new Map<string, number[]>(
  Object.entries({
    alpha: 'AZaz', digit: '09', alnum: '09AZaz', upper: 'AZ', lower: 'az', space: '\t\r  ',
    blank: '\t\t  ', punct: '!/:@[`{~', print: ' ~', graph: '!~', cntrl: '\x00\x1f\x7f\x7f', xdigit: '09AFaf',
  }).map(([name, ends]) => [name, pairs(ends)]),
);
const WORD = pairs('09AZ__az');
const SPACE = pairs('\t\r  ');
// glibc's GNU escapes; any other escaped character stands for itself ("\." is '.', "\n" is 'n').
const ESCAPE_SETS: Record<string, [number[], boolean]> = { w: [WORD, false], W: [WORD, true], s: [SPACE, false], S: [SPACE, true] };
const ESCAPE_ASSERTIONS: Record<string, Assertion> = { b: 'boundary', B: 'nonboundary', '<': 'wordstart', '>': 'wordend', '`': 'bol', "'": 'eol' };
/** More quantifiers in a row than this ("a***...") are refused: nesting them gains nothing and costs stack. */
const MAX_STACKED_QUANTIFIERS = 4;

/** Sorts and merges ranges; with icase, adds the other case of every ASCII letter (REG_ICASE). */
export function normalize(ranges: number[], icase: boolean): number[] {
  const list: Array<[number, number]> = [];
  for (let i = 0; i + 1 < ranges.length; i += 2) list.push([ranges[i] as number, ranges[i + 1] as number]);
  if (icase) {
    for (const [lo, hi] of [...list]) {
      for (const [a, z, shift] of [[65, 90, 32], [97, 122, -32]] as const) {
        const l = Math.max(lo, a);
        const h = Math.min(hi, z);
        if (l <= h) list.push([l + shift, h + shift]);
      }
    }
  }
  list.sort((x, y) => x[0] - y[0]);
  const out: number[] = [];
  for (const [lo, hi] of list) {
    const last = out.length - 1;
    if (last > 0 && lo <= (out[last] as number) + 1) out[last] = Math.max(out[last] as number, hi);
    else out.push(lo, hi);
  }
  return out;
}

class RegexSyntaxError extends Error {}

class Parser {
  private i = 0;
  groups = 0;
  private depth = 0;

  constructor(private readonly s: number[], private readonly icase: boolean) {}

  private fail(why: string): never {
    throw new RegexSyntaxError(why);
  }

  private peek(k = 0): number | undefined {
    return this.s[this.i + k];
  }

  private set(ranges: number[], neg = false): Node {
    return { t: 'char', set: { neg, ranges: normalize(ranges, this.icase) } };
  }

  parse(): Node {
    const node = this.alternation();
    if (this.i < this.s.length) this.fail("unmatched ')'"); // only a ')' stops the top level early
    return node;
  }

  private alternation(): Node {
    const alts = [this.concatenation()];
    while (this.peek() === 0x7c /* | */) {
      this.i++;
      alts.push(this.concatenation());
    }
    return alts.length === 1 ? (alts[0] as Node) : { t: 'alt', alts };
  }

  private concatenation(): Node {
    const items: Node[] = [];
    for (let c = this.peek(); c !== undefined && c !== 0x7c && c !== 0x29; c = this.peek()) {
      let atom = this.atom();
      for (let q = this.quantifier(), k = 1; q; q = this.quantifier(), k++) {
        // glibc: a repetition operator needs something to repeat ("(+a", "a|*b", "^*").
        if (atom.t === 'assert') this.fail('repetition operator without an operand');
        if (k > MAX_STACKED_QUANTIFIERS) this.fail('too many repetition operators in a row');
        atom = { t: 'rep', node: atom, min: q[0], max: q[1] };
      }
      items.push(atom);
    }
    return items.length === 0 ? { t: 'empty' } : items.length === 1 ? (items[0] as Node) : { t: 'cat', items };
  }

  private quantifier(): [number, number] | null {
    const c = this.peek();
    const simple: [number, number] | null = c === 0x2a /* * */ ? [0, -1] : c === 0x2b /* + */ ? [1, -1] : c === 0x3f /* ? */ ? [0, 1] : null;
    if (simple) {
      this.i++;
      return simple;
    }
    if (c !== 0x7b /* { */) return null;
    // "{m}", "{m,}", "{m,n}" and glibc's "{,n}"; a "{" that starts none of them is a literal.
    const m = /^\{([0-9]*)(,([0-9]*))?\}/.exec(String.fromCodePoint(...this.s.slice(this.i, this.i + 16)));
    if (!m || (m[1] === '' && m[2] === undefined)) return null;
    const min = m[1] === '' ? 0 : Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === '' ? -1 : Number(m[3]);
    if (min > MAX_REPEAT || max > MAX_REPEAT) this.fail(`repetition count above ${MAX_REPEAT}`);
    if (max !== -1 && max < min) this.fail('invalid repetition bounds {m,n} with n < m');
    this.i += m[0].length;
    return [min, max];
  }

  private atom(): Node {
    const c = this.s[this.i++] as number;
    switch (c) {
      case 0x28 /* ( */: {
        if (++this.depth > MAX_NESTING) this.fail('groups nested too deeply');
        const cap = this.groups < MAX_CAPTURE_GROUPS ? ++this.groups : 0;
        const node = this.alternation();
        if (this.peek() !== 0x29) this.fail("unmatched '('");
        this.i++;
        this.depth--;
        return { t: 'group', cap, node };
      }
      case 0x2a: // * + ? first in an expression or after ( or |
      case 0x2b:
      case 0x3f:
        return this.fail('repetition operator without an operand');
      case 0x5b /* [ */:
        return this.bracket();
      case 0x2e /* . */:
        return { t: 'char', set: { neg: true, ranges: [] } };
      case 0x5e /* ^ */:
        return { t: 'assert', a: 'bol' };
      case 0x24 /* $ */:
        return { t: 'assert', a: 'eol' };
      case 0x5c /* \ */:
        return this.escape();
      default:
        return this.set([c, c]);
    }
  }

  private escape(): Node {
    const c = this.s[this.i++];
    if (c === undefined) return this.fail('trailing backslash');
    const ch = String.fromCodePoint(c);
    // Back-references (glibc has them in ERE) need backtracking: refused, to stay linear-time.
    if (ch >= '1' && ch <= '9') return this.fail('back-references are not supported');
    const assertion = ESCAPE_ASSERTIONS[ch];
    if (assertion) return { t: 'assert', a: assertion };
    const set = ESCAPE_SETS[ch];
    return set ? this.set(...set) : this.set([c, c]);
  }

  /** A bracket expression; `\` is an ordinary character inside one (POSIX). */
  private bracket(): Node {
    const neg = this.peek() === 0x5e;
    if (neg) this.i++;
    const ranges: number[] = [];
    for (let first = true; ; first = false) {
      const c = this.peek();
      if (c === undefined) return this.fail("unmatched '['");
      if (c === 0x5d /* ] */ && !first) break;
      const lo = this.bracketElement(ranges);
      if (lo === null) continue; // a [:class:] went straight into ranges
      if (this.peek() === 0x2d /* - */ && this.peek(1) !== 0x5d && this.peek(1) !== undefined) {
        this.i++;
        const hi = this.bracketElement(null);
        if (hi === null || hi < lo) this.fail('invalid range end');
        ranges.push(lo, hi);
      } else {
        ranges.push(lo, lo);
      }
    }
    this.i++;
    return this.set(ranges, neg);
  }

  /** One bracket item: a character, [.c.], [=c=], or [:class:] (added to `into`; null returned). */
  private bracketElement(into: number[] | null): number | null {
    const c = this.s[this.i++] as number;
    const kind = this.peek();
    if (c !== 0x5b || (kind !== 0x3a && kind !== 0x3d && kind !== 0x2e)) return c;
    const close = String.fromCodePoint(kind) + ']';
    const rest = String.fromCodePoint(...this.s.slice(this.i + 1, this.i + 40));
    const end = rest.indexOf(close);
    if (end < 0) this.fail("unmatched '['");
    const name = rest.slice(0, end);
    this.i += 1 + [...name].length + 2;
    if (kind === 0x3a /* : */) {
      const cls = CLASSES.get(name);
      if (!cls) this.fail(`invalid character class [:${name}:]`);
      if (into === null) this.fail('invalid range end');
      into.push(...cls);
      return null;
    }
    // [.c.] and [=c=]: the C locale only has single-character collating elements.
    const k = String.fromCodePoint(kind);
    if ([...name].length !== 1) this.fail(`invalid collating element [${k}${name}${k}]`);
    return cp(name);
  }
}

/** A character set ready to test: a table for ASCII, the sorted ranges beyond it. */
export interface Matcher {
  ascii: Uint8Array;
  ranges: number[];
  neg: boolean;
}

function inRanges(ranges: number[], c: number): boolean {
  let lo = 0;
  let hi = ranges.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (c < (ranges[2 * mid] as number)) hi = mid - 1;
    else if (c > (ranges[2 * mid + 1] as number)) lo = mid + 1;
    else return true;
  }
  return false;
}

export function toMatcher({ ranges, neg }: CharSet): Matcher {
  const ascii = new Uint8Array(128);
  for (let c = 0; c < 128; c++) ascii[c] = inRanges(ranges, c) !== neg ? 1 : 0;
  return { ascii, ranges, neg };
}

export const accepts = (m: Matcher, c: number): boolean => (c < 128 ? m.ascii[c] === 1 : inRanges(m.ranges, c) !== m.neg);

export function parseRegex(pattern: string, icase: boolean): { ok: true; re: ParsedRegex } | { ok: false; why: string } {
  const s = [...pattern].map(cp);
  if (s.length > MAX_PATTERN_LENGTH) return { ok: false, why: `regular expression longer than ${MAX_PATTERN_LENGTH} characters` };
  const p = new Parser(s, icase);
  try {
    const node = p.parse();
    return { ok: true, re: { node, groups: p.groups } };
  } catch (e) {
    if (e instanceof RegexSyntaxError) return { ok: false, why: e.message };
    throw e;
  }
}
