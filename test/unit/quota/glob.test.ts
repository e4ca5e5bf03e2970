import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandGlob, matchSegment, parseGlob, parseSegment } from '../../../src/quota/glob.js';
import { tempDir } from '../../helpers/run-mda.js';

describe('matchSegment', () => {
  it.each<[string, string, boolean]>([
    ['*', 'alice', true],
    ['*', '', true],
    ['*', '.hidden', false], // as in sh: a wildcard never matches a leading dot
    ['.*', '.hidden', true],
    ['a*', 'alice', true],
    ['a*', 'bob', false],
    ['*e', 'alice', true],
    ['a*c*e', 'alice', true],
    ['a**e', 'alice', true],
    ['?', 'a', true],
    ['?', 'ab', false],
    ['?', '.', false],
    ['?ob', 'bob', true],
    ['[abc]ob', 'bob', true],
    ['[abc]ob', 'rob', false],
    ['[!abc]ob', 'rob', true],
    ['[^abc]ob', 'bob', false],
    ['[a-c]x', 'bx', true],
    ['[a-c]x', 'dx', false],
    ['[z-a]x', 'bx', false], // a reversed range matches nothing
    ['[]a]', ']', true], // `]` first is literal
    ['[!]a]', 'b', true],
    ['[a-]', '-', true],
    ['[\\]]', ']', true],
    ['[.]x', '.x', false],
    ['[', '[', true], // unclosed: literal
    ['a[b', 'a[b', true],
    ['\\*', '*', true],
    ['\\*', 'x', false],
    ['a.b', 'aXb', false], // regex specials are literal
    ['(a|b)+', '(a|b)+', true],
    ['$x^', '$x^', true],
    ['us?r-*', 'user-bob', true],
    ['é*', 'émile', true],
    ['*', 'line\nbreak', true],
  ])('%j ~ %j → %s', (pattern, name, want) => {
    expect(matchSegment(parseSegment(pattern), name)).toBe(want);
  });

  it('keeps a segment without wildcards literal, backslashes removed', () => {
    expect(parseSegment('Maildir')).toEqual({ literal: 'Maildir' });
    expect(parseSegment('a\\*b')).toEqual({ literal: 'a*b' });
  });
});

describe('parseGlob', () => {
  it('splits into the literal base and the segments to walk', () => {
    const g = parseGlob('/srv/mail/*/Maildir', '/');
    expect(g.base).toBe('/srv/mail');
    expect(g.segments).toHaveLength(2);
    expect(g.segments[1]).toEqual({ literal: 'Maildir' });
    expect(g.userSegment).toBe(0);
  });

  it('resolves a relative pattern against cwd and drops `.` and empty segments', () => {
    expect(parseGlob('mail//./*/Maildir', '/var').base).toBe('/var/mail');
  });

  it('names the user by the first segment with a `*` only', () => {
    expect(parseGlob('/m/?/x*/Maildir', '/').userSegment).toBe(1);
    expect(parseGlob('/m/[ab]/Maildir', '/').userSegment).toBe(-1);
  });
});

describe('expandGlob', () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;
  beforeAll(() => {
    t = tempDir('mda-glob-');
    root = t.dir;
    for (const u of ['alice', 'bob', 'carol', '.skel']) mkdirSync(join(root, 'mail', u, 'Maildir'), { recursive: true });
    mkdirSync(join(root, 'mail', 'nomaildir'));
    writeFileSync(join(root, 'mail', 'file'), '');
    mkdirSync(join(root, 'mail', 'dave'));
    writeFileSync(join(root, 'mail', 'dave', 'Maildir'), ''); // a file, not a Maildir
    mkdirSync(join(root, 'elsewhere', 'Maildir'), { recursive: true });
    symlinkSync(join(root, 'elsewhere'), join(root, 'mail', 'erin')); // symlinked dirs match, as in sh
    mkdirSync(join(root, 'virt', 'example.org', 'frank', 'Maildir'), { recursive: true });
    mkdirSync(join(root, 'virt', 'example.net', 'gina', 'Maildir'), { recursive: true });
  });
  afterAll(() => t.cleanup());

  it('matches directories per segment and names users by the `*` segment', async () => {
    const r = await expandGlob(join(root, 'mail/*/Maildir'));
    expect(r.errors).toEqual([]);
    expect(r.matches).toEqual(
      ['alice', 'bob', 'carol', 'erin'].map((u) => ({ path: join(root, 'mail', u, 'Maildir'), user: u })),
    );
  });

  it('walks several wildcard levels; the first `*` names the user', async () => {
    const r = await expandGlob(join(root, 'virt/example.*/*/Maildir'));
    expect(r.matches).toEqual([
      { path: join(root, 'virt/example.net/gina/Maildir'), user: 'example.net' },
      { path: join(root, 'virt/example.org/frank/Maildir'), user: 'example.org' },
    ]);
  });

  it('uses the whole path as the user when the pattern has no `*`', async () => {
    const r = await expandGlob(join(root, 'mail/[ab]??*/Maildir'));
    expect(r.matches.map((m) => m.user)).toEqual(['alice', 'bob']); // `[ab]??*` has a `*`: the segment names the user
    const q = await expandGlob(join(root, 'mail/b?b/Maildir'));
    expect(q.matches).toEqual([{ path: join(root, 'mail/bob/Maildir'), user: join(root, 'mail/bob/Maildir') }]);
  });

  it('a literal pattern matches itself if it is a directory', async () => {
    expect((await expandGlob(join(root, 'mail/alice/Maildir'))).matches).toHaveLength(1);
    expect((await expandGlob(join(root, 'mail/dave/Maildir'))).matches).toHaveLength(0);
  });

  it('a missing base is no match and no error', async () => {
    expect(await expandGlob(join(root, 'nope/*/Maildir'))).toEqual({ matches: [], errors: [] });
  });

  it('relative patterns start at cwd', async () => {
    const r = await expandGlob('mail/c*/Maildir', root);
    expect(r.matches).toEqual([{ path: join(root, 'mail/carol/Maildir'), user: 'carol' }]);
  });
});
