/**
 * Field readers shared by the config validators (validate.ts, validate-scanners.ts):
 * each reads one TOML value of a kind (table, duration, size, count, enum...)
 * and either returns it or reports one issue under its key through `fail`.
 * Owns value shapes, not which key means what. Pure: no I/O.
 */
import { parseDuration, parseSize } from './units.js';

/** A key's place in the document; a number is an index into an array of tables (`scanner[1]`). */
export type Path = readonly (string | number)[];
/** Records an issue at `path`; returns undefined so readers can `return fail(...)`. */
export type Fail = (path: Path, message: string) => undefined;
export type Table = Record<string, unknown>;

/** table returns v as a table; undefined (absent) passes silently, anything else fails. */
export function table(v: unknown, path: Path, fail: Fail): Table | undefined {
  if (v === undefined) return undefined;
  if (typeName(v) === 'a table') return v as Table;
  return fail(path, `must be a table, got ${typeName(v)}`);
}

export function checkKnown(t: Table, path: Path, known: readonly string[], fail: Fail): void {
  for (const k of Object.keys(t)) {
    if (known.includes(k)) continue;
    const what = typeName(t[k]) === 'a table' ? 'table' : 'key';
    fail([...path, k], `unknown ${what} (known: ${known.join(', ')})`);
  }
}

/** duration reads "30s" or an integer number of seconds into ms (range checks are the caller's). */
export function duration(v: unknown, path: Path, fail: Fail, example: string): number | undefined {
  if (v === undefined) return undefined;
  return convert(v, path, fail, `a duration string like "${example}" or an integer number of seconds`, (x) =>
    typeof x === 'string' ? parseDuration(x) : x * 1000,
  );
}

/** durationIn reads a duration and checks minMs <= it <= maxMs; `range` words the limits for the message. */
export function durationIn(v: unknown, path: Path, fail: Fail, example: string, minMs: number, maxMs: number, range: string): number | undefined {
  const ms = duration(v, path, fail, example);
  if (ms === undefined) return undefined;
  if (ms < minMs || ms > maxMs) return fail(path, `must be ${range}, got ${show(v)}`);
  return ms;
}

/** size reads a size in bytes; `zero` = 0 is allowed (quota keys: 0 means unlimited). */
export function size(v: unknown, path: Path, fail: Fail, zero = false): number | undefined {
  if (v === undefined) return undefined;
  const bytes = convert(v, path, fail, 'a size string like "50M" or an integer number of bytes', parseSize);
  if (bytes === undefined) return undefined;
  if (bytes <= 0 && !zero) return fail(path, `must be greater than 0, got ${show(v)}`);
  return bytes;
}

/** count reads a whole number >= min (a message count: 0 = unlimited). */
export function count(v: unknown, path: Path, fail: Fail, what = 'messages', min = 0): number | undefined {
  if (v === undefined) return undefined;
  if (!(typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v)))) {
    return fail(path, `must be an integer number of ${what}, got ${typeName(v)}`);
  }
  if (v < 0) return fail(path, `must not be negative, got ${show(v)}`);
  if (v < min) return fail(path, `must be at least ${min}, got ${show(v)}`);
  if (v > Number.MAX_SAFE_INTEGER) return fail(path, `is too large, got ${show(v)}`);
  return Number(v);
}

/** oneOf reads a string that must be one of `choices`; the message lists them as TOML strings. */
export function oneOf<T extends string>(v: unknown, path: Path, fail: Fail, choices: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string' && (choices as readonly string[]).includes(v)) return v as T;
  const list = choices.map((c) => JSON.stringify(c));
  const words = list.length > 1 ? `${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}` : list.join('');
  return fail(path, `must be ${words}, got ${typeof v === 'string' ? JSON.stringify(v) : typeName(v)}`);
}

/** str reads a string without NUL bytes (which no path, name or argv element can hold). */
export function str(v: unknown, path: Path, fail: Fail): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') return fail(path, `must be a string, got ${typeName(v)}`);
  if (v.includes('\0')) return fail(path, 'must not contain a NUL byte');
  return v;
}

/** stringList reads a non-empty array of strings (hosts, argv). */
export function stringList(v: unknown, path: Path, fail: Fail): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) return fail(path, `must be an array of strings, got ${typeName(v)}`);
  if (v.length === 0) return fail(path, 'must not be empty');
  const out: string[] = [];
  for (const [i, item] of v.entries()) {
    if (typeof item !== 'string') return fail(path, `must be an array of strings, element ${i + 1} is ${typeName(item)}`);
    if (item.includes('\0')) return fail(path, `element ${i + 1} contains a NUL byte`);
    out.push(item);
  }
  return out;
}

/**
 * convert accepts a TOML string or a whole number (a bigint from load.ts, which
 * parses with integersAsBigInt; a plain number from other callers, or `240.0`)
 * and runs the unit parser, reporting its message under the key.
 */
function convert(
  v: unknown,
  path: Path,
  fail: Fail,
  expected: string,
  parse: (x: string | number) => number,
): number | undefined {
  let x: string | number;
  if (typeof v === 'string') x = v;
  else if (typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v))) {
    if (v < 0) return fail(path, `must not be negative, got ${show(v)}`);
    if (v > Number.MAX_SAFE_INTEGER) return fail(path, `is too large, got ${show(v)}`);
    x = Number(v);
  } else return fail(path, `must be ${expected}, got ${typeName(v)}`);
  let out: number;
  try {
    out = parse(x);
  } catch (err) {
    return fail(path, (err as Error).message);
  }
  if (!Number.isSafeInteger(out)) return fail(path, `is too large, got ${show(v)}`);
  return out;
}

/** show quotes strings and prints other values as they are, for "got ..." messages. */
export function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

/** typeName names a TOML value's type for messages ("got an integer"). */
export function typeName(v: unknown): string {
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'bigint') return 'an integer';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a float';
  if (typeof v === 'boolean') return 'a boolean';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Date) return 'a date/time';
  if (typeof v === 'object' && v !== null) return 'a table';
  return `a ${typeof v}`;
}
