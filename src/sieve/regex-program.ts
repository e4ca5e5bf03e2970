/**
 * Compiles a parsed POSIX ERE (regex-parse.ts) into a Thompson NFA program
 * for regex.ts's automata, forward or reversed (the reversed program, read
 * right to left, finds where matches start), and defines what the assertions
 * mean. Owns the program size limit; runs nothing. Pure: no I/O.
 */
import { toMatcher, type Assertion, type CharSet, type Matcher, type Node } from './regex-parse.js';

export const CHAR = 0; // consume one code point in sets[x]
export const SPLIT = 1; // go on at x, and (lower priority) at y
export const JMP = 2;
export const SAVE = 3; // capture slot x := position
export const ASSERT = 4; // continue only if assertion ASSERTIONS[x] holds here
export const MATCH = 5;

const ASSERTIONS: readonly Assertion[] = ['bol', 'eol', 'boundary', 'nonboundary', 'wordstart', 'wordend'];

/** Largest program, in instructions ("(a{255}){255}" would be 65025). */
export const MAX_PROGRAM_SIZE = 20_000;

export interface Program {
  op: Uint8Array;
  x: Int32Array;
  y: Int32Array;
  sets: Matcher[];
}

/** What assertions see of a character: 0 none (beyond the text), 1 word character, 2 any other. */
export type CharClass = 0 | 1 | 2;

