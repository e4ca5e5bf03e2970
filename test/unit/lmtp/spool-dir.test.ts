/**
 * The spool directory: only a real directory of the serving uid with no
 * group/other access is used (the default lives in the shared temp dir), and
 * which of its tmp/ entries are stale (removed at start-up).
 */
import { describe, expect, it } from 'vitest';
import { isStaleSpoolEntry, privateDirProblem, STALE_SPOOL_AGE_MS } from '../../../src/lmtp/spool-dir.js';

const st = (o: { dir?: boolean; link?: boolean; uid?: number; mode?: number }) => ({
  isDirectory: () => o.dir ?? true,
  isSymbolicLink: () => o.link ?? false,
  uid: o.uid ?? 1000,
  mode: 0o40000 | (o.mode ?? 0o700),
});

describe('privateDirProblem', () => {
  it.each([
    ['own 0700 directory', st({}), undefined],
    ['a symbolic link', st({ link: true, dir: false }), 'is a symbolic link'],
    ['a file', st({ dir: false }), 'is not a directory'],
    ["another uid's directory", st({ uid: 0 }), 'is owned by uid 0, not 1000'],
    ['group-readable', st({ mode: 0o750 }), 'has mode 0750: group and others must have no access'],
    ['world-writable sticky (/tmp itself)', st({ mode: 0o1777 }), 'has mode 0777: group and others must have no access'],
  ])('%s', (_, stats, want) => {
    expect(privateDirProblem(stats, 1000)).toBe(want);
  });
});

describe('isStaleSpoolEntry (default age: one hour, past any live transaction)', () => {
  const NOW = 10_000_000_000;
  const e = (o: { file?: boolean; link?: boolean; ageMs: number }) => ({
    isFile: () => o.file ?? !o.link,
    isSymbolicLink: () => o.link ?? false,
    mtimeMs: NOW - o.ageMs,
  });
  it.each([
    ['a file written just now', e({ ageMs: 0 }), false],
    ['a file 59 minutes old (a live transaction of another server may own it)', e({ ageMs: 59 * 60_000 }), false],
    ['a file exactly one hour old', e({ ageMs: STALE_SPOOL_AGE_MS }), true],
    ['a file a day old', e({ ageMs: 86_400_000 }), true],
    ['an old symbolic link (removed, never followed)', e({ link: true, ageMs: 86_400_000 }), true],
    ['an old directory (never made by mda: left alone)', e({ file: false, ageMs: 86_400_000 }), false],
    ['a file from the future (clock stepped back)', e({ ageMs: -60_000 }), false],
  ])('%s', (_, st, want) => {
    expect(isStaleSpoolEntry(st, NOW)).toBe(want);
  });
});
