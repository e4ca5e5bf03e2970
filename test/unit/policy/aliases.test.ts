import { mkdtempSync, rmSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AliasFiles, parseAliasNames } from '../../../src/policy/aliases.js';

describe('parseAliasNames (Postfix aliases(5))', () => {
  it.each([
    ['name: value', 'postmaster: root\n', ['postmaster']],
    ['several targets, no space after the colon', 'staff:alice,bob\n', ['staff']],
    ['aliases(5): names are folded to lowercase', 'Sales: bob\n', ['sales']],
    ['aliases(5): a line starting with whitespace continues the previous one', 'team: alice,\n  bob,\n\tcarol: x\n', ['team']],
    ['aliases(5): # comment lines, also indented ones, and blank lines are ignored', '# root: x\n   # bob: y\n\n   \nabuse: root\n', ['abuse']],
    ['aliases(5): a quoted name may hold whitespace, ":" and "@"', '"first last": alice\n"a:b@c" : bob\n', ['first last', 'a:b@c']],
    ['a backslash in a quoted name escapes the next character', '"we\\"ird": x\n', ['we"ird']],
    [':include: is a target, not a name', 'list: :include:/etc/mail/list\n', ['list']],
    ['commands and files as targets', 'pipe: "|/usr/bin/prog"\nfile: /var/log/x\n', ['pipe', 'file']],
    ['a line without a colon is no alias', 'nonsense line\nok: x\n', ['ok']],
    ['an unterminated quoted name is no alias', '"open: x\n', []],
    ['a quoted name without a colon after it is no alias', '"a" x\n', []],
    ['an empty name is no alias', ': x\n', []],
    ['CRLF line ends', 'mailer-daemon: postmaster\r\nroot: alice\r\n', ['mailer-daemon', 'root']],
    ['whitespace before the colon', 'owner-list   : alice\n', ['owner-list']],
    ['a name with a delimiter is kept whole', 'bob+lists: bob\n', ['bob+lists']],
  ])('%s', (_name, text, names) => {
    expect([...parseAliasNames(text)].sort()).toEqual([...names].sort());
  });
});

describe('AliasFiles', () => {
  it('reads every file, a missing one has no names, and a changed file is re-read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mda-aliases-'));
    try {
      const a = join(dir, 'aliases');
      writeFileSync(a, 'sales: bob\n');
      const files = new AliasFiles([a, join(dir, 'missing')]);
      expect(await files.names()).toEqual({ names: new Set(['sales']) });
      writeFileSync(a, 'sales: bob\nsupport: alice\n');
      const later = Date.now() / 1000 + 10;
      utimesSync(a, later, later);
      // The stat is re-checked at most once a second: wait for that window to pass.
      let names = (await files.names()).names;
      for (let i = 0; i < 40 && !names.has('support'); i++) {
        await new Promise((r) => setTimeout(r, 100));
        names = (await files.names()).names;
      }
      expect(names).toEqual(new Set(['sales', 'support']));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an unreadable alias file (a directory) is trouble, not an empty list', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mda-aliases-'));
    try {
      const r = await new AliasFiles([dir]).names();
      expect(r.trouble).toContain(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
