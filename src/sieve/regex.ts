/**
 * :regex (draft-murchison-sieve-regex) in time linear in the text, never
 * backtracking: lazy DFAs (regex-dfa.ts) locate the match, a Pike VM fills the
 * groups over the matched span only. Owns the public API and match semantics
 * (see regexSearch). Pure: no I/O, every step charged to the StepBudget.
 */
import type { StepBudget } from './match-api.js';
import { Dfa, leftmostStart, longestEnd } from './regex-dfa.js';
import { accepts, parseRegex, type Matcher } from './regex-parse.js';
import { ASSERT, classOf, compileProgram, holds, JMP, MATCH, SAVE, SPLIT, type CharClass, type Program } from './regex-program.js';

export interface CompiledRegex {
  readonly pattern: string;
  readonly caseInsensitive: boolean;
  /** Capturing groups: a search returns ${0} and ${1}..${groups}. */
  readonly groups: number;
  /** The program the capture pass runs (groups kept, alternatives in their written order). */
  readonly program: Program;
  /** Lazy DFAs, kept with the regex so that their states serve every value it is tried on. */
  readonly dfa: { forward: Dfa; backward: Dfa };
}

type Compiled = { ok: true; regex: CompiledRegex } | { ok: false; why: string };

/** Compiled keys, so the evaluator reuses what the validator compiled (and warm DFAs); oldest dropped first. */
const cache = new Map<string, Compiled>();
export const REGEX_CACHE_SIZE = 256;
/** DFA states a cached regex keeps between searches (each costs about 1 KiB). */
const RETAINED_STATES = 256;

