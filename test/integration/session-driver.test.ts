/**
 * Many sessions in one process (issue 9): 100 messages, each to the same 10
 * recipients (1,000 copies), all concurrently in one Node process through the
 * delivery core (test/driver/session-driver.ts). Every copy is stored exactly
 * once, with exact maildirsize accounting, owned by the mail uid, nothing left
 * in tmp/ and no lock behind. When the test runs as root the driver runs as
 * `nobody` (the one mail uid of a virtual-user site). As root, a second case
 * delivers to four system users through per-uid worker processes and checks
 * the owner of every file and lock created.
 */
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMaildirsize } from '../../src/quota/maildirsize.js';

const DRIVER = fileURLToPath(new URL('../driver/session-driver.ts', import.meta.url));
const isRoot = process.getuid?.() === 0;
const MAIL_UID = isRoot ? 65534 : process.getuid!();
const USERS = Array.from({ length: 10 }, (_, i) => `v${i}`);

let work: string;
let bundle: string;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'mda-driver-'));
  chmodSync(work, 0o755); // the driver may run as nobody
  bundle = join(work, 'driver.mjs');
  await build({ entryPoints: [DRIVER], bundle: true, platform: 'node', target: 'node20', format: 'esm', outfile: bundle, external: ['unix-dgram', 'smol-toml'], logLevel: 'warning' });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Result { message: number; user: string; outcome: { kind: string; detail?: string } }

function drive(base: string, job: { system?: boolean }): Promise<Result[]> {
  const asMailUid = isRoot && !job.system;
  if (asMailUid) chownSync(base, MAIL_UID, MAIL_UID);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bundle, JSON.stringify({ base, ...job })], {
      cwd: base, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, HOME: base }, ...(asMailUid ? { uid: MAIL_UID, gid: MAIL_UID } : {}),
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const hard = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('close', (code) => {
      clearTimeout(hard);
      if (code !== 0) return reject(new Error(`driver exited ${code}: ${err}`));
      resolve(JSON.parse(out) as Result[]);
    });
  });
}

/** Every path below dir with its lstat, directories included. */
function walk(dir: string, out: Array<{ path: string; uid: number; isFile: boolean; ino: number }> = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = lstatSync(path);
    out.push({ path, uid: st.uid, isFile: st.isFile(), ino: st.ino });
    if (st.isDirectory()) walk(path, out);
  }
  return out;
}

