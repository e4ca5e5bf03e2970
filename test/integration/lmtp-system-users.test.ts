/**
 * Issue 11: `mda lmtp` as root WITHOUT `[lmtp] user` (system users mode), the
 * built CLI on a unix socket. Four system users (created here with useradd,
 * homes under the test's temp dir, removed afterwards), `[delivery] maildir =
 * "~/Maildir"` (the home from passwd), a Maildir++ quota so the commit lock,
 * the recalc lock and maildirsize are all exercised. 50 transactions are sent at
 * once, each on its own connection, some with several recipients across users.
 * While they run, every lock file and spool file that appears is recorded with
 * its owner; afterwards every file and directory in each Maildir must be that
 * user's (uid and primary gid, never root), every message stored exactly once,
 * and the spool's files the server's (root's). Root only; skips otherwise.
 * Run `npm run build` first.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync, readdirSync, readFileSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMaildirsize } from '../../src/quota/maildirsize.js';
import { lmtpClient, transaction, type LmtpClient } from '../helpers/lmtp-client.js';
import { startLmtpServer, type LmtpServer } from '../helpers/lmtp-server.js';
import { tempDir } from '../helpers/run-mda.js';

const isRoot = process.getuid?.() === 0;
const hasUseradd = spawnSync('sh', ['-c', 'command -v useradd && command -v userdel'], { stdio: 'ignore' }).status === 0;
if (!isRoot || !hasUseradd) console.warn(`\n*** SKIPPED lmtp-system-users: ${isRoot ? 'no useradd' : 'needs root'} ***\n`);

interface Sys {
  name: string;
  uid: number;
  gid: number;
  home: string;
}
const NAMES = ['mdals1', 'mdals2', 'mdals3', 'mdals4'];
const TRANSACTIONS = 50;

let t: ReturnType<typeof tempDir>;
const users: Sys[] = [];

function removeUser(name: string): void {
  spawnSync('userdel', [name], { stdio: 'ignore' });
  spawnSync('groupdel', [name], { stdio: 'ignore' }); // --user-group's group, if userdel left it
}

/** Every path below dir with its lstat, directories included. */
function walk(dir: string, out: Array<{ path: string; uid: number; gid: number }> = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = lstatSync(path);
    out.push({ path, uid: st.uid, gid: st.gid });
    if (st.isDirectory()) walk(path, out);
  }
  return out;
}

/** Which users transaction i is for: one user each, and every third one also for one or two others. */
function recipientsOf(i: number): Sys[] {
  const first = i % users.length;
  const n = i % 3 === 0 ? 1 + (i % 2) + 1 : 1; // 1, or 2-3 users
  return Array.from({ length: n }, (_, k) => users[(first + k) % users.length]!);
}

