/**
 * Issue 10, finding 3: what root reads decides what root writes. When mda runs
 * as root, a config (and an admin Sieve script) must be owned by root, not be
 * group- or world-writable, and sit in directories only root can change
 * (OpenSSH's StrictModes); otherwise a user who gets root to run
 * `mda deliver --config ~/evil.toml` chooses where root appends sender text.
 * Log file targets are opened without following a symlink and must be regular
 * files; an unusable log target never costs the message.
 */
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, constants as C, existsSync, mkdirSync, openSync, readFileSync, readSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listDir, runCli, runMda, tempDir } from '../helpers/run-mda.js';

const isRoot = process.geteuid?.() === 0;
if (!isRoot) console.warn('\n*** test/hostile/root-config.test.ts SKIPPED: it must run as root (it checks what root refuses) ***\n');

const NOBODY = 65534;
const MSG = 'From alice@sender.test  Sat Nov 21 23:21:04 2026\nReturn-Path: <alice@sender.test>\nMessage-ID: <$(id>/tmp/pwned)>\n\nhi\n';
const ROOT_SCRIPT = '#!/bin/sh\necho root only\n';

let t: ReturnType<typeof tempDir>;
let md: string;
let victim: string;
beforeEach(() => {
  t = tempDir('mda-root-config-');
  chmodSync(t.dir, 0o755);
  md = join(t.dir, 'Maildir');
  victim = join(t.dir, 'x.sh'); // "/root/x.sh": a file only root may change
  writeFileSync(victim, ROOT_SCRIPT, { mode: 0o700 });
});
afterEach(() => t.cleanup());

/** A fake /dev/log collecting what mda sends (a refused config is logged with the defaults' target, syslog). */
function fakeSyslog(): { path: string; lines: string[]; close(): void } {
  const path = join(t.dir, 'log.sock');
  const unix = createRequire(import.meta.url)('unix-dgram');
  const lines: string[] = [];
  const server = unix.createSocket('unix_dgram', (buf: Buffer) => lines.push(buf.toString()));
  server.bind(path);
  return { path, lines, close: () => server.close() };
}

function writeConfig(body: string, dir = t.dir): string {
  const cfg = join(dir, 'mda.toml');
  writeFileSync(cfg, body, { mode: 0o644 });
  chmodSync(cfg, 0o644);
  return cfg;
}
const logTo = (path: string) => `[log]\ntarget = "file:${path}"\n`;

async function deliverAsRoot(cfg: string, extraEnv: NodeJS.ProcessEnv = {}, args: string[] = []) {
  return runMda(['deliver', '--config', cfg, '--maildir', md, ...args], {
    input: MSG,
    env: { PATH: process.env.PATH, HOME: t.dir, USER: 'root', ...extraEnv },
  });
}

/** Delivers as root with a refused config: 75 + one 4.3.5 line, the victim untouched, the refusal logged. */
async function expectRefused(cfg: string, why: RegExp): Promise<void> {
  const sys = fakeSyslog();
  const r = await deliverAsRoot(cfg, { MDA_SYSLOG_SOCKET: sys.path });
  await new Promise((res) => setTimeout(res, 50));
  sys.close();
  expect(r.code, r.output).toBe(75);
  expect(r.output).toMatch(/^4\.3\.5 [^\n]*\n$/);
  expect(r.output).toMatch(why);
  expect(readFileSync(victim, 'utf8')).toBe(ROOT_SCRIPT);
  expect(listDir(join(md, 'new'))).toEqual([]);
  expect(sys.lines.join('\n')).toMatch(/status=deferred/);
}

describe.skipIf(!isRoot)('a config root would use (finding 3)', () => {
  it('control: a root-owned config in root-owned directories is used (the log target is written)', async () => {
    const log = join(t.dir, 'mda.log');
    const r = await deliverAsRoot(writeConfig(logTo(log)));
    expect(r.output).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(log, 'utf8')).toMatch(/status=delivered/);
  });

  it('a config owned by another user is refused: deferred, nothing appended to root\'s file', async () => {
    const cfg = writeConfig(logTo(victim));
    chownSync(cfg, NOBODY, NOBODY);
    await expectRefused(cfg, /owned by uid 65534/);
  });

  it('a group-writable config is refused', async () => {
    const cfg = writeConfig(logTo(victim));
    chmodSync(cfg, 0o664);
    await expectRefused(cfg, /writable by group/);
  });

  it('a root-owned config in a directory another user owns is refused (they could replace it)', async () => {
    const dir = join(t.dir, 'attacker');
    mkdirSync(dir, { mode: 0o755 });
    chownSync(dir, NOBODY, NOBODY);
    await expectRefused(writeConfig(logTo(victim), dir), /attacker.*owned by uid 65534/);
  });

  it('a root-owned config in a group-writable directory is refused', async () => {
    const dir = join(t.dir, 'shared');
    mkdirSync(dir);
    chmodSync(dir, 0o775);
    await expectRefused(writeConfig(logTo(victim), dir), /shared.*writable by group/);
  });

  it('a compiled copy of a refused config is not used either', async () => {
    const dir = join(t.dir, 'attacker');
    mkdirSync(dir, { mode: 0o755 });
    const cfg = writeConfig(logTo(victim), dir);
    // A compiled copy made while the file was root's, then both handed to the user (same stamp).
    const check = await runCli(['config', 'check', '--config', cfg]);
    expect(check.code, check.stderr).toBe(0);
    for (const p of [dir, cfg, join(dir, '.mda.toml.compiled.json')]) chownSync(p, NOBODY, NOBODY);
    await expectRefused(cfg, /owned by uid 65534/);
  });

  it('mda config check as root refuses a user-owned config and writes no root-owned compiled copy', async () => {
    const dir = join(t.dir, 'attacker');
    mkdirSync(dir, { mode: 0o777 });
    chownSync(dir, NOBODY, NOBODY);
    const cfg = writeConfig(logTo(victim), dir);
    chownSync(cfg, NOBODY, NOBODY);
    const check = await runCli(['config', 'check', '--config', cfg]);
    expect(check.code).not.toBe(0);
    expect(check.stderr).toMatch(/owned by uid 65534/);
    expect(existsSync(join(dir, '.mda.toml.compiled.json'))).toBe(false);
  });
});

