/**
 * The matching engine behind every Sieve test: :is/:contains/:matches (RFC 5228
 * §2.7.1), :regex, :value/:count (RFC 5231) and the match variables of RFC 5229
 * §3.2. Knows nothing of headers or addresses: the evaluator hands it strings.
 * Pure: no I/O; every loop is charged to the StepBudget.
 */
import { comparatorSupports, foldFor, relationHolds } from './comparators.js';
import { SieveRuntimeError } from './errors.js';
import type { Comparator, MatchResult, MatchSpec, StepBudget } from './match-api.js';
import { compileRegex, regexSearch, type CompiledRegex } from './regex.js';
import { MAX_MATCH_VALUES, truncateUtf8 } from './variables.js';

/** A StepBudget that throws SieveRuntimeError once more than maxSteps were spent. */
export class CountingBudget implements StepBudget {
  private spent = 0;

  constructor(readonly maxSteps: number) {}

  spend(steps: number): void {
    this.spent += steps;
    if (this.spent > this.maxSteps) {
      throw new SieveRuntimeError(`script too expensive: more than ${this.maxSteps} matching steps`);
    }
  }

  /** Steps spent so far (tests use it to check that work grows linearly). */
  get used(): number {
    return this.spent;
  }
}

export interface MatchOptions {
  /** Compute match variables for :matches / :regex (default true); false skips the capture pass of :regex. */
  captures?: boolean;
}

/**
 * Tests every value against every key; true as soon as one pair matches
 * (RFC 5228 §2.7.1 "any"). Values are the outer loop, as in Pigeonhole, so
 * the captures are those of the first value that matched, with the first key
 * it matched. :count compares the number of values (RFC 5231 §4.2): the
 * `string` test must drop empty strings before calling (RFC 5229 §5), the
 * header/address tests pass every value they found.
 */
export function matchValues(
  values: readonly string[],
  keys: readonly string[],
  spec: MatchSpec,
  budget: StepBudget,
  options: MatchOptions = {},
): MatchResult {
  const { type, comparator } = spec;
  if (!comparatorSupports(comparator, type)) {
    throw new SieveRuntimeError(`comparator ${comparator} does not support :${type}`);
  }
  if (type === 'count') {
    const relation = spec.relation ?? 'eq';
    const count = String(values.length);
    budget.spend(keys.length + 1);
    return { matched: keys.some((k) => relationHolds(relation, comparator, count, k)) };
  }
  const wantCaptures = options.captures ?? true;
  const match = matcherFor(spec, keys, wantCaptures);
  for (const value of values) {
    for (let k = 0; k < keys.length; k++) {
      const r = match(value, k, budget);
      if (r === false) continue;
      return r === true ? { matched: true } : { matched: true, captures: r.map((c) => truncateUtf8(c)) };
    }
  }
  return { matched: false };
}

/** Matches one value against key number k: false, true, or true with captures. */
type KeyMatcher = (value: string, k: number, budget: StepBudget) => boolean | string[];

function matcherFor(spec: MatchSpec, keys: readonly string[], wantCaptures: boolean): KeyMatcher {
  const { comparator } = spec;
  switch (spec.type) {
    case 'is':
      return isMatcher(comparator, keys);
    case 'contains': {
      const folded = keys.map((k) => foldFor(comparator, k));
      return (value, k, budget) => {
        budget.spend(value.length + 1);
        return foldFor(comparator, value).includes(folded[k] ?? '');
      };
    }
    case 'matches': {
      const globs = keys.map((k) => parseGlob(foldFor(comparator, k)));
      return (value, k, budget) => {
        const glob = globs[k];
        if (glob === undefined) return false;
        const caps = globMatch(glob, foldFor(comparator, value), value, budget);
        if (caps === null) return false;
        return wantCaptures ? [value, ...caps].slice(0, MAX_MATCH_VALUES) : true;
      };
    }
    case 'regex':
      return regexMatcher(comparator, keys, wantCaptures);
    case 'value': {
      const relation = spec.relation ?? 'eq';
      return (value, k, budget) => {
        budget.spend(value.length + 1);
        return relationHolds(relation, comparator, value, keys[k] ?? '');
      };
    }
    case 'count':
      throw new Error('unreachable: :count is handled by matchValues');
  }
}

