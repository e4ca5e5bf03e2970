/**
 * A lazily built DFA over a regex program (regex-program.ts) that locates the
 * leftmost-longest match in a few operations per character, whatever the
 * pattern; its state cache is flushed when too big (as RE2's), so memory stays
 * bounded and time linear. Knows nothing of captures. Pure: no I/O.
 */
import type { StepBudget } from './match-api.js';
import { accepts, type Matcher } from './regex-parse.js';
import { ASSERT, CHAR, classOf, holds, JMP, MATCH, SAVE, SPLIT, type CharClass, type Program } from './regex-program.js';

/** Cached states before the cache is flushed; their ASCII transitions share one table (4 MiB). */
export const MAX_DFA_STATES = 8192;

/**
 * A set of NFA threads at one position: `kernel` holds the pcs to expand,
 * `prev` the class of the character before the position (assertions need
 * it). Expansions depend on the class of the next character too, so they
 * are cached per class; transitions are cached per code point.
 */
interface DState {
  kernel: number[];
  prev: CharClass;
  /** By class of the next character: the CHAR pcs of the expansion, and whether MATCH is in it. */
  chars: Array<Int32Array | undefined>;
  match: boolean[];
  /** Transitions on non-ASCII code points (ASCII ones live in Dfa.ascii). */
  wide: Map<number, number> | null;
}

export class Dfa {
  private states: DState[] = [];
  private readonly index = new Map<string, number>();
  /**
   * Next state × 2 + (1 if a match ends before the character) at [state × 128 + code point], -1 unknown.
   * Grows with the states; nothing is allocated before the first search (the validator only compiles).
   */
  private ascii = new Int32Array(0);
  private mark = new Int32Array(0);
  private stack = new Int32Array(0);
  /** Without assertions the previous character never matters: one state per kernel, not three. */
  private readonly usesPrev: boolean;
  private stamp = 0;
  /** How many times the state cache was dropped (for tests and tracing). */
  flushes = 0;

  /** reseed: a new thread starts at every position (an unanchored search). */
  constructor(private readonly prog: Program, private readonly reseed: boolean) {
    this.usesPrev = prog.op.includes(ASSERT);
  }

  /** The state at a position preceded by a character of class prev, with one thread at the program start. */
  start(prev: CharClass, budget: StepBudget): number {
    if (this.mark.length === 0) {
      this.mark = new Int32Array(this.prog.op.length);
      // Pushes per expansion: the kernel (at most one per pc) plus two per SPLIT popped.
      this.stack = new Int32Array(3 * this.prog.op.length + 2);
    }
    return this.state([0], prev, budget);
  }

  /** Drops the cached states if there are more than `max` (between searches: what a cached regex keeps). */
  retain(max: number): void {
    if (this.states.length > max) this.reset();
  }

  private reset(): void {
    this.states = [];
    this.index.clear();
    this.ascii = new Int32Array(0);
  }

  isDead(s: number): boolean {
    return (this.states[s] as DState).kernel.length === 0;
  }

  /** Whether a match ends at this position, given the class of the next character. */
  matchesBefore(s: number, cur: CharClass, budget: StepBudget): boolean {
    const st = this.states[s] as DState;
    this.expand(st, cur, budget);
    return st.match[cur] as boolean;
  }

  /** Consumes code point c: the next state × 2, plus 1 if a match ends before c. */
  next(s: number, c: number, budget: StepBudget): number {
    const cached = c < 128 ? (this.ascii[s * 128 + c] as number) : this.states[s]?.wide?.get(c) ?? -1;
    if (cached >= 0) return cached;
    const st = this.states[s] as DState;
    const cur = classOf(c);
    const chars = this.expand(st, cur, budget);
    const kernel: number[] = this.reseed ? [0] : [];
    const { x, sets } = this.prog;
    for (const pc of chars) if (accepts(sets[x[pc] as number] as Matcher, c)) kernel.push(pc + 1);
    budget.spend(chars.length + 1);
    const flushes = this.flushes;
    const t = this.state(kernel, cur, budget) * 2 + (st.match[cur] ? 1 : 0);
    if (this.flushes !== flushes) return t; // s is gone (its index may be reused): nothing to cache
    if (c < 128) this.ascii[s * 128 + c] = t;
    else (st.wide ??= new Map()).set(c, t);
    return t;
  }

