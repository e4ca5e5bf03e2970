/**
 * The three Sieve comparators (RFC 4790 §9, RFC 5228 §2.7.3): equality and
 * ordering on whole strings, and which match types each one supports. Owns
 * case folding for i;ascii-casemap; never sees headers or match types' logic.
 * Pure: no I/O.
 */
import type { Comparator, MatchType, Relation } from './match-api.js';

/**
 * RFC 4790 §9.2: i;ascii-casemap compares as i;octet after turning the ASCII
 * lower-case letters into upper case; every other character is kept as is.
 * (Pigeonhole uses strncasecmp, i.e. folds to lower case: the two only differ
 * in how [\]^_` order against letters; we follow the RFC.)
 */
export function asciiUpper(s: string): string {
  return s.replace(/[a-z]+/g, (m) => m.toUpperCase());
}

/** Lower-cases ASCII letters only (the :lower modifier, variable names). */
export function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/**
 * i;octet orders by UTF-8 bytes, i.e. by code point. JS compares UTF-16 code
 * units, which disagrees only when a surrogate (U+10000 and up) meets a unit
 * in U+E000..U+FFFF; fix those up instead of encoding both strings.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** The leading digits of `s` without leading zeros, or null for "positive infinity". */
function numericValue(s: string): string | null {
  const m = /^[0-9]+/.exec(s);
  if (!m) return null;
  const digits = m[0].replace(/^0+/, '');
  return digits;
}

/**
 * RFC 4790 §9.1 i;ascii-numeric: a string is the number its leading digits
 * spell; one that does not start with a digit is positive infinity, and two
 * infinities are equal (Pigeonhole: "a" eq "", "0" lt "a"). Numbers of any
 * length compare exactly (digit strings, no overflow).
 */
export function compareNumeric(a: string, b: string): number {
  const x = numericValue(a);
  const y = numericValue(b);
  if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x === y ? 0 : x < y ? -1 : 1;
}

/** Orders `value` against `key` with a comparator: <0, 0, >0 (RFC 5231 §4). */
export function compareWith(comparator: Comparator, value: string, key: string): number {
  switch (comparator) {
    case 'i;octet':
      return compareCodePoints(value, key);
    case 'i;ascii-casemap':
      return compareCodePoints(asciiUpper(value), asciiUpper(key));
    case 'i;ascii-numeric':
      return compareNumeric(value, key);
  }
}

/** RFC 5231 §4.2: the relation holds between value and key under the comparator. */
export function relationHolds(relation: Relation, comparator: Comparator, value: string, key: string): boolean {
  const c = compareWith(comparator, value, key);
  switch (relation) {
    case 'gt':
      return c > 0;
    case 'ge':
      return c >= 0;
    case 'lt':
      return c < 0;
    case 'le':
      return c <= 0;
    case 'eq':
      return c === 0;
    case 'ne':
      return c !== 0;
  }
}

/** Maps a string to the form that comparator compares by equality/substring (octet: itself). */
export function foldFor(comparator: Comparator, s: string): string {
  return comparator === 'i;ascii-casemap' ? asciiUpper(s) : s;
}

/**
 * Whether a comparator can serve a match type. RFC 4790 §9.1: i;ascii-numeric
 * has equality and ordering but no substring operation, so :contains,
 * :matches and :regex are errors with it (Pigeonhole refuses them at compile
 * time; the regex draft allows only i;octet and i;ascii-casemap). The
 * validator calls this; the matcher refuses the same combinations at run time.
 */
export function comparatorSupports(comparator: Comparator, matchType: MatchType): boolean {
  if (comparator !== 'i;ascii-numeric') return true;
  return matchType === 'is' || matchType === 'value' || matchType === 'count';
}

export const COMPARATORS: readonly Comparator[] = ['i;octet', 'i;ascii-casemap', 'i;ascii-numeric'];

/** Narrows a `:comparator` argument; undefined for one this implementation lacks. */
export function parseComparator(name: string): Comparator | undefined {
  const lower = asciiLower(name);
  return (COMPARATORS as readonly string[]).includes(lower) ? (lower as Comparator) : undefined;
}
