/** [sieve] dir and global_dir (include, RFC 6609): defaults, accepted forms, errors with file:line. */
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { formatIssue, validateConfig } from '../../../src/config/validate.js';

const FILE = '/etc/mda/mda.toml';
const check = (text: string) => validateConfig(parse(text, { integersAsBigInt: true }), FILE, text);

describe('[sieve] dir and global_dir', () => {
  it('defaults: personal scripts in ~/sieve (where Dovecot ManageSieve keeps them), no global scripts', () => {
    const r = check('');
    if ('errors' in r) throw new Error('unexpected errors');
    expect([r.config.sieve.dir, r.config.sieve.globalDir]).toEqual(['~/sieve', '']);
  });

  it.each([
    ['dir = "~/sieve"', '~/sieve', ''],
    ['dir = "/srv/sieve/%u"', '/srv/sieve/%u', ''],
    ['dir = ""', '', ''],
    ['global_dir = "/etc/mda/sieve-global"', '~/sieve', '/etc/mda/sieve-global'],
    ['global_dir = ""', '~/sieve', ''],
  ])('%s', (line, dir, globalDir) => {
    const r = check(`[sieve]\n${line}\n`);
    if ('errors' in r) throw new Error(r.errors.map(formatIssue).join('\n'));
    expect([r.config.sieve.dir, r.config.sieve.globalDir]).toEqual([dir, globalDir]);
  });

  it.each([
    ['[sieve]\ndir = "sieve"\n', '/etc/mda/mda.toml:2: sieve.dir: must be an absolute path, start with ~/'],
    ['[sieve]\n\ndir = "~/%d"\n', '/etc/mda/mda.toml:3: sieve.dir: only %u (the user name) may follow a %'],
    ['[sieve]\ndir = 1\n', '/etc/mda/mda.toml:2: sieve.dir: must be a string, got an integer'],
    ['[sieve]\nglobal_dir = "~/global"\n', '/etc/mda/mda.toml:2: sieve.global_dir: must be an absolute path'],
    ['[sieve]\nglobal_dir = "/etc/%u"\n', '/etc/mda/mda.toml:2: sieve.global_dir: must be an absolute path'],
    ['[sieve]\nglobal_dir = ["/a"]\n', '/etc/mda/mda.toml:2: sieve.global_dir: must be a string'],
  ])('%j', (text, want) => {
    const r = check(text);
    if (!('errors' in r)) throw new Error('expected errors');
    expect(r.errors.map(formatIssue).join('\n')).toContain(want);
  });
});