/** Compiles a :regex key (case-insensitively for i;ascii-casemap); `why` is worded for the script's author. */
export function compileRegex(pattern: string, caseInsensitive: boolean): Compiled {
  const key = `${caseInsensitive ? 'i' : 'o'}${pattern}`;
  let result = cache.get(key);
  if (result === undefined) {
    result = compile(pattern, caseInsensitive);
    if (cache.size >= REGEX_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    cache.set(key, result);
  }
  return result;
}

function compile(pattern: string, caseInsensitive: boolean): Compiled {
  const parsed = parseRegex(pattern, caseInsensitive);
  if (!parsed.ok) return parsed;
  const matchers = new Map<string, Matcher>();
  const [capture, forward, backward] = (['capture', 'forward', 'backward'] as const).map((use) => compileProgram(parsed.re.node, use, matchers));
  if (!capture || !forward || !backward) return { ok: false, why: 'regular expression too large' };
  const dfa = { forward: new Dfa(forward, false), backward: new Dfa(backward, true) };
  return { ok: true, regex: { pattern, caseInsensitive, groups: parsed.re.groups, program: capture, dfa } };
}

const codePointAt = (s: string, i: number): number => (i >= 0 && i < s.length ? (s.codePointAt(i) as number) : -1);
/** Steps reach the budget in batches: a call per character would cost more than the matching. */
const BATCH = 4096;

/**
 * Pass 2, a Pike VM: threads are a pc and their capture slots (copied on
 * write at SAVE); the list keeps one thread per pc, the first to get there
 * (the highest priority), so work per character is bounded by the program
 * size. One thread starts at `from`; the answer is the first thread in
 * priority order to reach MATCH exactly at `to` (pass 1 proved one does).
 */
function captureSlots(re: CompiledRegex, text: string, from: number, to: number, budget: StepBudget): number[] | null {
  const { op, x, y, sets } = re.program;
  const n = op.length;
  let cPc = new Int32Array(n);
  let nPc = new Int32Array(n);
  let cCaps: number[][] = [];
  let nCaps: number[][] = [];
  const mark = new Int32Array(n).fill(-1);
  const sPc = new Int32Array(2 * n + 2);
  const sCaps: number[][] = [];
  let stamp = 0;
  let steps = 0;
  // Adds the threads reachable from (pc0, caps0) without consuming to list (lPc, lCaps) of length len.
  const close = (pc0: number, caps0: number[], lPc: Int32Array, lCaps: number[][], len: number, prev: CharClass, cur: CharClass, at: number): number => {
    sPc[0] = pc0;
    sCaps[0] = caps0;
    let sp = 1;
    while (sp > 0) {
      const pc = sPc[--sp] as number;
      let caps = sCaps[sp] as number[];
      if (mark[pc] === stamp) continue;
      mark[pc] = stamp;
      steps++;
      switch (op[pc]) {
        case JMP:
          sPc[sp] = x[pc] as number;
          sCaps[sp++] = caps;
          break;
        case SPLIT: // y pushed first: x, the preferred branch, is explored (and claims pcs) first
          sPc[sp] = y[pc] as number;
          sCaps[sp++] = caps;
          sPc[sp] = x[pc] as number;
          sCaps[sp++] = caps;
          break;
        case ASSERT:
          if (holds(x[pc] as number, prev, cur)) {
            sPc[sp] = pc + 1;
            sCaps[sp++] = caps;
          }
          break;
        case SAVE:
          caps = caps.slice();
          caps[x[pc] as number] = at;
          sPc[sp] = pc + 1;
          sCaps[sp++] = caps;
          break;
        default: // CHAR or MATCH: a thread of the list
          lPc[len] = pc;
          lCaps[len++] = caps;
      }
    }
    return len;
  };
  let p = from;
  let cur = codePointAt(text, p);
  let before = codePointAt(text, p - 1);
  if (before >= 0xdc00 && before <= 0xdfff && p >= 2) before = codePointAt(text, p - 2); // low half of a pair
  let cn = close(0, new Array<number>(2 * re.groups + 2).fill(-1), cPc, cCaps, 0, classOf(before), classOf(cur), p);
  for (;;) {
    const np = p + (cur > 0xffff ? 2 : 1);
    const next = codePointAt(text, np);
    stamp++;
    let nn = 0;
    for (let i = 0; i < cn; i++) {
      const pc = cPc[i] as number;
      steps++;
      if (op[pc] === MATCH) {
        if (p !== to) continue;
        budget.spend(steps);
        return cCaps[i] as number[];
      }
      if (p < to && accepts(sets[x[pc] as number] as Matcher, cur)) {
        nn = close(pc + 1, cCaps[i] as number[], nPc, nCaps, nn, classOf(cur), classOf(next), np);
      }
    }
    if (steps >= BATCH) {
      budget.spend(steps);
      steps = 0;
    }
    if (p >= to || nn === 0) break;
    const tPc = cPc;
    cPc = nPc;
    nPc = tPc;
    const tCaps = cCaps;
    cCaps = nCaps;
    nCaps = tCaps;
    cn = nn;
    p = np;
    cur = next;
  }
  budget.spend(steps);
  return null;
}

/**
 * Searches `text` for `re`: null when it does not match, else ${0} (the whole
 * match) and ${1}..${groups}. With captures: false only ${0} comes back and
 * the capture pass is skipped (the evaluator knows when no variable sees them).
 *
 * Semantics. The overall match is POSIX's: leftmost, then longest. Groups take
 * the highest-priority parse of exactly that span, priority being the usual
 * leftmost-first order (earlier alternative first, quantifiers greedy). That
 * agrees with POSIX's subexpression rule in common patterns; where POSIX prefers
 * another parse of the same span ("(a|ab)(c|bcd)(d*)" on "abcd": POSIX gives
 * ${1}=ab, we give ${1}=a) we differ. A repeated group keeps its last iteration;
 * a group that took no part is ''. Characters are code points, not bytes.
 */
export function regexSearch(re: CompiledRegex, text: string, budget: StepBudget, options: { captures?: boolean } = {}): string[] | null {
  re.dfa.backward.retain(RETAINED_STATES);
  re.dfa.forward.retain(RETAINED_STATES);
  const start = leftmostStart(re.dfa.backward, text, budget);
  if (start < 0) return null;
  const end = longestEnd(re.dfa.forward, text, start, budget);
  if (end < start) throw new Error('regex: the forward scan lost the match the backward scan found');
  const out = [text.slice(start, end)];
  if (options.captures === false || re.groups === 0) return out;
  const slots = captureSlots(re, text, start, end, budget);
  if (slots === null) throw new Error('regex: the capture pass lost the match the scans found');
  for (let g = 1; g <= re.groups; g++) {
    const a = slots[2 * g] as number;
    const b = slots[2 * g + 1] as number;
    out.push(a >= 0 && b >= a ? text.slice(a, b) : '');
  }
  return out;
}