describe.skipIf(!isRoot)('log file targets opened by root (finding 3)', () => {
  it('a log target that is a symlink: the file it points to is untouched, and the message is delivered', async () => {
    const link = join(t.dir, 'mda.log');
    symlinkSync(victim, link);
    const r = await deliverAsRoot(writeConfig(logTo(link)));
    expect(r.output).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe(ROOT_SCRIPT);
    expect(listDir(join(md, 'new'))).toHaveLength(1);
  });

  it('a log target that is a FIFO someone reads: nothing is written to it, and the message is delivered', async () => {
    const fifo = join(t.dir, 'mda.log');
    execFileSync('mkfifo', ['-m', '0600', fifo]);
    const reader = openSync(fifo, C.O_RDONLY | C.O_NONBLOCK); // the attacker listening
    try {
      const r = await deliverAsRoot(writeConfig(logTo(fifo)));
      expect(r.output).toBe('');
      expect(r.code).toBe(0);
      expect(listDir(join(md, 'new'))).toHaveLength(1);
      const buf = Buffer.alloc(4096);
      let got = 0;
      try {
        got = readSync(reader, buf, 0, buf.length, null);
      } catch (err) {
        expect((err as NodeJS.ErrnoException).code).toBe('EAGAIN'); // empty, a writer still open: impossible once mda exited, but not a leak
      }
      expect(buf.subarray(0, got).toString()).toBe('');
    } finally {
      closeSync(reader);
    }
  });
});

describe.skipIf(!isRoot)('admin Sieve scripts root would run (finding 3)', () => {
  const DISCARD = 'discard;\n';
  let log: string;
  beforeEach(() => (log = join(t.dir, 'mda.log')));

  function adminScript(where = t.dir, mode = 0o644): string {
    const path = join(where, 'before.sieve');
    writeFileSync(path, DISCARD);
    chmodSync(path, mode);
    return path;
  }
  const sieveConfig = (script: string) => writeConfig(`${logTo(log)}[sieve]\nscript = ""\nbefore = [${JSON.stringify(script)}]\n`);

  it('control: a root-owned admin script runs (discard: nothing stored)', async () => {
    const r = await deliverAsRoot(sieveConfig(adminScript()));
    expect(r.output).toBe('');
    expect(r.code).toBe(0);
    expect(listDir(join(md, 'new'))).toEqual([]);
  });

  it('an admin script owned by another user is refused: the message goes to INBOX, the refusal is logged', async () => {
    const script = adminScript();
    chownSync(script, NOBODY, NOBODY);
    const r = await deliverAsRoot(sieveConfig(script));
    expect(r.output).toBe('');
    expect(r.code).toBe(0);
    expect(listDir(join(md, 'new'))).toHaveLength(1);
    expect(readFileSync(log, 'utf8')).toMatch(/before\.sieve.*owned by uid 65534/);
  });

  it('a group-writable admin script is refused', async () => {
    const r = await deliverAsRoot(sieveConfig(adminScript(t.dir, 0o664)));
    expect(r.code).toBe(0);
    expect(listDir(join(md, 'new'))).toHaveLength(1);
    expect(readFileSync(log, 'utf8')).toMatch(/before\.sieve.*writable by group/);
  });

  it('a root-owned admin script in a directory another user owns is refused', async () => {
    const dir = join(t.dir, 'attacker');
    mkdirSync(dir, { mode: 0o755 });
    chownSync(dir, NOBODY, NOBODY);
    const r = await deliverAsRoot(sieveConfig(adminScript(dir)));
    expect(r.code).toBe(0);
    expect(listDir(join(md, 'new'))).toHaveLength(1);
    expect(readFileSync(log, 'utf8')).toMatch(/attacker.*owned by uid 65534/);
  });

  it('still refused after root has switched to the recipient (root --user nobody)', async () => {
    const home = join(t.dir, 'home');
    mkdirSync(home, { mode: 0o755 });
    chownSync(home, NOBODY, NOBODY);
    const script = adminScript();
    chownSync(script, NOBODY, NOBODY);
    const cfg = sieveConfig(script);
    const maildir = join(home, 'Maildir');
    const r = await runMda(['deliver', '--config', cfg, '--user', 'nobody', '--maildir', maildir], {
      input: MSG,
      env: { PATH: process.env.PATH, HOME: home, USER: 'nobody' },
    });
    expect(r.output).toBe('');
    expect(r.code).toBe(0);
    expect(listDir(join(maildir, 'new'))).toHaveLength(1);
    expect(readFileSync(log, 'utf8')).toMatch(/before\.sieve.*owned by uid 65534/);
  });
});
