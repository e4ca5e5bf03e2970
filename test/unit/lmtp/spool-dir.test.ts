/**
 * The spool directory check: only a real directory of the serving uid with no
 * group/other access is used (the default lives in the shared temp dir).
 */
import { describe, expect, it } from 'vitest';
import { privateDirProblem } from '../../../src/lmtp/spool-dir.js';

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
