/**
 * RFC 5229 variables: `${name}` / `${N}` expansion inside strings, the `set`
 * modifiers with their precedence, and the size limits (as Pigeonhole sets
 * them). Decides nothing about when a string is expanded: that is the
 * evaluator's. Pure: no I/O.
 */
import { asciiLower } from './comparators.js';
import { SieveRuntimeError } from './errors.js';

/** Bytes (UTF-8) one variable holds; longer values are truncated, never an error (RFC 5229 §6, Pigeonhole's 4 KiB default). */
export const MAX_VARIABLE_SIZE = 4096;
/** Distinct variables in one script (RFC 5229 §6 asks for at least 128; Pigeonhole allows 255). */
export const MAX_VARIABLES = 255;
/** Longest variable name (RFC 5229 §6 asks for at least 32; Pigeonhole allows 64). */
export const MAX_VARIABLE_NAME_LENGTH = 64;
/** Match variables ${0}..${31} (Pigeonhole's SIEVE_MAX_MATCH_VALUES; RFC 5229 §6 requires ${0}..${9}). */
export const MAX_MATCH_VALUES = 32;
/** Largest string an expansion produces (Pigeonhole's 1 MiB string limit): `"${a}${a}..."` cannot blow up memory. */
export const MAX_EXPANDED_LENGTH = 1 << 20;

/** UTF-8 length of one code point (a lone surrogate is encoded as U+FFFD: 3 bytes). */
const utf8Bytes = (cp: number): number => (cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4);

export function utf8Length(s: string): number {
  let n = 0;
  for (const ch of s) n += utf8Bytes(ch.codePointAt(0) ?? 0);
  return n;
}

/**
 * Cuts `s` to at most `maxBytes` UTF-8 bytes without splitting a character
 * (Pigeonhole's limits.svtest: a 3-byte character that does not fit is dropped whole).
 */
export function truncateUtf8(s: string, maxBytes: number = MAX_VARIABLE_SIZE): string {
  if (s.length * 3 <= maxBytes) return s; // cheap upper bound: every UTF-16 unit is at most 3 bytes
  let bytes = 0;
  let i = 0;
  for (const ch of s) {
    const b = utf8Bytes(ch.codePointAt(0) ?? 0);
    if (bytes + b > maxBytes) return s.slice(0, i);
    bytes += b;
    i += ch.length;
  }
  return s;
}

// RFC 5229 §3: identifier = (ALPHA / "_") *(ALPHA / DIGIT / "_").
const IDENT = '[A-Za-z_][A-Za-z0-9_]*';
const IDENTIFIER = new RegExp(`^${IDENT}$`);
// variable-ref = "${" [namespace] variable-name "}"; namespace = identifier "." *(variable-name ".").
// Sticky, tried at each "${": it fails at the first character a reference cannot hold, so a
// string full of "${" costs linear time, not a search for "}" from every one of them.
const VARIABLE_REF = new RegExp(`\\$\\{((?:${IDENT}\\.(?:(?:[0-9]+|${IDENT})\\.)*)?(?:[0-9]+|${IDENT}))\\}`, 'y');

/** A name `set` may assign: an identifier of at most MAX_VARIABLE_NAME_LENGTH characters. */
export function isVariableName(name: string): boolean {
  return name.length <= MAX_VARIABLE_NAME_LENGTH && IDENTIFIER.test(name);
}

/**
 * Expands `${...}` references in one pass (RFC 5229 §3): the substituted text
 * is never scanned again. `${N}` (leading zeros allowed) is match variable N,
 * '' when unset. Names are case-insensitive, so `lookup` receives them
 * lower-cased; an unknown plain name expands to ''. An unknown namespaced
 * name (`${env.x}`, its extension's business) is left as written. Anything
 * that is not a valid reference (`${`, `${a b}`, `${0.s}`, too long a name)
 * stays literal, and scanning resumes right after its `$`, so
 * "${BAD${Company}" gives "${BADACME" (the RFC's example).
 */
export function expandVariables(
  text: string,
  lookup: (name: string) => string | undefined,
  matchVars: readonly string[],
  maxLength: number = MAX_EXPANDED_LENGTH,
): string {
  let out = '';
  let i = 0;
  while (i < text.length && out.length < maxLength) {
    const open = text.indexOf('${', i);
    if (open < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, open);
    VARIABLE_REF.lastIndex = open;
    const ref = VARIABLE_REF.exec(text);
    const value = ref?.[1] === undefined ? undefined : resolve(ref[1], lookup, matchVars);
    if (value === undefined || ref === null) {
      out += '$';
      i = open + 1;
    } else {
      out += value;
      i = open + ref[0].length;
    }
  }
  return out.length > maxLength ? out.slice(0, maxLength) : out;
}

function resolve(ref: string, lookup: (name: string) => string | undefined, matchVars: readonly string[]): string | undefined {
  if (/^[0-9]+$/.test(ref)) return matchVars[Number(ref)] ?? '';
  const dot = ref.indexOf('.');
  if (dot < 0) {
    if (ref.length > MAX_VARIABLE_NAME_LENGTH) return undefined;
    return lookup(asciiLower(ref)) ?? '';
  }
  return lookup(asciiLower(ref)); // namespaced: undefined keeps the reference literal
}

export type Modifier = 'lower' | 'upper' | 'lowerfirst' | 'upperfirst' | 'quotewildcard' | 'quoteregex' | 'encodeurl' | 'length';

