/**
 * mbox delivery through the built CLI, as root delivering for a test account
 * (`mdambox…`, made here): the mboxo bytes, the locks other programs hold
 * (mda's own lock manager in another process, a real `dotlockfile -l`, an
 * fcntl lock and a flock held by other processes) → 75 4.2.0 after the lock
 * timeout, never a hang; unsafe files (symlink, hard link, FIFO, foreign owner)
 * refused with 75; EFBIG (RLIMIT_FSIZE as Postfix's mailbox_size_limit)
 * truncates back; the storage quota; a /var/mail-like directory (2775
 * root:mail, the user not in group mail) where the dotlock goes through
 * dotlockfile; a SIGKILL mid-append repaired by the next delivery.
 * The interop tests with mutt/Dovecot are elsewhere (issue 15's interop part).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync, chownSync, existsSync, linkSync, mkdirSync, readFileSync, statSync, symlinkSync, watch, writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeJournal } from '../../src/mbox/journal-rule.js';
import { MDA, runMda, tempDir, type MdaResult } from '../helpers/run-mda.js';
import { startHolder } from '../helpers/lock-holder.js';

const isRoot = process.getuid?.() === 0;
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const skip = !isRoot ? 'not root' : !has('useradd') ? 'no useradd' : !has('dotlockfile') ? 'no dotlockfile (liblockfile-bin)' : !has('python3') ? 'no python3' : null;
if (skip && process.env.CI) throw new Error(`mbox-deliver prerequisites missing in CI: ${skip}`);

const USER = `mdambox${process.pid % 100000}`;
let uid = 0;
let gid = 0;
let top: ReturnType<typeof tempDir>;
let home: string;
let dir: string;
let mbox: string;
let cfg: string;
const children: ChildProcess[] = [];

const FROM_ = 'From alice@sender.test  Sat Nov 21 23:21:04 2026\n';
const msg = (subject: string, body = 'body\n') => `${FROM_}Return-Path: <alice@sender.test>\nDelivered-To: ${USER}@example.test\nSubject: ${subject}\n\n${body}`;
const FROM_LINE = /^From alice@sender\.test {2}\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/;

beforeAll(() => {
  if (skip) return;
  spawnSync('userdel', [USER], { stdio: 'ignore' });
  spawnSync('groupdel', [USER], { stdio: 'ignore' });
  top = tempDir('mda-mbox-');
  chmodSync(top.dir, 0o755);
  home = join(top.dir, 'home');
  execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', home, '--shell', '/usr/sbin/nologin', USER], { stdio: 'ignore' });
  const ids = execFileSync('id', [USER], { encoding: 'utf8' });
  uid = Number(/uid=(\d+)/.exec(ids)![1]);
  gid = Number(/gid=(\d+)/.exec(ids)![1]);
  mkdirSync(home, { mode: 0o700 });
  chownSync(home, uid, gid);
});
afterAll(() => {
  if (skip) return;
  spawnSync('userdel', [USER], { stdio: 'ignore' });
  spawnSync('groupdel', [USER], { stdio: 'ignore' });
  top.cleanup();
});

let n = 0;
beforeEach(() => {
  if (skip) return;
  dir = join(top.dir, `spool${++n}`);
  mkdirSync(dir, { mode: 0o755 });
  chownSync(dir, uid, gid);
  mbox = join(dir, USER);
  cfg = join(top.dir, `mda${n}.toml`);
  config('');
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function config(extra: string, timeout = '700ms'): void {
  writeFileSync(cfg, `[log]\ntarget = "none"\n[locks]\ntimeout = "${timeout}"\n${extra}\n`);
}

const deliver = (input: string | Buffer, args: string[] = []): Promise<MdaResult> =>
  runMda(['deliver', '--config', cfg, '--user', USER, '--mbox', mbox, ...args], { input, hardTimeoutMs: 15_000 });

/** A file of the user's (or of uid owner), mode 0600, holding `text`. */
function userFile(path: string, text = '', owner = uid): void {
  writeFileSync(path, text, { mode: 0o600 });
  chownSync(path, owner, gid);
}

