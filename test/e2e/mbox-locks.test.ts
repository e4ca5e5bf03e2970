/**
 * Issue 15: the locks other programs hold on an mbox stop `mda deliver --mbox`.
 * Holders: Debian's dotlockfile (liblockfile-bin), and a stand-in for Dovecot
 * (test/fixtures/mbox-lock-holder.py: MBOX.lock the way Dovecot's dotlock code
 * makes it, "pid:host", then an fcntl write lock; or only fcntl, or flock),
 * and a real Dovecot: `doveadm fetch` on a 40 MB mbox whose output is not read
 * yet, so it stops mid-fetch holding its fcntl read lock (mbox_read_locks).
 * Held past [locks] timeout: exit 75 with `4.2.0 ...` and nothing written;
 * released while mda waits: mda delivers. flock is taken only when
 * [locks] mbox_locks lists it.
 *
 * No timed assertion: "mda waited" is shown by the mbox being unchanged while
 * the lock was held (checked just before the release), "never a hang" by the
 * exit code within the helper's hard timeout.
 * Runs as root (mda delivers as the test account mdatest); skipped with a warning when
 * dotlockfile or python3 is missing or not root, except in CI (CI=true) or
 * with MDA_E2E_REQUIRED=1.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runMda, tempDir, type MdaResult } from '../helpers/run-mda.js';
import { DOTLOCKFILE, DOVEADM, doveadm, dovecotConfig, mboxUser, PYTHON, type MboxUser } from '../helpers/mbox-readers.js';

const HOLDER = fileURLToPath(new URL('../fixtures/mbox-lock-holder.py', import.meta.url));
const isRoot = process.getuid?.() === 0;
const missing = [...(DOTLOCKFILE ? [] : ['dotlockfile (liblockfile-bin)']), ...(DOVEADM ? [] : ['doveadm (dovecot-core)']), ...(PYTHON ? [] : ['python3']), ...(isRoot ? [] : ['root'])];
const required = process.env.CI === 'true' || process.env.MDA_E2E_REQUIRED === '1';
if (missing.length && !required) console.warn(`\n*** SKIPPED test/e2e/mbox-locks.test.ts: missing ${missing.join(', ')} ***\n`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const message = (n: string) => `From alice@sender.test  Sun Nov 22 00:00:01 2026\nReturn-Path: <alice@sender.test>\nDelivered-To: nobody@example.test\nSubject: ${n}\nMessage-ID: <${n}@sender.test>\n\nbody of ${n}\n`;

describe.skipIf(missing.length > 0 && !required)('mbox locks held by other programs: mda waits, then defers 4.2.0 or delivers', () => {
  let U: MboxUser;
  let t: ReturnType<typeof tempDir>;
  let spool = '';
  let mbox = '';
  let n = 0;
  const SEED = message('seed');

  beforeAll(() => {
    expect(missing, 'prerequisites (required here)').toEqual([]);
    U = mboxUser();
    t = tempDir('mda-mbox-locks-');
    chmodSync(t.dir, 0o755);
  });
  afterAll(() => t?.cleanup());
  beforeEach(() => {
    // a fresh spool per test: nobody's folder, an mbox with one message in it (fcntl needs the file)
    spool = join(t.dir, `spool-${++n}`);
    mkdirSync(spool);
    chownSync(spool, U.uid, U.gid);
    mbox = join(spool, 'nobody');
    writeFileSync(mbox, `From seed@sender.test  Sun Nov 22 00:00:00 2026\n${SEED.slice(SEED.indexOf('\n') + 1)}\n`, { mode: 0o600 });
    chownSync(mbox, U.uid, U.gid);
  });

  function config(lines: string[]): string {
    const file = join(t.dir, `mda-${n}.toml`);
    writeFileSync(file, ['[log]', 'target = "none"', '[locks]', ...lines, ''].join('\n'), { mode: 0o644 });
    return file;
  }
  const deliver = (cfg: string, name: string): Promise<MdaResult> =>
    runMda(['deliver', '--config', cfg, '--user', U.name, '--mbox', mbox], {
      input: message(name),
      env: { PATH: '/usr/bin:/bin', HOME: spool, USER: 'root' },
      hardTimeoutMs: 60_000,
    });

  /** holder - mbox-lock-holder.py with these kinds; resolves once it holds them. */
  async function holder(kinds: string[]): Promise<{ child: ChildProcess; release: () => Promise<void> }> {
    const child = spawn(PYTHON!, [HOLDER, mbox, ...kinds], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('close', r));
    for (let i = 0; !out.includes('held'); i++) {
      if (child.exitCode !== null || i > 400) throw new Error(`lock holder did not take ${kinds.join('+')}: ${out}`);
      await sleep(25);
    }
    return {
      child,
      release: async () => {
        child.stdin!.end();
        const code = await exited;
        if (code !== 0) throw new Error(`lock holder exited ${code}: ${out}`);
      },
    };
  }

  const before = () => readFileSync(mbox);
  const expectDeferred = (r: MdaResult, file: Buffer) => {
    expect(r.code, r.output).toBe(75);
    expect(r.output).toMatch(/^4\.2\.0 .*\block\b/); // the lock, not some other 4.2.0
    expect(r.output.trimEnd().split('\n')).toHaveLength(1);
    expect(readFileSync(mbox).equals(file), 'nothing written while the lock was held').toBe(true);
  };
  const expectDelivered = (r: MdaResult, name: string) => {
    expect([r.code, r.output]).toEqual([0, '']);
    const text = readFileSync(mbox, 'latin1');
    expect(text.startsWith('From seed@sender.test  '), 'the first message is still first').toBe(true);
    expect(text.match(/^From /gm)).toHaveLength(2);
    expect(text).toMatch(new RegExp(`^From alice@sender\\.test  .*\\n[^]*Message-ID: <${name}@sender\\.test>\\n\\nbody of ${name}\\n\\n$`, 'm'));
  };

  it('a dotlock held by `dotlockfile -l` (no pid, fresh): exit 75 4.2.0 after the timeout, the lock left alone', async () => {
    const file = before();
    const r0 = spawnSync(DOTLOCKFILE!, ['-l', '-r', '0', `${mbox}.lock`], { encoding: 'utf8' });
    expect(r0.status, r0.stderr).toBe(0);
    expectDeferred(await deliver(config(['timeout = "2s"']), 'dotlockfile-held'), file);
    expect(existsSync(`${mbox}.lock`), 'the other program\'s lock is still there').toBe(true);
    expect(spawnSync(DOTLOCKFILE!, ['-u', `${mbox}.lock`]).status).toBe(0);
  });

  it('a dotlock of `dotlockfile -l -p ... CMD` released while mda waits: mda delivers', async () => {
    const lock = `${mbox}.lock`;
    // dotlockfile holds the lock (with its own pid in it) while `cat` runs, and removes it when cat ends
    const dl = spawn(DOTLOCKFILE!, ['-l', '-p', '-r', '0', lock, 'cat'], { stdio: ['pipe', 'ignore', 'pipe'] });
    const dlDone = new Promise<number | null>((r) => dl.on('close', r));
    for (let i = 0; !existsSync(lock); i++) {
      if (i > 400) throw new Error('dotlockfile did not create the lock');
      await sleep(25);
    }
    const file = before();
    const pending = deliver(config(['timeout = "30s"']), 'dotlockfile-released');
    await sleep(1500); // give mda time to find the lock (no assertion on it)
    expect(readFileSync(mbox).equals(file), 'mda wrote nothing while dotlockfile held the lock').toBe(true);
    dl.stdin!.end(); // cat ends, dotlockfile removes the lock
    expect(await dlDone).toBe(0);
    expectDelivered(await pending, 'dotlockfile-released');
  });

  it("Dovecot's locks (MBOX.lock with pid:host, then fcntl) held: exit 75 4.2.0", async () => {
    const h = await holder(['dotlock', 'fcntl']);
    try {
      expect(readFileSync(`${mbox}.lock`, 'utf8')).toMatch(/^\d+:\S+$/);
      expectDeferred(await deliver(config(['timeout = "2s"']), 'dovecot-held'), before());
    } finally {
      await h.release();
    }
  });

  it("Dovecot's locks released while mda waits: mda delivers", async () => {
    const h = await holder(['dotlock', 'fcntl']);
    const file = before();
    const pending = deliver(config(['timeout = "30s"']), 'dovecot-released');
    await sleep(1500);
    expect(readFileSync(mbox).equals(file), 'mda wrote nothing while the locks were held').toBe(true);
    await h.release();
    expectDelivered(await pending, 'dovecot-released');
  });

  it('an fcntl lock alone (a reader such as mutt or Dovecot reading): exit 75 4.2.0', async () => {
    const h = await holder(['fcntl']);
    try {
      const r = await deliver(config(['timeout = "2s"']), 'fcntl-held');
      expectDeferred(r, before());
      expect(r.output).toContain(`lock ${mbox} (fcntl) still held`);
    } finally {
      await h.release();
    }
  });

  it('an fcntl lock released while mda waits: mda delivers', async () => {
    const h = await holder(['fcntl']);
    const file = before();
    const pending = deliver(config(['timeout = "30s"']), 'fcntl-released');
    await sleep(1500);
    expect(readFileSync(mbox).equals(file)).toBe(true);
    await h.release();
    expectDelivered(await pending, 'fcntl-released');
  });

  it('flock: ignored by default, waited for when mbox_locks lists it', async () => {
    const h = await holder(['flock']);
    try {
      expectDeferred(await deliver(config(['timeout = "2s"', 'mbox_locks = ["dotlock", "fcntl", "flock"]']), 'flock-held'), before());
      expectDelivered(await deliver(config(['timeout = "2s"']), 'flock-default'), 'flock-default');
    } finally {
      await h.release();
    }
  });

  it('a real Dovecot reading the mbox (doveadm fetch, its fcntl read lock, mbox_read_locks = fcntl): 75 4.2.0 while it reads; once it is done, mda delivers', async () => {
    // A 40 MB mbox, and a reader that does not drain doveadm's output until the gate file goes:
    // doveadm then blocks on its pipe in the middle of the fetch, holding its read lock.
    const big = Array.from({ length: 400 }, (_, i) => `From bulk@sender.test  Sun Nov 22 00:00:01 2026\nSubject: bulk ${i}\nMessage-ID: <bulk${i}@sender.test>\n\n${`${'x'.repeat(76)}\n`.repeat(1300)}\n`).join('');
    appendFileSync(mbox, big);
    const work = join(t.dir, `dovecot-${n}`);
    mkdirSync(join(work, 'mail'), { recursive: true });
    chmodSync(work, 0o755);
    for (const p of [work, join(work, 'mail')]) chownSync(p, U.uid, U.gid);
    const conf = dovecotConfig(work, mbox, U);
    // Dovecot's first open writes its X-IMAPbase/X-UID headers (under its write locks): done here,
    // so that the fetch below only reads and the mbox's bytes stay put while it holds its lock
    doveadm(conf, work, U, ['fetch', 'uid', 'mailbox', 'INBOX', 'all']);
    const gate = join(work, 'gate');
    writeFileSync(gate, '');
    const reader = spawn('sh', ['-c', `"$1" -c "$2" fetch text mailbox INBOX all | { while [ -e "$3" ]; do sleep 0.1; done; cat >/dev/null; }; exit $(( $? ))`, 'sh', DOVEADM!, conf, gate], {
      env: { PATH: '/usr/bin:/bin', USER: U.name, HOME: work }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    reader.stderr!.on('data', (d) => (err += d));
    const readerDone = new Promise<number | null>((r) => reader.on('close', r));
    try {
      // wait until Dovecot holds its lock: a non-blocking fcntl write lock is refused
      const probe = `import fcntl,os,sys\nfd=os.open(sys.argv[1],os.O_RDWR)\ntry:\n  fcntl.lockf(fd,fcntl.LOCK_EX|fcntl.LOCK_NB)\nexcept OSError:\n  sys.exit(1)\n`;
      for (let i = 0; spawnSync(PYTHON!, ['-c', probe, mbox]).status === 0; i++) {
        if (i > 400 || reader.exitCode !== null) throw new Error(`doveadm did not lock the mbox: ${err}`);
        await sleep(25);
      }
      const file = before();
      const held = await deliver(config(['timeout = "2s"']), 'dovecot-reading');
      expectDeferred(held, file);
      // the deferral names the lock Dovecot holds: its fcntl lock on the mbox, not mda's own FILE.lock
      expect(held.output).toContain(`lock ${mbox} (fcntl) still held`);
      const pending = deliver(config(['timeout = "30s"']), 'dovecot-done');
      await sleep(1000);
      expect(readFileSync(mbox).equals(file), 'mda wrote nothing while Dovecot read').toBe(true);
      rmSync(gate);
      expect(await readerDone, err).toBe(0);
      const r = await pending;
      expect([r.code, r.output]).toEqual([0, '']);
      const text = readFileSync(mbox, 'latin1');
      expect(text.match(/^From /gm)).toHaveLength(402);
      expect(text).toMatch(/^From alice@sender\.test {2}.*\n[^]*Message-ID: <dovecot-done@sender\.test>\n\nbody of dovecot-done\n\n$/m);
      expect(text).not.toContain('dovecot-reading@');
    } finally {
      rmSync(gate, { force: true });
      if (reader.exitCode === null) reader.kill('SIGKILL');
    }
  }, 90_000);
});