/**
 * RFC 5229 §4: modifiers apply from the highest precedence down, and two of
 * equal precedence may not be combined. :quoteregex (from the regex draft,
 * draft-murchison-sieve-regex) shares 20 with :quotewildcard.
 */
const PRECEDENCE: Record<Modifier, number> = {
  lower: 40,
  upper: 40,
  lowerfirst: 30,
  upperfirst: 30,
  quotewildcard: 20,
  quoteregex: 20,
  encodeurl: 15, // RFC 5435 §6
  length: 10,
};

export function modifierPrecedence(name: string): number | undefined {
  return Object.hasOwn(PRECEDENCE, name) ? PRECEDENCE[name as Modifier] : undefined;
}

/** For the validator: why this modifier list is invalid (unknown, or two of equal precedence), or undefined. */
export function checkModifiers(names: readonly string[]): string | undefined {
  const seen = new Map<number, string>();
  for (const name of names) {
    const p = modifierPrecedence(name);
    if (p === undefined) return `unknown modifier :${name}`;
    const other = seen.get(p);
    if (other !== undefined) return `modifiers :${other} and :${name} conflict (equal precedence)`;
    seen.set(p, name);
  }
  return undefined;
}

const WILDCARD_SPECIALS = new Set(['*', '?', '\\']);
// Every character POSIX ERE gives a meaning outside a bracket expression.
const REGEX_SPECIALS = new Set(['\\', '.', '[', ']', '(', ')', '*', '+', '?', '{', '}', '|', '^', '$']);

/** Backslash-quotes specials, stopping before a character (and its backslash) that would pass maxBytes. */
function quote(value: string, specials: Set<string>, maxBytes: number): string {
  let out = '';
  let bytes = 0;
  for (const ch of value) {
    const q = specials.has(ch) ? `\\${ch}` : ch;
    const b = q.length === 2 ? 2 : utf8Bytes(ch.codePointAt(0) ?? 0);
    if (bytes + b > maxBytes) break;
    out += q;
    bytes += b;
  }
  return out;
}

/**
 * RFC 5435 §6: every octet of the UTF-8 form outside RFC 3986's unreserved set becomes %XX.
 * Stops before an escape that would pass maxBytes, so a truncated value never ends in half an escape.
 */
function encodeUrl(value: string, maxBytes: number): string {
  let out = '';
  for (const b of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(b);
    const e = /[A-Za-z0-9\-._~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    if (out.length + e.length > maxBytes) break;
    out += e;
  }
  return out;
}

const upperAscii = (c: string): string => (c >= 'a' && c <= 'z' ? c.toUpperCase() : c);
const lowerAscii = (c: string): string => (c >= 'A' && c <= 'Z' ? c.toLowerCase() : c);

function modify(value: string, m: Modifier, maxBytes: number): string {
  switch (m) {
    // Case changes touch ASCII letters only, as Pigeonhole's str_lcase/i_toupper do.
    case 'lower':
      return asciiLower(value);
    case 'upper':
      return value.replace(/[a-z]+/g, (s) => s.toUpperCase());
    case 'lowerfirst':
      return lowerAscii(value.slice(0, 1)) + value.slice(1);
    case 'upperfirst':
      return upperAscii(value.slice(0, 1)) + value.slice(1);
    case 'quotewildcard':
      return quote(value, WILDCARD_SPECIALS, maxBytes);
    case 'quoteregex':
      return quote(value, REGEX_SPECIALS, maxBytes);
    case 'encodeurl':
      return encodeUrl(value, maxBytes);
    case 'length':
      // RFC 5229 §4: the number of characters (Pigeonhole counts UTF-8 characters, i.e. code points).
      return String([...value].length);
  }
}

/**
 * Applies `set` modifiers in precedence order (the order written does not
 * matter), truncating to maxBytes before and after each one as Pigeonhole
 * does. Unknown modifiers are ignored here; the validator rejects them.
 */
export function applyModifiers(value: string, modifiers: readonly string[], maxBytes: number = MAX_VARIABLE_SIZE): string {
  const ordered = modifiers
    .filter((m): m is Modifier => modifierPrecedence(m) !== undefined)
    .sort((a, b) => PRECEDENCE[b] - PRECEDENCE[a]);
  let v = truncateUtf8(value, maxBytes);
  for (const m of ordered) v = truncateUtf8(modify(v, m, maxBytes), maxBytes);
  return v;
}

/**
 * The variables of one script run: case-insensitive names, values truncated
 * to MAX_VARIABLE_SIZE, at most MAX_VARIABLES of them (the validator should
 * refuse more; reaching the cap at run time is a runtime error).
 */
export class VariableScope {
  private readonly values = new Map<string, string>();

  constructor(private readonly maxVariables: number = MAX_VARIABLES, private readonly maxBytes: number = MAX_VARIABLE_SIZE) {}

  get(name: string): string | undefined {
    return this.values.get(asciiLower(name));
  }

  set(name: string, value: string): void {
    const key = asciiLower(name);
    if (!this.values.has(key) && this.values.size >= this.maxVariables) {
      throw new SieveRuntimeError(`too many variables (limit ${this.maxVariables})`);
    }
    this.values.set(key, truncateUtf8(value, this.maxBytes));
  }

  /** A lookup for expandVariables. */
  readonly lookup = (name: string): string | undefined => this.get(name);
}