function isMatcher(comparator: Comparator, keys: readonly string[]): KeyMatcher {
  // i;ascii-numeric equality is numeric (RFC 4790 §9.1: "007" is "7", and two non-numbers are equal).
  if (comparator === 'i;ascii-numeric') {
    return (value, k, budget) => {
      budget.spend(value.length + 1);
      return relationHolds('eq', comparator, value, keys[k] ?? '');
    };
  }
  const folded = keys.map((k) => foldFor(comparator, k));
  return (value, k, budget) => {
    budget.spend(value.length + 1);
    return foldFor(comparator, value) === folded[k];
  };
}

function regexMatcher(comparator: Comparator, keys: readonly string[], wantCaptures: boolean): KeyMatcher {
  // compileRegex caches, so literal keys come compiled from validation. A key that does not
  // compile (only one built from variables can: the validator checks literal ones) never
  // matches, as in Pigeonhole.
  const icase = comparator === 'i;ascii-casemap';
  const compiled: Array<CompiledRegex | null> = keys.map((k) => {
    const r = compileRegex(k, icase);
    return r.ok ? r.regex : null;
  });
  return (value, k, budget) => {
    const re = compiled[k];
    if (!re) return false;
    const caps = regexSearch(re, value, budget, { captures: wantCaptures });
    if (caps === null) return false;
    return wantCaptures ? caps.slice(0, MAX_MATCH_VALUES) : true;
  };
}

/** One element of a :matches pattern: a literal character, `?` (one character) or `*` (any run). */
type GlobToken = string | 1 | 2;
const ONE = 1;
const ANY = 2;

/**
 * RFC 5228 §2.7.1: `*` matches any run, `?` exactly one character, `\`
 * makes the next character literal. A lone trailing `\` is taken as a
 * literal backslash (the RFC does not say; it is the forgiving reading).
 * The pattern is already folded by the comparator, so comparison is `===`.
 * Characters are code points, so `?` never splits a non-ASCII character.
 */
export function parseGlob(pattern: string): GlobToken[] {
  const out: GlobToken[] = [];
  const cps = [...pattern];
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i] as string;
    if (c === '*') out.push(ANY);
    else if (c === '?') out.push(ONE);
    else if (c === '\\' && i + 1 < cps.length) out.push(cps[++i] as string);
    else out.push(c);
  }
  return out;
}

/**
 * Glob match with a greedy two-pointer scan that backtracks only to the last
 * `*`: when a later `*` is reached, no earlier `*` ever needs to grow (the
 * later one can absorb the text), so the worst case is O(text × pattern),
 * never exponential. Every `*` takes the shortest run that lets the rest
 * match, which is exactly RFC 5229 §3.2's non-greedy rule ("?*frop*" on
 * "frop.......frop...": ${2} is "rop......."). Returns one capture per
 * wildcard (from `original`, the unfolded text), or null for no match.
 */
export function globMatch(tokens: readonly GlobToken[], folded: string, original: string, budget: StepBudget): string[] | null {
  const text = [...folded];
  const orig = folded === original ? text : [...original];
  const n = text.length;
  const m = tokens.length;
  // pos[j]: where token j matched in the current attempt (for `*`: where its run starts).
  const pos = new Array<number>(m + 1).fill(n);
  let ti = 0;
  let pi = 0;
  let starP = -1;
  let starT = 0;
  let steps = 0;
  while (ti < n || (pi < m && tokens[pi] === ANY)) {
    if (++steps === 1024) {
      budget.spend(steps);
      steps = 0;
    }
    const t = tokens[pi];
    if (t === ANY) {
      starP = pi;
      starT = ti;
      pos[pi++] = ti;
    } else if (ti < n && pi < m && (t === ONE || t === text[ti])) {
      pos[pi++] = ti++;
    } else if (starP >= 0 && starT < n) {
      // Grow the last `*` by one character and retry what follows it.
      pi = starP + 1;
      ti = ++starT;
    } else {
      budget.spend(steps);
      return null;
    }
  }
  budget.spend(steps + 1);
  if (pi < m) return null;
  pos[m] = n;
  const caps: string[] = [];
  for (let j = 0; j < m; j++) {
    const t = tokens[j];
    const start = pos[j] as number;
    if (t === ANY) caps.push(orig.slice(start, pos[j + 1]).join(''));
    else if (t === ONE) caps.push(orig[start] ?? '');
  }
  return caps;
}
