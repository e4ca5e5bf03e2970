/**
 * Issue 9 finding 9: whenever the command line names `deliver`, every way out
 * is a row of the outcome table (Postfix defers only on 75/71 and bounces on
 * 64, 1, ...), and 0 only when the message is stored. `deliver --help` may
 * print and exit 0 only on a terminal; in a pipe (Postfix) it defers unread.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseDeliverFlags } from '../../src/cli/deliver.js';
import { MDA, QUIET_CONFIG, listDir, runMda, tempDir } from '../helpers/run-mda.js';

const MSG = 'From: a@example.com\nSubject: x\n\nbody\n';

let t: ReturnType<typeof tempDir>;
let md: string;
let env: NodeJS.ProcessEnv;
beforeEach(() => {
  t = tempDir('mda-cli-exit-');
  md = join(t.dir, 'Maildir');
  const cfg = join(t.dir, 'mda.toml');
  writeFileSync(cfg, QUIET_CONFIG);
  env = { PATH: process.env.PATH, HOME: t.dir, USER: process.env.USER ?? 'root', MDA_CONFIG: cfg };
});
afterEach(() => t.cleanup());

describe('a command line naming deliver ends in exit 75 + one 4.x.y line unless the message is stored', () => {
  it.each([
    [['deliver', '--help']],
    [['deliver', '-h']],
    [['deliver', '--user', 'u', '--help']],
    [['--help', 'deliver']],
    [['-h', 'deliver']],
    [['--bogus', 'deliver']],
    [['deliver', '--bogus']],
    [['-x', 'deliver', '--user', 'u']],
    [['deliver', '--version']],
    [['--version', 'deliver']],
    [['deliver', 'extra']],
    [['--maildir', '/nonexistent', 'deliver']],
  ])('mda %j (stdin a pipe)', async (args) => {
    const r = await runMda(args, { input: MSG, env });
    expect(r.signal, r.output).toBeNull();
    expect(r.code, r.output).toBe(75);
    expect(r.output).toMatch(/^4\.\d{1,3}\.\d{1,3} [^\n]*\n$/);
    expect(listDir(join(md, 'new'))).toEqual([]);
  });

  it('the plain command still delivers (exit 0, stored)', async () => {
    const r = await runMda(['deliver', '--maildir', md], { input: MSG, env });
    expect(r.code, r.output).toBe(0);
    expect(r.output).toBe('');
    expect(listDir(join(md, 'new'))).toHaveLength(1);
  });
});

/** Runs mda under a pseudo-terminal (util-linux script), so stdin is a TTY. */
function onTerminal(args: string[]): { code: number | null; output: string } {
  const cmd = [process.execPath, MDA, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  // -e: script exits with the child's status; stdin of script itself is /dev/null, the child's is the pty
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { env, encoding: 'utf8', timeout: 20_000, input: '' });
  return { code: r.status, output: r.stdout };
}

const hasScript = spawnSync('script', ['--version']).status === 0;

describe.skipIf(!hasScript)('deliver --help on a terminal', () => {
  it.each([[['deliver', '--help']], [['deliver', '-h']], [['--help', 'deliver']]])('mda %j prints the deliver options and exits 0', (args) => {
    const r = onTerminal(args);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/--user/);
    expect(r.output).toMatch(/--folder/);
  });

  it('lists only options that deliver accepts (--help, --version and --dry-run are decided before parsing: deliver-intent.ts)', () => {
    const r = onTerminal(['deliver', '--help']);
    expect(r.code, r.output).toBe(0);
    const listed = [...new Set([...r.output.matchAll(/(?<![\w-])--([a-z][a-z-]*)/g)].map((m) => m[1]!))];
    expect(listed.length).toBeGreaterThan(5);
    expect(listed).toEqual(expect.arrayContaining(['help', 'version', 'dry-run']));
    for (const opt of listed.filter((o) => !['help', 'version', 'dry-run'].includes(o))) {
      expect(() => parseDeliverFlags([`--${opt}`, 'x']), `--${opt} is listed but refused`).not.toThrow();
    }
  });

  it('other mistakes on a terminal still exit 75, never 64 or 1', () => {
    const r = onTerminal(['--bogus', 'deliver']);
    expect(r.code, r.output).toBe(75);
    expect(r.output).toMatch(/^4\.\d+\.\d+ /);
  });
});