describe.skipIf(!isRoot || !hasUseradd)('mda lmtp as root without [lmtp] user: 50 concurrent transactions to 4 system users', () => {
  beforeAll(() => {
    t = tempDir('mda-lmtp-sysusers-');
    chmodSync(t.dir, 0o755); // the users' workers must reach their homes below it
    mkdirSync(join(t.dir, 'home'), { mode: 0o755 });
    for (const name of NAMES) {
      removeUser(name); // a run killed before afterAll
      const home = join(t.dir, 'home', name);
      execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', home, '--shell', '/usr/sbin/nologin', name], { stdio: 'ignore' });
      const f = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).split(':');
      const u = { name, uid: Number(f[2]), gid: Number(f[3]), home };
      // The home and the top of the Maildir exist (as after maildirmake); tmp/ new/ cur/ are mda's to create.
      mkdirSync(join(home, 'Maildir'), { recursive: true, mode: 0o700 });
      chownSync(home, u.uid, u.gid);
      chownSync(join(home, 'Maildir'), u.uid, u.gid);
      users.push(u);
    }
  });
  afterAll(() => {
    for (const name of NAMES) removeUser(name);
    t?.cleanup();
  });

  it('every file, directory and lock in each Maildir is its user\'s (uid and gid, never root); every copy stored once; spool files are the server\'s', async () => {
    const spool = join(t.dir, 'spool');
    const cfg = join(t.dir, 'mda.toml');
    const sock = join(t.dir, 'lmtp.sock');
    writeFileSync(cfg, `[log]\ntarget = "none"\n[lmtp]\nspool_dir = "${spool}"\n[delivery]\nmaildir = "~/Maildir"\n[quota]\nstorage = "100000000"\n`, { mode: 0o600 });

    const server: LmtpServer = await startLmtpServer({ listen: `unix:${sock}`, config: cfg });
    // The socket listens before the protocol (and the spool dir) is ready: a greeting says it is.
    const probe = await lmtpClient(sock, 60_000);
    expect(await probe.reply()).toMatch(/^220 /);
    probe.raw.socket.destroy();
    const maildir = (u: Sys) => join(u.home, 'Maildir');
    // Lock files live for milliseconds: watch each Maildir's top (where mda-commit.lock and
    // maildirsize.lock live) and the spool's tmp/, and record the owner of each file seen.
    const seen: Array<{ where: string; file: string; uid: number; gid: number }> = [];
    const record = (where: string, dir: string, keep: (f: string) => boolean) => (_: string, file: string | null) => {
      if (!file || !keep(file)) return;
      try {
        const st = lstatSync(join(dir, file));
        seen.push({ where, file, uid: st.uid, gid: st.gid });
      } catch {
        // already gone
      }
    };
    const watchers: FSWatcher[] = users.map((u) => watch(maildir(u), record(u.name, maildir(u), (f) => f.endsWith('.lock'))));
    watchers.push(watch(join(spool, 'tmp'), record('spool', join(spool, 'tmp'), () => true)));

    const clients: LmtpClient[] = [];
    let replies: string[][];
    try {
      replies = await Promise.all(
        Array.from({ length: TRANSACTIONS }, async (_, i) => {
          const c = await lmtpClient(sock, 60_000);
          clients.push(c);
          const to = recipientsOf(i).map((u) => `${u.name}@example.com`);
          c.send(`LHLO client.test\r\n${transaction('s@example.org', to, `Message-ID: <m${i}@lmtp.test>\r\nSubject: ${i}\r\n\r\n${'x'.repeat(i * 37)}\r\n`)}QUIT\r\n`);
          // 220, LHLO, MAIL, one per RCPT, 354, one per recipient after the dot.
          const r = await c.replies(4 + 2 * to.length);
          return r.slice(-to.length);
        }),
      );
    } finally {
      for (const w of watchers) w.close();
      for (const c of clients) c.raw.socket.destroy();
    }
    expect(await server.stop()).toBe(0);

    replies.forEach((r, i) => expect(r, `transaction ${i}`).toEqual(recipientsOf(i).map((u) => expect.stringMatching(new RegExp(`^250 2\\.0\\.0 <${u.name}@example\\.com>`)))));
    for (const u of users) {
      const md = maildir(u);
      const files = walk(md);
      expect(files.filter((f) => f.uid !== u.uid || f.gid !== u.gid).map((f) => `${f.path} ${f.uid}:${f.gid}`), `not ${u.name}'s (${u.uid}:${u.gid})`).toEqual([]);
      for (const sub of ['new', 'tmp', 'cur', 'maildirsize']) expect(files.map((f) => f.path), `${u.name}'s ${sub}`).toContain(join(md, sub));
      // Exactly once: every transaction for u, by Message-ID, no more, no less.
      const want = Array.from({ length: TRANSACTIONS }, (_, i) => i).filter((i) => recipientsOf(i).includes(u));
      const ids = readdirSync(join(md, 'new')).map((n) => Number(/^Message-ID: <m(\d+)@/m.exec(readFileSync(join(md, 'new', n), 'utf8'))![1]));
      expect(ids.sort((a, b) => a - b)).toEqual(want);
      expect(readdirSync(join(md, 'tmp'))).toEqual([]);
      expect(parseMaildirsize(readFileSync(join(md, 'maildirsize')))).toMatchObject({ count: want.length });
      expect(files.filter((f) => /\.lock$/.test(f.path)).map((f) => f.path)).toEqual([]);
    }
    const locks = seen.filter((s) => s.where !== 'spool');
    expect(locks.length, 'lock files were seen while the transactions ran').toBeGreaterThan(0);
    expect(locks.filter((l) => { const u = users.find((x) => x.name === l.where)!; return l.uid !== u.uid || l.gid !== u.gid; })).toEqual([]);
    // The spool is the server's (root's): its files, while they lived, and the directories.
    const spoolFiles = seen.filter((s) => s.where === 'spool');
    expect(spoolFiles.length, 'spool files were seen').toBeGreaterThan(0);
    expect(spoolFiles.filter((s) => s.uid !== 0)).toEqual([]);
    for (const d of [spool, join(spool, 'tmp')]) expect([lstatSync(d).uid, lstatSync(d).mode & 0o777]).toEqual([0, 0o700]);
    expect(readdirSync(join(spool, 'tmp'))).toEqual([]);
  }, 120_000);
});