/** spawnHolder runs a command that prints "held" once it holds its lock, and resolves then. */
async function spawnHolder(cmd: string, args: string[]): Promise<ChildProcess> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('held')) resolve();
    });
    child.stderr!.on('data', (d) => (out += d));
    child.on('exit', () => reject(new Error(`holder exited: ${out}`)));
  });
  return child;
}

const PY_LOCK = (how: 'lockf' | 'flock') =>
  `import fcntl, sys, time\nf = open(sys.argv[1], 'a')\nfcntl.${how}(f, fcntl.LOCK_EX)\nprint('held', flush=True)\ntime.sleep(60)\n`;

describe.skipIf(skip !== null)('mbox delivery (root, test account)', () => {
  it('appends mboxo entries: From_ line, the message with >From quoting, one empty line; creates the mbox 0600 owned by the user', async () => {
    const a = await deliver(msg('one', 'From here\n>From there\nlast line without end'));
    expect(a.code, a.output).toBe(0);
    expect(a.output).toBe('');
    const b = await deliver(msg('two'));
    expect(b.code, b.output).toBe(0);
    const st = statSync(mbox);
    expect([st.uid, st.mode & 0o777]).toEqual([uid, 0o600]);
    const lines = readFileSync(mbox, 'latin1').split('\n');
    expect(lines[0]).toMatch(FROM_LINE);
    expect(lines.slice(1, 10)).toEqual([
      'Return-Path: <alice@sender.test>', `Delivered-To: ${USER}@example.test`, 'Subject: one', '',
      '>From here', '>From there', 'last line without end', '', lines[9],
    ]);
    expect(lines[9]).toMatch(FROM_LINE);
    expect(lines.slice(10)).toEqual(['Return-Path: <alice@sender.test>', `Delivered-To: ${USER}@example.test`, 'Subject: two', '', 'body', '', '']);
    expect(existsSync(`${mbox}.lock`)).toBe(false);
    expect(existsSync(join(dir, `.${USER}.mda-journal`))).toBe(false);
  });

  it('8 concurrent deliveries: 8 whole entries, none interleaved', async () => {
    config('', '15s');
    const bodies = Array.from({ length: 8 }, (_, i) => `${String(i).repeat(20_000)}\n`);
    const rs = await Promise.all(bodies.map((b, i) => deliver(msg(`c${i}`, b))));
    for (const r of rs) expect(r.code, r.output).toBe(0);
    const entries = readFileSync(mbox, 'latin1').split(/\n(?=From alice@sender\.test {2})/);
    expect(entries).toHaveLength(8);
    const seen = entries.map((e) => {
      const m = /\nSubject: c(\d)\n\n(\d+)\n\n?$/.exec(e);
      expect(m, e.slice(0, 200)).not.toBeNull();
      expect(m![2]).toBe(m![1]!.repeat(20_000));
      return m![1];
    });
    expect(seen.sort()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7']);
  });

  it('the null sender is MAILER-DAEMON in the From_ line', async () => {
    const r = await deliver('From MAILER-DAEMON  Sat Nov 21 23:21:04 2026\nReturn-Path: <>\nSubject: bounce\n\nx\n', ['--sender', '']);
    expect(r.code, r.output).toBe(0);
    expect(readFileSync(mbox, 'latin1')).toMatch(/^From MAILER-DAEMON {2}\w{3} /);
  });

  it('a state directory the user cannot make (home /nonexistent): 75, and the line names the mbox spool and [sieve] state_dir', async () => {
    config(`[sieve]\nstate_dir = "/nonexistent/mda-state-%u"`);
    const r = await deliver(msg('no state'));
    expect(r.code, r.output).toBe(75);
    expect(r.output).toMatch(/^4\.2\.0 .*mbox spool \/nonexistent\/mda-state-mdambox\d+\/mbox-spool cannot be made \(E[A-Z]+\): set \[sieve\] state_dir/);
    expect(existsSync(mbox)).toBe(false);
  });

  describe('a lock held by another program: 75 with 4.2.0 after the lock timeout, never a hang', () => {
    const expectBusy = (r: MdaResult, before: string) => {
      expect(r.code, r.output).toBe(75);
      expect(r.output).toMatch(/^4\.2\.0 mailbox busy/);
      expect(r.elapsedMs).toBeGreaterThanOrEqual(600);
      expect(readFileSync(mbox, 'latin1')).toBe(before);
    };

    it("FILE.lock held by mda's lock manager in another process", async () => {
      userFile(mbox, 'x');
      const h = await startHolder({ sets: [[{ kind: 'mbox-dotlock', path: `${mbox}.lock` }]], holdMs: 8_000 });
      await h.held;
      expectBusy(await deliver(msg('busy')), 'x');
      h.child.kill('SIGKILL');
    });

    it('FILE.lock held by a real `dotlockfile -l` (liblockfile)', async () => {
      userFile(mbox, 'x');
      execFileSync('dotlockfile', ['-l', '-r', '0', `${mbox}.lock`]);
      try {
        expectBusy(await deliver(msg('busy')), 'x');
      } finally {
        execFileSync('dotlockfile', ['-u', `${mbox}.lock`]);
      }
      const r = await deliver(msg('after'));
      expect(r.code, r.output).toBe(0);
    });

    it('an fcntl lock (lockf) on the mbox', async () => {
      userFile(mbox, 'x');
      const h = await spawnHolder('python3', ['-c', PY_LOCK('lockf'), mbox]);
      expectBusy(await deliver(msg('busy')), 'x');
      h.kill('SIGKILL');
      await new Promise((r) => h.once('exit', r));
      expect((await deliver(msg('after'))).code).toBe(0);
    });

    it('a flock on the mbox, with "flock" in mbox_locks', async () => {
      config('mbox_locks = ["dotlock", "fcntl", "flock"]');
      userFile(mbox, 'x');
      const h = await spawnHolder('python3', ['-c', PY_LOCK('flock'), mbox]);
      expectBusy(await deliver(msg('busy')), 'x');
      h.kill('SIGKILL');
    });

    it('a flock is not waited for without "flock" in mbox_locks (the default: dotlock, fcntl)', async () => {
      userFile(mbox, 'x');
      const h = await spawnHolder('python3', ['-c', PY_LOCK('flock'), mbox]);
      const r = await deliver(msg('ok'));
      expect(r.code, r.output).toBe(0);
      h.kill('SIGKILL');
    });

    it('a stale FILE.lock (older than mbox_dotlock_stale, no live holder) is broken', async () => {
      config('mbox_dotlock_stale = "1s"');
      userFile(mbox, 'x');
      userFile(`${mbox}.lock`, '999999\n');
      const old = Date.now() / 1000 - 60;
      spawnSync('touch', ['-d', `@${old}`, `${mbox}.lock`]);
      const r = await deliver(msg('after stale'));
      expect(r.code, r.output).toBe(0);
    });

    it('an old FILE.lock whose holder lives is not broken', async () => {
      config('mbox_dotlock_stale = "1s"');
      userFile(mbox, 'x');
      userFile(`${mbox}.lock`, `${process.pid}\n`);
      spawnSync('touch', ['-d', `@${Date.now() / 1000 - 60}`, `${mbox}.lock`]);
      expectBusy(await deliver(msg('busy')), 'x');
    });
  });

  describe('unsafe mboxes: refused with 75 and a 4.x.x line, nothing written', () => {
    it('a symlink', async () => {
      const victim = join(dir, 'victim');
      userFile(victim, 'v');
      symlinkSync(victim, mbox);
      const r = await deliver(msg('s'));
      expect(r.code, r.output).toBe(75);
      expect(r.output).toMatch(/^4\.2\.0 mailbox refused as unsafe: .*symbolic link/);
      expect(readFileSync(victim, 'latin1')).toBe('v');
    });

    it('a hard link to another file', async () => {
      const other = join(dir, 'other');
      userFile(other, 'o');
      linkSync(other, mbox);
      const r = await deliver(msg('h'));
      expect(r.code, r.output).toBe(75);
      expect(r.output).toMatch(/^4\.2\.0 mailbox refused as unsafe: .*2 hard links/);
      expect(readFileSync(other, 'latin1')).toBe('o');
    });

    it('a FIFO (no hang)', async () => {
      execFileSync('mkfifo', ['-m', '0600', mbox]);
      chownSync(mbox, uid, gid);
      const r = await deliver(msg('f'));
      expect(r.code, r.output).toBe(75);
      expect(r.output).toMatch(/^4\.2\.0 mailbox refused as unsafe: .*not a regular file/);
    });

    it("a file of another owner (root's) that the user can write", async () => {
      writeFileSync(mbox, 'r', { mode: 0o666 });
      chmodSync(mbox, 0o666);
      const r = await deliver(msg('o'));
      expect(r.code, r.output).toBe(75);
      expect(r.output).toMatch(/^4\.2\.0 mailbox refused as unsafe: .*owned by uid 0/);
      expect(readFileSync(mbox, 'latin1')).toBe('r');
    });
  });

  describe('failures truncate back to the size before the append', () => {
    it('EFBIG: the mbox reaches RLIMIT_FSIZE (Postfix mailbox_size_limit) mid-append → 75, file unchanged', async () => {
      const blocks = 40; // 20 KiB in 512-byte blocks
      const limit = blocks * 512;
      const before = 'From x@y  Sat Nov 21 23:21:04 2026\nSubject: old\n\n' + 'o'.repeat(limit - 100) + '\n\n';
      userFile(mbox, before);
      const big = msg('big', 'z'.repeat(5000) + '\n');
      const r = await new Promise<MdaResult>((resolve) => {
        const started = performance.now();
        const child = spawn('/bin/sh', ['-c', `trap '' XFSZ; ulimit -f ${blocks}; exec "$@"`, 'sh', process.execPath, MDA, 'deliver', '--config', cfg, '--user', USER, '--mbox', mbox]);
        let output = '';
        child.stdout.on('data', (d) => (output += d));
        child.stderr.on('data', (d) => (output += d));
        child.on('close', (code, signal) => resolve({ code, signal, output, elapsedMs: performance.now() - started }));
        child.stdin.end(big);
      });
      expect(r.signal).toBeNull();
      expect(r.code, r.output).toBe(75);
      expect(r.output).toMatch(/^4\.2\.2 mailbox full: .*file size limit/);
      expect(readFileSync(mbox, 'latin1')).toBe(before);
    });

    it('ENOSPC mid-append (a full filesystem) → 75 4.3.1, file unchanged', async () => {
      const fs = join(dir, 'small');
      mkdirSync(fs);
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=64k,uid=${uid},gid=${gid},mode=0755`, 'tmpfs', fs]);
      try {
        const box = join(fs, 'box');
        const before = 'From x@y  Sat Nov 21 23:21:04 2026\nSubject: old\n\n' + 'o'.repeat(40_000) + '\n\n';
        userFile(box, before);
        const r = await runMda(['deliver', '--config', cfg, '--user', USER, '--mbox', box], { input: msg('big', 'z'.repeat(60_000) + '\n') });
        expect(r.code, r.output).toBe(75);
        expect(r.output).toMatch(/^4\.3\.1 mail system full/);
        expect(readFileSync(box, 'latin1')).toBe(before);
        expect(existsSync(join(fs, '.box.mda-journal'))).toBe(false);
      } finally {
        spawnSync('umount', [fs]);
      }
    });

    it('SIGTERM mid-append → 75, truncated back, no lock left', async () => {
      config('[delivery]\nmax_message_size = "300M"', '8s');
      const first = 'From x@y  Sat Nov 21 23:21:04 2026\nSubject: first\n\nok\n\n';
      userFile(mbox, first);
      const huge = msg('huge', ('From line to quote\n' + 'y'.repeat(200) + '\n').repeat(400_000));
      const watcher = watch(dir);
      let sent = false;
      const r = await new Promise<MdaResult>((resolve) => {
        const child = spawn(process.execPath, [MDA, 'deliver', '--config', cfg, '--user', USER, '--mbox', mbox]);
        children.push(child);
        watcher.on('change', () => {
          if (!sent && child.exitCode === null && statSync(mbox).size > first.length) {
            child.kill('SIGTERM');
            sent = true;
          }
        });
        let output = '';
        child.stdout.on('data', (d) => (output += d));
        child.stderr.on('data', (d) => (output += d));
        child.stdin.on('error', () => undefined);
        child.on('close', (code, signal) => resolve({ code, signal, output, elapsedMs: 0 }));
        child.stdin.end(huge);
      });
      watcher.close();
      expect(sent).toBe(true);
      expect(r.code, r.output).toBe(75);
      expect(r.output).toMatch(/^4\.3\.0 delivery interrupted/);
      expect(readFileSync(mbox, 'latin1')).toBe(first);
      expect(existsSync(`${mbox}.lock`)).toBe(false);
      expect(existsSync(join(dir, `.${USER}.mda-journal`))).toBe(false);
    }, 60_000);

    it('over the storage quota: bounce (5.2.2) by default, 4.2.2 with over_quota = "defer"; the file unchanged', async () => {
      userFile(mbox, 'x'.repeat(900));
      config('[quota]\nstorage = 1000');
      const r = await deliver(msg('q'));
      expect(r.code, r.output).toBe(77);
      expect(r.output).toMatch(/^5\.2\.2 Mailbox full: .*limit of 1000/);
      config('[quota]\nstorage = 1000\nover_quota = "defer"');
      const d = await deliver(msg('q'));
      expect(d.code, d.output).toBe(75);
      expect(d.output).toMatch(/^4\.2\.2 /);
      expect(readFileSync(mbox, 'latin1')).toBe('x'.repeat(900));
    });
  });

  describe('a /var/mail-like spool: 2775 root:mail, the user not in group mail', () => {
    beforeEach(() => {
      chownSync(dir, 0, Number(execFileSync('getent', ['group', 'mail'], { encoding: 'utf8' }).split(':')[2]));
      chmodSync(dir, 0o2775);
    });

    it('delivers through dotlockfile (mda cannot create FILE.lock itself) and leaves no lock; the journal lives in the state dir', async () => {
      userFile(mbox, '');
      const r = await deliver(msg('spool'));
      expect(r.code, r.output).toBe(0);
      expect(readFileSync(mbox, 'latin1')).toMatch(/Subject: spool\n\nbody\n\n$/);
      expect(existsSync(`${mbox}.lock`)).toBe(false);
    });

    it('waits for a dotlock held there and defers with 4.2.0', async () => {
      userFile(mbox, 'x');
      execFileSync('dotlockfile', ['-l', '-r', '0', `${mbox}.lock`]);
      try {
        const r = await deliver(msg('busy'));
        expect(r.code, r.output).toBe(75);
        expect(r.output).toMatch(/^4\.2\.0 mailbox busy/);
      } finally {
        execFileSync('dotlockfile', ['-u', `${mbox}.lock`]);
      }
      expect(readFileSync(mbox, 'latin1')).toBe('x');
    });

    it('a missing mbox there is deferred with a line that says so', async () => {
      const r = await deliver(msg('missing'));
      expect(r.code, r.output).toBe(75);
      expect(r.output).toMatch(/^4\.2\.0 mbox missing and cannot be created: .*does not exist/);
    });

    it('without dotlockfile installed: 75 naming the missing helper', async () => {
      config('dotlockfile = "/nonexistent/dotlockfile"');
      userFile(mbox, '');
      const r = await deliver(msg('nohelper'));
      expect(r.code, r.output).toBe(75);
      expect(r.output).toMatch(/^4\.2\.0 .*dotlockfile.*liblockfile-bin/);
    });
  });

  describe('a delivery killed mid-append is repaired by the next one', () => {
    const journal = () => join(dir, `.${USER}.mda-journal`);

    it('a journal and partial tail as a SIGKILL leaves them: the next delivery cuts the tail, then appends', async () => {
      const first = 'From x@y  Sat Nov 21 23:21:04 2026\nSubject: first\n\nok\n\n';
      const head = Buffer.from('From alice@sender.test  Sat Nov 21 23:21:05 2026\n');
      const partial = Buffer.concat([head, Buffer.from('Subject: cut\n\npart')]);
      userFile(mbox, first);
      writeFileSync(mbox, partial, { flag: 'a' });
      const st = statSync(mbox);
      userFile(journal(), encodeJournal({ dev: st.dev, ino: st.ino, offset: first.length, length: partial.length + 100, head }).toString('latin1'));
      const r = await deliver(msg('next'));
      expect(r.code, r.output).toBe(0);
      const text = readFileSync(mbox, 'latin1');
      expect(text.startsWith(first + 'From alice@sender.test  ')).toBe(true);
      expect(text).not.toContain('Subject: cut');
      expect(text).toMatch(/Subject: next\n\nbody\n\n$/);
      expect(existsSync(journal())).toBe(false);
    });

    it('a journal that does not match (the file rewritten since) is dropped, the file left alone', async () => {
      const first = 'From x@y  Sat Nov 21 23:21:04 2026\nSubject: first\n\nok\n\n';
      userFile(mbox, first);
      const st = statSync(mbox);
      const head = Buffer.from('From alice@sender.test  Sat Nov 21 23:21:05 2026\n');
      userFile(journal(), encodeJournal({ dev: st.dev, ino: st.ino, offset: 10, length: 5000, head }).toString('latin1'));
      const r = await deliver(msg('next'));
      expect(r.code, r.output).toBe(0);
      expect(readFileSync(mbox, 'latin1').startsWith(first)).toBe(true);
      expect(existsSync(journal())).toBe(false);
    });

    it("a journal name planted as a hard link to another of the user's files: refused (75), that file not cut", async () => {
      const other = join(dir, 'precious');
      userFile(other, 'keep me');
      linkSync(other, journal());
      userFile(mbox, '');
      const r = await deliver(msg('x'));
      expect(r.code, r.output).toBe(75);
      expect(r.output).toMatch(/^4\.2\.0 mailbox refused as unsafe: .*mda-journal/);
      expect(readFileSync(other, 'latin1')).toBe('keep me');
      expect(readFileSync(mbox, 'latin1')).toBe('');
    });

    it('a real SIGKILL mid-append: afterwards the mbox holds only whole messages', async () => {
      // The killed delivery's FILE.lock names a dead pid: broken once 2 s old, so wait longer than that.
      config('[delivery]\nmax_message_size = "300M"', '8s');
      const first = 'From x@y  Sat Nov 21 23:21:04 2026\nSubject: first\n\nok\n\n';
      userFile(mbox, first);
      const huge = msg('huge', ('From line to quote\n' + 'y'.repeat(200) + '\n').repeat(400_000)); // ~88 MB
      let killedWithJournal = false;
      const watcher = watch(dir);
      const r = await new Promise<MdaResult>((resolve) => {
        const started = performance.now();
        const child = spawn(process.execPath, [MDA, 'deliver', '--config', cfg, '--user', USER, '--mbox', mbox]);
        children.push(child);
        // Killed once bytes of the entry are in the mbox and the journal is there: mid-append.
        watcher.on('change', () => {
          if (!killedWithJournal && child.exitCode === null && existsSync(journal()) && statSync(mbox).size > first.length) {
            child.kill('SIGKILL');
            killedWithJournal = true;
          }
        });
        let output = '';
        child.stdout.on('data', (d) => (output += d));
        child.stderr.on('data', (d) => (output += d));
        child.stdin.on('error', () => undefined);
        child.on('close', (code, signal) => resolve({ code, signal, output, elapsedMs: performance.now() - started }));
        child.stdin.end(huge);
      });
      watcher.close();
      expect(r.signal, r.output).toBe('SIGKILL');
      expect(killedWithJournal).toBe(true);
      const cut = statSync(mbox).size;
      expect(cut).toBeGreaterThan(first.length); // the kill left a partial entry behind
      expect(existsSync(journal())).toBe(true);
      const next = await deliver(msg('next'));
      expect(next.code, next.output).toBe(0);
      const text = readFileSync(mbox, 'latin1');
      expect(text.startsWith(first + 'From alice@sender.test  ')).toBe(true);
      expect(text).not.toContain('Subject: huge');
      expect(text).toMatch(/Subject: next\n\nbody\n\n$/);
      expect(existsSync(`${mbox}.lock`)).toBe(false);
    }, 60_000);
  });

  describe('Sieve with an mbox inbox', () => {
    const script = (text: string) => {
      const d = join(home, '.mda');
      mkdirSync(d, { recursive: true, mode: 0o700 });
      chownSync(d, uid, gid);
      userFile(join(d, 'filter.sieve'), text);
    };
    afterEach(() => spawnSync('rm', ['-rf', join(home, '.mda'), join(home, 'mail'), join(home, 'Maildir')]));

    it('fileinto goes to an mbox file under mbox_folders, keep to the inbox mbox', async () => {
      config(`[delivery]\nmbox_folders = "~/mail"`);
      script('require "fileinto";\nfileinto "Lists.Debian";\nkeep;\n');
      const r = await deliver(msg('sieve'));
      expect(r.code, r.output).toBe(0);
      const folder = join(home, 'mail', 'Lists', 'Debian');
      expect(readFileSync(folder, 'latin1')).toMatch(/^From alice@sender\.test {2}.*\nSubject: sieve\n\nbody\n\n$/s);
      expect(readFileSync(mbox, 'latin1')).toMatch(/Subject: sieve\n\nbody\n\n$/);
      expect(statSync(folder).uid).toBe(uid);
      expect(existsSync(join(home, 'Maildir'))).toBe(false);
    });

    it('with a Maildir of the user\'s own (--maildir), fileinto goes to its Maildir++ folder and the inbox stays the mbox', async () => {
      config(`[delivery]\nmbox_folders = "~/mail"`);
      script('require "fileinto";\nfileinto "Lists";\n');
      userFile(mbox, '');
      const r = await deliver(msg('to maildir'), ['--maildir', join(home, 'Maildir')]);
      expect(r.code, r.output).toBe(0);
      const news = spawnSync('ls', [join(home, 'Maildir', '.Lists', 'new')], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
      expect(news).toHaveLength(1);
      expect(readFileSync(mbox, 'latin1')).toBe('');
      expect(existsSync(join(home, 'mail'))).toBe(false);
    });
  });

  it('without the native fs-ext: "fcntl" in mbox_locks defers with 4.3.0 (never an unlocked append); a dotlock-only config still delivers', async () => {
    const app = join(top.dir, 'app-without-fs-ext');
    const { copyRuntimeTree } = (await import('../../scripts/runtime-tree.mjs')) as { copyRuntimeTree: (repo: string, dest: string) => string[] };
    copyRuntimeTree(join(import.meta.dirname, '..', '..'), app);
    spawnSync('rm', ['-rf', join(app, 'node_modules', 'fs-ext')]);
    chmodSync(app, 0o755);
    userFile(mbox, '');
    const run = () => runMda(['deliver', '--config', cfg, '--user', USER, '--mbox', mbox], { input: msg('no addon'), hardTimeoutMs: 15_000 });
    const viaCopy = async () => {
      const r = await new Promise<MdaResult>((resolve) => {
        const child = spawn(process.execPath, [join(app, 'bin', 'mda'), 'deliver', '--config', cfg, '--user', USER, '--mbox', mbox]);
        let output = '';
        child.stdout.on('data', (d) => (output += d));
        child.stderr.on('data', (d) => (output += d));
        child.on('close', (code, signal) => resolve({ code, signal, output, elapsedMs: 0 }));
        child.stdin.end(msg('no addon'));
      });
      return r;
    };
    const r = await viaCopy();
    expect(r.code, r.output).toBe(75);
    expect(r.output).toMatch(/^4\.3\.0 mbox locking unavailable: .*fs-ext/);
    expect(readFileSync(mbox, 'latin1')).toBe('');
    expect(existsSync(`${mbox}.lock`)).toBe(false);
    config('mbox_locks = ["dotlock"]');
    const ok = await viaCopy();
    expect(ok.code, ok.output).toBe(0);
    expect((await run()).code).toBe(0); // and this checkout's build, with fs-ext, as a control
  });

  it('--mbox relative to a missing directory: 75, never exit 1', async () => {
    const r = await runMda(['deliver', '--config', cfg, '--user', USER, '--mbox', join(dir, 'no', 'such', 'mbox')], { input: msg('x') });
    expect(r.code, r.output).toBe(75);
    expect(r.output).toMatch(/^4\./);
  });
});