describe('100 messages × 10 recipients, concurrently in one process', () => {
  it.each([
    ['hard links from the one spool, with a quota', { messages: 100, quota: 100 * 1024 * 1024, prepend: false }],
    ['per-recipient copies with their own Delivered-To', { messages: 100, quota: 0, prepend: true }],
  ])('%s: every copy stored exactly once', async (_, job) => {
    const base = mkdtempSync(join(work, 'run-'));
    const results = await drive(base, { users: USERS, ...job });
    expect(results).toHaveLength(1000);
    expect(results.filter((r) => r.outcome.kind !== 'delivered')).toEqual([]);

    const inodes = new Map<number, Set<number>>();
    for (const user of USERS) {
      const md = join(base, 'mail', user);
      const names = readdirSync(join(md, 'new'));
      expect(names).toHaveLength(100);
      const ids = names.map((n) => {
        const text = readFileSync(join(md, 'new', n), 'utf8');
        const id = Number(/^Message-ID: <m(\d+)@/m.exec(text)![1]);
        expect(text.startsWith(job.prepend ? `Delivered-To: ${user}@driver.test\nMessage-ID:` : 'Message-ID:')).toBe(true);
        expect(text).toContain(`\n\n${'x'.repeat(id * 7)}\n`);
        if (!inodes.has(id)) inodes.set(id, new Set());
        inodes.get(id)!.add(lstatSync(join(md, 'new', n)).ino);
        return id;
      });
      expect(ids.sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
      expect(readdirSync(join(md, 'tmp'))).toEqual([]);
      if (job.quota) {
        const sizes = names.map((n) => lstatSync(join(md, 'new', n)).size);
        const parsed = parseMaildirsize(readFileSync(join(md, 'maildirsize')));
        expect(parsed).toMatchObject({ bytes: sizes.reduce((a, b) => a + b, 0), count: 100 });
      }
    }
    // One inode per message when hard-linked; one per copy when each recipient got its own fields.
    for (const set of inodes.values()) expect(set.size).toBe(job.prepend ? USERS.length : 1);
    const everything = walk(base);
    expect(everything.filter((e) => e.uid !== MAIL_UID).map((e) => e.path)).toEqual([]);
    expect(everything.filter((e) => /\.lock$|\.break$/.test(e.path)).map((e) => e.path)).toEqual([]);
    expect(readdirSync(join(base, 'spool', 'tmp'))).toEqual([]);
  });
});

/** System accounts (uid, primary gid) to deliver to as root. */
const SYSTEM_USERS = ['daemon', 'bin', 'sys', 'nobody'].map((name) => {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  const f = line?.split(':') ?? [];
  return { name, uid: Number(f[2]), gid: Number(f[3]) };
});

describe.skipIf(!isRoot)('as root: 50 concurrent deliveries to 4 system users, each committed by its own uid', () => {
  it('every file and lock in a Maildir belongs to its user; every copy stored once', async () => {
    const base = mkdtempSync(join(work, 'root-'));
    chmodSync(base, 0o755);
    mkdirSync(join(base, 'mail'), { mode: 0o755 });
    for (const u of SYSTEM_USERS) {
      mkdirSync(join(base, 'mail', u.name), { mode: 0o700 });
      chownSync(join(base, 'mail', u.name), u.uid, u.gid);
    }
    // Lock files live for milliseconds: watch each Maildir's top and record who owns each one seen.
    const locks: Array<{ user: string; uid: number; file: string }> = [];
    const watchers = SYSTEM_USERS.map((u) => watch(join(base, 'mail', u.name), (_, file) => {
      if (!file?.endsWith('.lock')) return;
      try {
        locks.push({ user: u.name, uid: lstatSync(join(base, 'mail', u.name, file)).uid, file });
      } catch {
        // already released
      }
    }));
    let results: Result[];
    try {
      results = await drive(base, { users: SYSTEM_USERS.map((u) => u.name), messages: 50, quota: 10 * 1024 * 1024, prepend: true, system: true });
    } finally {
      for (const w of watchers) w.close();
    }
    expect(results).toHaveLength(200);
    expect(results.filter((r) => r.outcome.kind !== 'delivered')).toEqual([]);
    for (const u of SYSTEM_USERS) {
      const md = join(base, 'mail', u.name);
      const files = walk(md);
      expect(files.filter((f) => f.uid !== u.uid).map((f) => f.path), `files in ${u.name}'s Maildir not owned by uid ${u.uid}`).toEqual([]);
      expect(files.filter((f) => lstatSync(f.path).gid !== u.gid && !f.path.endsWith(u.name)).map((f) => f.path)).toEqual([]);
      const ids = readdirSync(join(md, 'new')).map((n) => Number(/^Message-ID: <m(\d+)@/m.exec(readFileSync(join(md, 'new', n), 'utf8'))![1]));
      expect(ids.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      expect(parseMaildirsize(readFileSync(join(md, 'maildirsize')))).toMatchObject({ count: 50 });
      expect(files.filter((f) => /\.lock$/.test(f.path))).toEqual([]);
    }
    expect(locks.filter((l) => l.uid !== SYSTEM_USERS.find((u) => u.name === l.user)!.uid)).toEqual([]);
    expect(locks.length, 'lock files were seen while the deliveries ran').toBeGreaterThan(0);
    expect(readdirSync(join(base, 'spool', 'tmp'))).toEqual([]);
  });
});
