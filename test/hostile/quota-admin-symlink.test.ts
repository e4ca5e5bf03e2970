/**
 * Issue 10 finding 1: root's `mda quota recalc|report` must not be turned
 * against another user by symlinks in a user's Maildir. Needs root and two
 * unprivileged system users (created here with useradd, removed afterwards):
 * - the attacker points ~/Maildir at a tree with 150,000 unsized files and,
 *   once the recount has started (its maildirsize.lock exists), swaps the link
 *   to the victim's Maildir: the victim's maildirsize must not be written;
 * - the attacker's cur/ is a symlink to the victim's new/: the victim's
 *   messages must not be counted (not in the report, not in a maildirsize).
 * Run `npm run build` first.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lchownSync, mkdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MDA, runCli, tempDir } from '../helpers/run-mda.js';

const isRoot = process.getuid?.() === 0;
const hasUseradd = ((): boolean => {
  try {
    execFileSync('sh', ['-c', 'command -v useradd && command -v userdel'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!isRoot || !hasUseradd) console.warn(`\n*** SKIPPED quota-admin-symlink: ${isRoot ? 'no useradd' : 'needs root'} ***\n`);

interface Sys {
  name: string;
  uid: number;
  gid: number;
}
const ATTACKER = 'mdaq10atk';
const VICTIM = 'mdaq10vic';
const users: Record<string, Sys> = {};

function ensureUser(name: string): Sys {
  try {
    execFileSync('getent', ['passwd', name], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', '--user-group', '--shell', '/usr/sbin/nologin', name], { stdio: 'ignore' });
  }
  const f = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).split(':');
  return { name, uid: Number(f[2]), gid: Number(f[3]) };
}

let t: ReturnType<typeof tempDir>;
let cfg: string;
const home = (u: string): string => join(t.dir, 'home', u);

function maildir(path: string, owner: Sys, messages: number, mode = 0o700): void {
  for (const d of ['cur', 'new', 'tmp']) mkdirSync(join(path, d), { recursive: true });
  for (let i = 0; i < messages; i++) writeFileSync(join(path, 'new', `${2000 + i}.M1P1.host,S=1000`), '');
  execFileSync('chown', ['-R', `${owner.uid}:${owner.gid}`, path]);
  chmodSync(path, mode);
  for (const d of ['cur', 'new', 'tmp']) chmodSync(join(path, d), mode);
}

describe.skipIf(!isRoot || !hasUseradd)('root quota commands and a hostile user (issue 10 #1)', () => {
  beforeAll(() => {
    users.attacker = ensureUser(ATTACKER);
    users.victim = ensureUser(VICTIM);
  });
  afterAll(() => {
    for (const n of [ATTACKER, VICTIM]) {
      try {
        execFileSync('userdel', [n], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  });
  beforeEach(() => {
    t = tempDir('mda-qswap-');
    chmodSync(t.dir, 0o755); // the users must reach their homes, as under /home
    cfg = join(t.dir, 'mda.toml');
    writeFileSync(cfg, '[log]\ntarget = "none"\n[quota]\nstorage = "100M"\n');
    mkdirSync(join(t.dir, 'home'), { mode: 0o755 });
    for (const u of [users.attacker!, users.victim!]) {
      mkdirSync(home(u.name), { mode: 0o755 });
      chownSync(home(u.name), u.uid, u.gid);
    }
  });
  afterEach(() => t.cleanup());

  it('a symlink swapped to the victim during the recount: the victim’s maildirsize is not written', async () => {
    const atk = users.attacker!;
    const vic = users.victim!;
    const victimMd = join(home(vic.name), 'Maildir');
    maildir(victimMd, vic, 3);
    // The attacker's slow tree: 150,000 names without ,S= (each one lstat()ed).
    const big = join(home(atk.name), 'big');
    for (const d of ['cur', 'new', 'tmp']) mkdirSync(join(big, d), { recursive: true });
    for (let i = 0; i < 150_000; i++) writeFileSync(join(big, 'cur', `m${i}`), '');
    execFileSync('chown', ['-R', `${atk.uid}:${atk.gid}`, big]);
    const link = join(home(atk.name), 'Maildir');
    symlinkSync(big, link);
    lchownSync(link, atk.uid, atk.gid);

    const child = spawn(process.execPath, [MDA, 'quota', 'recalc', '--config', cfg, '--maildir-glob', join(t.dir, 'home', '*', 'Maildir'), '--user', atk.name], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const closed = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    // Swap the link during the recount: its lock is taken just before the checks and the count
    // starts; 150,000 lstat()s take about a second, so 300 ms after the lock the count is under way.
    let swapped = false;
    let lockSeenAt = 0;
    const poll = setInterval(() => {
      if (swapped) return;
      if (lockSeenAt === 0) {
        if (existsSync(join(big, 'maildirsize.lock'))) lockSeenAt = Date.now();
        return;
      }
      if (Date.now() - lockSeenAt < 300) return;
      const tmpLink = join(home(atk.name), 'Maildir.new');
      symlinkSync(victimMd, tmpLink);
      lchownSync(tmpLink, atk.uid, atk.gid);
      renameSync(tmpLink, link);
      swapped = true;
    }, 1);
    const hard = setTimeout(() => child.kill('SIGKILL'), 90_000);
    const code = await closed;
    clearInterval(poll);
    clearTimeout(hard);
    expect(swapped, `the swap never happened; output: ${out}`).toBe(true);
    expect(code, out).not.toBeNull();
    const victimFile = join(victimMd, 'maildirsize');
    if (existsSync(victimFile)) {
      const st = statSync(victimFile);
      expect(st.uid).toBe(vic.uid);
      expect(readFileSync(victimFile, 'utf8')).not.toMatch(/150000/);
    }
    // The attacker's own tree got its count, as the attacker.
    const own = statSync(join(big, 'maildirsize'), { throwIfNoEntry: false });
    if (own) expect(own.uid).toBe(atk.uid);
  }, 180_000);

  it('cur -> the victim’s new/: the victim’s messages are counted nowhere', async () => {
    const atk = users.attacker!;
    const vic = users.victim!;
    const victimMd = join(home(vic.name), 'Maildir');
    // Readable by all: only the refusal to follow the link keeps the count out, not permissions.
    maildir(victimMd, vic, 3, 0o755);
    const atkMd = join(home(atk.name), 'Maildir');
    for (const d of ['new', 'tmp']) mkdirSync(join(atkMd, d), { recursive: true });
    symlinkSync(join(victimMd, 'new'), join(atkMd, 'cur'));
    execFileSync('chown', ['-R', '-h', `${atk.uid}:${atk.gid}`, atkMd]);

    const glob = join(t.dir, 'home', '*', 'Maildir');
    const report = await runCli(['quota', 'report', '--config', cfg, '--maildir-glob', glob, '--format', 'json'], { hardTimeoutMs: 60_000 });
    const rows = JSON.parse(report.stdout) as { user: string; messages: number | null; status: string }[];
    const mine = rows.find((r) => r.user === atk.name);
    expect(mine?.messages ?? null, report.stdout + report.stderr).not.toBe(3);
    expect(rows.find((r) => r.user === vic.name)?.messages).toBe(3);

    await runCli(['quota', 'recalc', '--config', cfg, '--maildir-glob', glob, '--user', atk.name], { hardTimeoutMs: 60_000 });
    const file = join(atkMd, 'maildirsize');
    if (existsSync(file)) expect(readFileSync(file, 'utf8')).not.toMatch(/^3000 3$/m);
  }, 120_000);
});