/** Word characters for \b, \< and \> are glibc's in the C locale: ASCII letters, digits and '_'. */
export const classOf = (c: number): CharClass =>
  c < 0 ? 0 : (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 ? 1 : 2;

/** Whether assertion number a holds between a character of class prev and one of class cur. */
export function holds(a: number, prev: CharClass, cur: CharClass): boolean {
  switch (ASSERTIONS[a]) {
    case 'bol':
      return prev === 0;
    case 'eol':
      return cur === 0;
    case 'boundary':
      return (prev === 1) !== (cur === 1);
    case 'nonboundary':
      return (prev === 1) === (cur === 1);
    case 'wordstart':
      return prev !== 1 && cur === 1;
    case 'wordend':
      return prev === 1 && cur !== 1;
    default:
      return false;
  }
}

/**
 * The same language read backwards: concatenations reversed, assertions
 * mirrored (what is before a position becomes what is after it), groups no
 * longer capturing (the reversed program only locates matches).
 */
function reverse(node: Node): Node {
  switch (node.t) {
    case 'cat':
      return { t: 'cat', items: node.items.map(reverse).reverse() };
    case 'alt':
      return { t: 'alt', alts: node.alts.map(reverse) };
    case 'rep':
      return { ...node, node: reverse(node.node) };
    case 'group':
      return { t: 'group', cap: 0, node: reverse(node.node) };
    case 'assert': {
      const mirror: Record<Assertion, Assertion> = {
        bol: 'eol',
        eol: 'bol',
        wordstart: 'wordend',
        wordend: 'wordstart',
        boundary: 'boundary',
        nonboundary: 'nonboundary',
      };
      return { t: 'assert', a: mirror[node.a] };
    }
    default:
      return node;
  }
}

const cat = (items: Node[]): Node => (items.length === 0 ? { t: 'empty' } : items.length === 1 ? (items[0] as Node) : { t: 'cat', items });
const keys = new WeakMap<object, string>();
/** Identifies a character set, for merging alternatives that start with the same one. */
function setKey(n: Node | undefined): string | undefined {
  if (n?.t !== 'char') return undefined;
  let key = keys.get(n.set);
  if (key === undefined) keys.set(n.set, (key = `${n.set.neg}:${n.set.ranges.join(',')}`));
  return key;
}

/**
 * For the DFAs, which only locate matches (priority and groups mean nothing
 * there): groups dropped, and alternatives that start with the same character
 * set merged, in any order ("abc|x|abd" → "ab(c|d)|x"), so a list of words
 * costs what a trie does instead of one thread per word at every position.
 */
function factor(node: Node): Node {
  switch (node.t) {
    case 'cat':
      return cat(node.items.map(factor).flatMap((n) => (n.t === 'cat' ? n.items : [n])));
    case 'rep':
      return { ...node, node: factor(node.node) };
    case 'group':
      return factor(node.node);
    case 'alt':
      return merge(node.alts.map(factor).flatMap((n) => (n.t === 'alt' ? n.alts : [n])));
    default:
      return node;
  }
}

/**
 * Merges already factored alternatives by their first character set. A run
 * of characters all of them share is taken whole, so recursion deepens only
 * where words branch (at most about √(2 × MAX_PATTERN_LENGTH) times).
 */
function merge(alternatives: Node[]): Node {
  const byFirst = new Map<string, Node[][]>();
  const others: Node[] = [];
  for (const alt of alternatives) {
    const items = alt.t === 'cat' ? alt.items : [alt];
    const key = setKey(items[0]);
    if (key === undefined) others.push(alt);
    else if (byFirst.has(key)) byFirst.get(key)?.push(items);
    else byFirst.set(key, [items]);
  }
  const merged = [...byFirst.values()].map((lists): Node => {
    const [head] = lists as [Node[]];
    if (lists.length === 1) return cat(head);
    let n = 1;
    while (head[n] && lists.every((l) => setKey(l[n]) !== undefined && setKey(l[n]) === setKey(head[n]))) n++;
    return cat([...head.slice(0, n), merge(lists.map((l) => cat(l.slice(n))))]);
  });
  const alts = [...merged, ...others];
  return alts.length === 1 ? (alts[0] as Node) : { t: 'alt', alts };
}

class TooLarge extends Error {}

/** Emits instructions; stops with TooLarge at MAX_PROGRAM_SIZE, so nested repeats cost bounded work. */
class Emitter {
  readonly op: number[] = [];
  readonly x: number[] = [];
  readonly y: number[] = [];
  readonly sets: Matcher[] = [];
  private readonly setIndex = new Map<string, number>();

  /** Equal character sets share one matcher (a pattern of 8000 letters has at most a few dozen distinct ones). */
  constructor(private readonly matchers: Map<string, Matcher>) {}

  get pc(): number {
    return this.op.length;
  }

  push(op: number, x = 0, y = 0): number {
    if (this.op.length >= MAX_PROGRAM_SIZE) throw new TooLarge();
    this.op.push(op);
    this.x.push(x);
    this.y.push(y);
    return this.op.length - 1;
  }

  emit(node: Node): void {
    switch (node.t) {
      case 'empty':
        return;
      case 'char':
        this.push(CHAR, this.matcherIndex(node.set));
        return;
      case 'assert':
        this.push(ASSERT, ASSERTIONS.indexOf(node.a));
        return;
      case 'cat':
        for (const item of node.items) this.emit(item);
        return;
      case 'alt': {
        // A SPLIT before each alternative but the last (earlier ones first); each jumps to the end.
        const jumps: number[] = [];
        for (const [i, alt] of node.alts.entries()) {
          if (i === node.alts.length - 1) {
            this.emit(alt);
            break;
          }
          const split = this.push(SPLIT, this.pc + 1);
          this.emit(alt);
          jumps.push(this.push(JMP));
          this.y[split] = this.pc;
        }
        for (const j of jumps) this.x[j] = this.pc;
        return;
      }
      case 'group':
        if (node.cap > 0) this.push(SAVE, 2 * node.cap);
        this.emit(node.node);
        if (node.cap > 0) this.push(SAVE, 2 * node.cap + 1);
        return;
      case 'rep':
        return this.repeat(node.node, node.min, node.max);
    }
  }

  private matcherIndex(set: CharSet): number {
    const key = `${set.neg}:${set.ranges.join(',')}`;
    let i = this.setIndex.get(key);
    if (i === undefined) {
      let m = this.matchers.get(key);
      if (!m) this.matchers.set(key, (m = toMatcher(set)));
      this.setIndex.set(key, (i = this.sets.push(m) - 1));
    }
    return i;
  }

  /** e{min,max}: min copies, then a greedy loop, or (max - min) optional copies that all exit to one place. */
  private repeat(e: Node, min: number, max: number): void {
    for (let i = 1; i < min; i++) this.emit(e);
    if (max === -1 && min > 0) {
      const loop = this.pc; // e+ : e; SPLIT(back, out)
      this.emit(e);
      this.push(SPLIT, loop, this.pc + 1);
      return;
    }
    if (min > 0) this.emit(e);
    if (max === -1) {
      const split = this.push(SPLIT, this.pc + 1); // e* : SPLIT(e, out); e; JMP back
      this.emit(e);
      this.push(JMP, split);
      this.y[split] = this.pc;
      return;
    }
    const splits: number[] = [];
    for (let i = min; i < max; i++) {
      splits.push(this.push(SPLIT, this.pc + 1));
      this.emit(e);
    }
    for (const s of splits) this.y[s] = this.pc;
  }
}

/**
 * The program for `node`, or null when it exceeds MAX_PROGRAM_SIZE. 'capture'
 * keeps groups and priorities (the Pike VM); 'forward' and 'backward' are for
 * the DFAs: factored, and for 'backward' read right to left. Programs of one
 * pattern can share `matchers`.
 */
export function compileProgram(node: Node, use: 'capture' | 'forward' | 'backward', matchers = new Map<string, Matcher>()): Program | null {
  const e = new Emitter(matchers);
  try {
    e.emit(use === 'capture' ? node : factor(use === 'backward' ? reverse(node) : node));
    e.push(MATCH);
  } catch (err) {
    if (err instanceof TooLarge) return null;
    throw err;
  }
  return { op: Uint8Array.from(e.op), x: Int32Array.from(e.x), y: Int32Array.from(e.y), sets: e.sets };
}
