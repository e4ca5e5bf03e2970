/**
 * `mda sieve check` through the built binary: OK lines on stdout, every error as
 * file:line:col: message on stderr, exit 0 / 1 / 2. Needs a built dist/ (`npm run build`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sieveCheck } from '../../src/cli/commands/sieve-check.js';
import { runCli, tempDir } from '../helpers/run-mda.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const mda = (args: string[], cwd: string): Promise<Run> => runCli(args, { cwd });

const GOOD = 'require ["fileinto", "vacation"];\nif header :contains "subject" "[list]" {\n  fileinto "Lists";\n}\nvacation :days 3 "away";\n';
const BAD = 'require "fileinto";\nfileinto "frop"\nkeep;\nif size :over :under 1M { stop; }\nreject "no";\n';

let t: ReturnType<typeof tempDir>;

beforeAll(() => {
  t = tempDir('mda-sieve-check-');
  writeFileSync(join(t.dir, 'good.sieve'), GOOD);
  writeFileSync(join(t.dir, 'bad.sieve'), BAD);
  writeFileSync(join(t.dir, 'deep.sieve'), `${'if true { '.repeat(5000)}stop;${' }'.repeat(5000)}`);
  mkdirSync(join(t.dir, 'adir'));
});
afterAll(() => t.cleanup());

describe('mda sieve check', () => {
  it.each([
    ['one good file', ['good.sieve'], 0, 'OK: good.sieve\n', ''],
    ['two good files', ['good.sieve', 'good.sieve'], 0, 'OK: good.sieve\nOK: good.sieve\n', ''],
    [
      'a file with errors: each as file:line:col: message',
      ['bad.sieve'],
      1,
      '',
      "bad.sieve:3:1: expected ';' after the fileinto command, found 'keep'\n" +
        'bad.sieve:4:15: tag :under conflicts with :over: only one :over/:under is allowed\n' +
        'bad.sieve:5:1: reject is not supported: mda never bounces a message after Postfix has accepted it (the bounce would go to a sender that may be forged); use discard, or fileinto a folder\n',
    ],
    ['good and bad: every file is checked', ['good.sieve', 'bad.sieve', 'good.sieve'], 1, 'OK: good.sieve\nOK: good.sieve\n', 'bad.sieve:3:1:'],
    ['a missing file is 2, and the others are still checked', ['missing.sieve', 'good.sieve'], 2, 'OK: good.sieve\n', 'missing.sieve: cannot read: ENOENT'],
    ['a directory is 2', ['adir'], 2, '', 'adir: cannot read: EISDIR'],
    ['unreadable wins over errors', ['bad.sieve', 'missing.sieve'], 2, '', 'bad.sieve:3:1:'],
    ['absurd nesting is refused quickly', ['deep.sieve'], 1, '', 'deep.sieve:1:329: blocks are nested too deeply: the limit is 32 levels\n'],
  ])('%s', async (_name, files, code, stdout, stderr) => {
    const r = await mda(['sieve', 'check', ...files], t.dir);
    expect(r.code).toBe(code);
    expect(r.stdout).toBe(stdout);
    if (stderr.endsWith('\n')) expect(r.stderr).toBe(stderr);
    else expect(r.stderr).toContain(stderr);
  });

  it('without a file is a usage error (64)', async () => {
    const r = await mda(['sieve', 'check'], t.dir);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('Not enough non-option arguments');
  });

  it('is listed in --help', async () => {
    const r = await mda(['sieve', '--help'], t.dir);
    expect(r.stdout).toContain('mda sieve check <files..>');
  });

  it('works in process with injected output streams', async () => {
    let out = '';
    let err = '';
    const io = { out: { write: (s: string) => (out += s) }, err: { write: (s: string) => (err += s) } };
    expect(await sieveCheck({ files: [join(t.dir, 'good.sieve'), join(t.dir, 'bad.sieve')] }, io)).toBe(1);
    expect(out).toBe(`OK: ${join(t.dir, 'good.sieve')}\n`);
    expect(err.split('\n').filter(Boolean)).toHaveLength(3);
  });
});
