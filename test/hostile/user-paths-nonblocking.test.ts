/**
 * Issue 9 finding 1: user-controlled paths that are FIFOs (or other
 * non-regular files) must never stall a delivery. The script, the Sieve cache
 * and the state files under ~/.mda are opened O_NONBLOCK and refused unless
 * regular; a stored message always ends with exit 0 (never by a signal, which
 * makes Postfix retry and store another copy). A symlink the user owns still
 * works. Run `npm run build` first.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listDir, runMda, tempDir } from '../helpers/run-mda.js';

let t: ReturnType<typeof tempDir>;
let home: string;
let md: string;
beforeEach(() => {
  t = tempDir('mda-fifo-');
  home = join(t.dir, 'home');
  md = join(home, 'Maildir');
  mkdirSync(join(home, '.mda'), { recursive: true });
});
afterEach(() => t.cleanup());

const mkfifo = (path: string) => execFileSync('mkfifo', [path]);

/** Absolute paths: as root, `~` would be root's home, not this test's. */
function config(): string {
  const cfg = join(t.dir, 'mda.toml');
  writeFileSync(cfg, `[log]\ntarget = "none"\n[sieve]\nscript = "${join(home, '.dovecot.sieve')}"\nstate_dir = "${join(home, '.mda')}"\n`);
  return cfg;
}

const MESSAGE = 'From: a@example.org\nTo: b@example.test\nSubject: hi\nMessage-ID: <fifo@example.org>\n\nbody\n';

function deliver() {
  return runMda(['deliver', '--config', config(), '--maildir', md, '--deadline', '3s'], {
    input: MESSAGE,
    env: { PATH: process.env.PATH, HOME: home, USER: process.env.USER ?? 'root' },
    hardTimeoutMs: 15_000,
  });
}

describe('a FIFO where mda reads a user file (issue 9 #1)', () => {
  it('a FIFO as the Sieve script: refused at once, stored in INBOX once, exit 0 (not a signal)', async () => {
    mkfifo(join(home, '.dovecot.sieve'));
    const r = await deliver();
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
    expect(r.output).toBe('');
    expect(r.elapsedMs).toBeLessThan(3_000);
    expect(listDir(join(md, 'new'))).toHaveLength(1);
  });

  it('a FIFO as the Sieve cache: the script still runs, exit 0 before the deadline', async () => {
    writeFileSync(join(home, '.dovecot.sieve'), 'require "fileinto"; fileinto "Foo";\n');
    mkfifo(join(home, '.mda', 'sieve-cache.json'));
    const r = await deliver();
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
    expect(r.elapsedMs).toBeLessThan(3_000);
    expect(listDir(join(md, '.Foo', 'new'))).toHaveLength(1);
  });

  it('a FIFO as the duplicate state file: exit 0 before the deadline, one copy', async () => {
    writeFileSync(join(home, '.dovecot.sieve'), 'require "duplicate"; if duplicate { discard; }\n');
    mkfifo(join(home, '.mda', 'sieve-duplicate.log'));
    const r = await deliver();
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
    expect(r.elapsedMs).toBeLessThan(3_000);
    expect(listDir(join(md, 'new'))).toHaveLength(1);
  });

  it('a symlink the user owns (~/.dovecot.sieve -> ~/sieve/main.sieve) still works', async () => {
    mkdirSync(join(home, 'sieve'));
    writeFileSync(join(home, 'sieve', 'main.sieve'), 'require "fileinto"; fileinto "Linked";\n');
    symlinkSync(join(home, 'sieve', 'main.sieve'), join(home, '.dovecot.sieve'));
    const r = await deliver();
    expect(r.code).toBe(0);
    expect(listDir(join(md, '.Linked', 'new'))).toHaveLength(1);
  });
});
