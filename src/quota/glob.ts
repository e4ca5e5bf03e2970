/**
 * Shell-style globs for `mda quota --maildir-glob` (Node 20 has no fs.glob):
 * `*`, `?` and `[...]` match within one path segment, never across `/`, and a
 * wildcard never matches a leading `.` (as in sh, so `.Trash` and `..` stay out).
 * parseGlob/matchSegment are pure; expandGlob is the thin readdir walker.
 */
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';

export type Segment =
  | { literal: string }
  | { pattern: string; re: RegExp; leadingDot: boolean; star: boolean };

export interface ParsedGlob {
  /** The literal directory the walk starts in (everything before the first wildcard). */
  base: string;
  /** The remaining segments, literal or wildcard. */
  segments: Segment[];
  /** Index in `segments` of the first segment with a `*`, whose match names the user; -1 if none. */
  userSegment: number;
}

export interface GlobMatch {
  path: string;
  /** The path segment the first `*` matched (the user name), else the whole path. */
  user: string;
}

export interface GlobResult {
  matches: GlobMatch[];
  /** One line each: directories that could not be listed (EACCES...); missing ones are just no match. */
  errors: string[];
}

// With the `u` flag only these may be escaped outside a class, and `-` only inside one.
const SYNTAX = /[\\^$.*+?()[\]{}|/]/;
const esc = (ch: string): string => (SYNTAX.test(ch) ? `\\${ch}` : ch);
const escInClass = (ch: string): string => (ch === '-' || SYNTAX.test(ch) ? `\\${ch}` : ch);

/**
 * classAt reads a bracket expression starting at chars[i] === '['. Returns the
 * regex class and the index after `]`, or undefined when unclosed (then `[` is literal).
 */
function classAt(chars: string[], i: number): { re: string; end: number } | undefined {
  let j = i + 1;
  const negate = chars[j] === '!' || chars[j] === '^';
  if (negate) j++;
  const items: string[] = [];
  let first = true;
  for (; j < chars.length; j++) {
    let ch = chars[j]!;
    if (ch === ']' && !first) {
      // An empty set (only reversed ranges) matches nothing; negated, anything.
      const body = items.join('');
      const re = body === '' ? (negate ? '[^]' : '[]') : `[${negate ? '^' : ''}${body}]`;
      return { re, end: j + 1 };
    }
    first = false;
    if (ch === '\\' && j + 1 < chars.length) ch = chars[++j]!;
    if (chars[j + 1] === '-' && j + 2 < chars.length && chars[j + 2] !== ']') {
      let hi = chars[j + 2]!;
      let skip = 2;
      if (hi === '\\' && j + 3 < chars.length) {
        hi = chars[j + 3]!;
        skip = 3;
      }
      if (ch.codePointAt(0)! <= hi.codePointAt(0)!) items.push(`${escInClass(ch)}-${escInClass(hi)}`); // reversed: matches nothing (sh)
      j += skip;
      continue;
    }
    items.push(escInClass(ch));
  }
  return undefined;
}

/** parseSegment compiles one path segment; a segment without wildcards stays literal (backslashes removed). */
export function parseSegment(pattern: string): Segment {
  const chars = [...pattern];
  let re = '';
  let literal = '';
  let magic = false;
  let star = false;
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === '\\' && i + 1 < chars.length) {
      literal += chars[++i]!;
      re += esc(chars[i]!);
    } else if (ch === '*') {
      magic = star = true;
      while (chars[i + 1] === '*') i++; // `**` is just `*`: no recursion
      re += '[^]*';
    } else if (ch === '?') {
      magic = true;
      re += '[^]';
    } else if (ch === '[' && classAt(chars, i)) {
      const c = classAt(chars, i)!;
      magic = true;
      re += c.re;
      i = c.end - 1;
    } else {
      literal += ch;
      re += esc(ch);
    }
  }
  if (!magic) return { literal };
  return { pattern, re: new RegExp(`^${re}$`, 'u'), leadingDot: pattern.startsWith('.'), star };
}

/** matchSegment: does one directory entry name match a wildcard segment? */
export function matchSegment(seg: Segment, name: string): boolean {
  if ('literal' in seg) return seg.literal === name;
  if (name.startsWith('.') && !seg.leadingDot) return false;
  return seg.re.test(name);
}

/** parseGlob splits a pattern into its literal base and the segments to walk; relative patterns start at cwd. */
export function parseGlob(pattern: string, cwd: string): ParsedGlob {
  const abs = isAbsolute(pattern) ? pattern : join(cwd, pattern);
  const parts = abs.split('/').filter((p) => p !== '' && p !== '.');
  const segments = parts.map(parseSegment);
  let base = '/';
  while (segments.length > 0 && 'literal' in segments[0]!) base = join(base, (segments.shift() as { literal: string }).literal);
  const userSegment = segments.findIndex((s) => 'star' in s && s.star);
  return { base, segments, userSegment };
}

const errnoOf = (err: unknown): string => (err as NodeJS.ErrnoException | null)?.code ?? 'error';
/** Missing paths are simply no match, as in sh; anything else is worth a line. */
const NO_MATCH = new Set(['ENOENT', 'ENOTDIR', 'ESTALE', 'ELOOP']);
/** readdir/stat calls in flight at once: hides latency without eating the fd limit. */
const WALK_CONCURRENCY = 32;

interface Walking {
  path: string;
  user?: string;
}

/**
 * expandGlob walks the pattern level by level and returns the matching
 * directories (symlinks to directories count, as in sh), sorted by path.
 */
export async function expandGlob(pattern: string, cwd: string = process.cwd()): Promise<GlobResult> {
  const g = parseGlob(pattern, cwd);
  const errors: string[] = [];
  let level: Walking[] = [{ path: g.base }];
  for (const [i, seg] of g.segments.entries()) {
    if ('literal' in seg) {
      level = level.map((p) => ({ ...p, path: join(p.path, seg.literal) }));
      continue;
    }
    const next: Walking[][] = await inBatches(level, async (p) => {
      let entries: Dirent[];
      try {
        entries = await readdir(p.path, { withFileTypes: true });
      } catch (err) {
        if (!NO_MATCH.has(errnoOf(err))) errors.push(`cannot list ${p.path}: ${(err as Error).message}`);
        return [];
      }
      return entries
        .filter((d) => matchSegment(seg, d.name))
        .map((d) => ({ path: join(p.path, d.name), user: i === g.userSegment ? d.name : p.user }));
    });
    level = next.flat();
  }
  // Only directories are Maildirs; literal tails (`*/Maildir`) may not exist at all.
  const isDir = await inBatches(level, async (p) => {
    try {
      return (await stat(p.path)).isDirectory();
    } catch (err) {
      if (!NO_MATCH.has(errnoOf(err))) errors.push(`cannot stat ${p.path}: ${(err as Error).message}`);
      return false;
    }
  });
  const matches = level
    .filter((_, i) => isDir[i])
    .map((p) => ({ path: p.path, user: p.user ?? p.path }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { matches, errors };
}

/** inBatches maps items with at most WALK_CONCURRENCY calls in flight, keeping order. */
async function inBatches<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += WALK_CONCURRENCY) {
    out.push(...(await Promise.all(items.slice(i, i + WALK_CONCURRENCY).map(fn))));
  }
  return out;
}