  /** The state for a kernel (distinct pcs, as next() builds them), created if new. */
  private state(kernel: number[], prev: CharClass, budget: StepBudget): number {
    kernel.sort((a, b) => a - b);
    const p = this.usesPrev ? prev : 0;
    const key = `${p}:${kernel.join(',')}`;
    const known = this.index.get(key);
    if (known !== undefined) return known;
    if (this.states.length >= MAX_DFA_STATES) {
      this.reset();
      this.flushes++;
    }
    budget.spend(kernel.length + 1);
    if (this.states.length * 128 >= this.ascii.length) {
      const grown = new Int32Array(Math.min(MAX_DFA_STATES, Math.max(64, 2 * this.states.length)) * 128).fill(-1);
      grown.set(this.ascii);
      this.ascii = grown;
    }
    this.states.push({ kernel, prev: p, chars: [], match: [], wide: null });
    this.index.set(key, this.states.length - 1);
    return this.states.length - 1;
  }

  /** Follows JMP/SPLIT/SAVE/ASSERT from the kernel before a character of class cur. */
  private expand(st: DState, cur: CharClass, budget: StepBudget): Int32Array {
    const done = st.chars[cur];
    if (done) return done;
    const { op, x, y } = this.prog;
    const { mark, stack } = this;
    const stamp = ++this.stamp;
    const chars: number[] = [];
    let match = false;
    let sp = 0;
    for (let i = st.kernel.length - 1; i >= 0; i--) stack[sp++] = st.kernel[i] as number;
    let steps = 0;
    while (sp > 0) {
      const pc = stack[--sp] as number;
      if (mark[pc] === stamp) continue;
      mark[pc] = stamp;
      steps++;
      const o = op[pc];
      if (o === JMP) stack[sp++] = x[pc] as number;
      else if (o === SPLIT) {
        stack[sp++] = y[pc] as number;
        stack[sp++] = x[pc] as number;
      } else if (o === SAVE) stack[sp++] = pc + 1;
      else if (o === ASSERT) {
        if (holds(x[pc] as number, st.prev, cur)) stack[sp++] = pc + 1;
      } else if (o === CHAR) chars.push(pc);
      else if (o === MATCH) match = true;
    }
    budget.spend(steps);
    st.match[cur] = match;
    return (st.chars[cur] = Int32Array.from(chars));
  }
}

/** The code point ending at UTF-16 offset p (a surrogate pair counts as one), with its width; -1 at 0. */
function codePointBefore(text: string, p: number): [number, number] {
  if (p <= 0) return [-1, 1];
  const lo = text.charCodeAt(p - 1);
  if (lo >= 0xdc00 && lo <= 0xdfff && p >= 2) {
    const hi = text.charCodeAt(p - 2);
    if (hi >= 0xd800 && hi <= 0xdbff) return [(hi - 0xd800) * 0x400 + (lo - 0xdc00) + 0x10000, 2];
  }
  return [lo, 1];
}

const codePointAt = (text: string, p: number): number => (p < text.length ? (text.codePointAt(p) as number) : -1);
/** Steps reach the budget in batches: a call per character would cost more than the scan. */
const BATCH = 4096;

/**
 * The smallest offset at which some match starts, or -1: the reversed
 * program read from the end of the text, with a thread started at every
 * position (a match may end anywhere). A full pass, never more.
 */
export function leftmostStart(backward: Dfa, text: string, budget: StepBudget): number {
  let p = text.length;
  let s = backward.start(0, budget);
  let best = -1;
  let steps = 0;
  for (;;) {
    const [c, w] = codePointBefore(text, p);
    if (c < 0) {
      if (backward.matchesBefore(s, 0, budget)) best = p;
      break;
    }
    const t = backward.next(s, c, budget);
    if (t & 1) best = p;
    s = t >> 1;
    p -= w;
    if (++steps === BATCH) {
      budget.spend(steps);
      steps = 0;
    }
  }
  budget.spend(steps);
  return best;
}

/** The end of the longest match starting at `start` (one exists), by the forward program without restarts. */
export function longestEnd(forward: Dfa, text: string, start: number, budget: StepBudget): number {
  let p = start;
  let s = forward.start(classOf(codePointBefore(text, start)[0]), budget);
  let end = -1;
  let steps = 0;
  for (;;) {
    const c = codePointAt(text, p);
    if (c < 0) {
      if (forward.matchesBefore(s, 0, budget)) end = p;
      break;
    }
    const t = forward.next(s, c, budget);
    if (t & 1) end = p;
    s = t >> 1;
    if (forward.isDead(s)) break;
    p += c > 0xffff ? 2 : 1;
    if (++steps === BATCH) {
      budget.spend(steps);
      steps = 0;
    }
  }
  budget.spend(steps);
  return end;
}
