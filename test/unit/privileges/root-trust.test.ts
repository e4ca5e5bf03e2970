import { describe, expect, it } from 'vitest';
import { ancestorDirs, dirTrustProblem, fileTrustProblem } from '../../../src/privileges/root-trust.js';

describe('fileTrustProblem: a file root takes orders from', () => {
  it.each([
    [0, 0o100644, undefined],
    [0, 0o100600, undefined],
    [0, 0o100444, undefined],
    [0, 0o100664, /writable by group or others \(mode 0664\)/],
    [0, 0o100646, /writable by group or others \(mode 0646\)/],
    [65534, 0o100644, /owned by uid 65534, not root/],
    [1000, 0o100600, /owned by uid 1000/],
  ])('uid %d mode %o', (uid, mode, want) => {
    const got = fileTrustProblem('/etc/mda/mda.toml', { uid, mode });
    if (want === undefined) expect(got).toBeUndefined();
    else expect(got).toMatch(want);
  });
});

describe('dirTrustProblem: a directory above it', () => {
  it.each([
    [0, 0o40755, undefined],
    [0, 0o40700, undefined],
    [0, 0o41777, undefined], // /tmp: sticky, so others cannot rename root's entries
    [0, 0o41770, undefined],
    [0, 0o40775, /writable by group or others \(mode 0775\)/],
    [0, 0o40777, /mode 0777/],
    [65534, 0o40755, /owned by uid 65534, not root/],
    [65534, 0o41777, /owned by uid 65534/], // a sticky dir the user owns: the owner may rename anything
  ])('uid %d mode %o', (uid, mode, want) => {
    const got = dirTrustProblem('/etc/mda', { uid, mode });
    if (want === undefined) expect(got).toBeUndefined();
    else expect(got).toMatch(want);
  });
});

describe('ancestorDirs', () => {
  it.each([
    ['/etc/mda/mda.toml', ['/etc/mda', '/etc', '/']],
    ['/mda.toml', ['/']],
    ['/', []],
  ])('%s', (path, want) => expect(ancestorDirs(path)).toEqual(want));
});
