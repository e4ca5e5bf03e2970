/**
 * An mbox's FILE.lock, taken as liblockfile's lockfile_create does, safe on
 * NFS where O_EXCL is not: write the token into a uniquely named file beside
 * it, link() that to FILE.lock, and count success when link() did or the
 * temp file's link count became 2 (a lost reply on NFS); then remove the temp
 * name. A lock whose holder is gone and that is older than
 * [locks] mbox_dotlock_stale is broken (mbox-dotlock-rule.ts), guarded by
 * FILE.lock.break as for mda's own locks (lock-file.ts).
 * Where the directory is not writable by the delivering uid (Debian's /var/mail,
 * 2775 root:mail), the setgid helper dotlockfile(1) creates and removes the lock
 * instead (`-p`: it writes our pid, so liblockfile readers can tell a dead holder).
 * Must not: wait or retry (acquire.ts does), or follow a symlink at the lock path.
 */
import { constants as C, closeSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { close, link, lstat, open, read, unlink, withFd, writeAll } from '../io/fs-async.js';
import { OutcomeError, temp } from '../outcome/outcome.js';
import { breakIfStale, type LockContent } from './lock-file.js';
import { DEAD_PID_MIN_AGE_MS, mboxDotlockStale } from './mbox-dotlock-rule.js';
import { pidAlive } from './pid-alive.js';

/** node:child_process, loaded only when dotlockfile is needed: acquire.ts is on every Maildir delivery's path. */
const childProcess = () => createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');

/** holderGone: the rule's answer for a lock file of this age and token. */
const holderGone = (staleMs: number) => (token: Buffer | undefined, ageMs: number): boolean =>
  mboxDotlockStale({ ageMs, staleMs, content: token?.toString('latin1'), myHost: hostname(), pidAlive });

/** tempName: unique beside the lock (liblockfile's `.lk<pid><time><host>` idea), never a name another program uses. */
const tempName = (lockPath: string): string =>
  join(dirname(lockPath), `.${basename(lockPath)}.mda.${process.pid}.${process.hrtime.bigint().toString(36)}.${Math.random().toString(36).slice(2, 8)}`);

/** linkLock: one link() attempt; true when FILE.lock is now ours. */
async function linkLock(path: string, content: LockContent): Promise<boolean> {
  const tmp = tempName(path);
  // 0644 as liblockfile: other programs read the pid to tell a dead holder.
  const fd = await open(tmp, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o644);
  try {
    await withFd(fd, () => writeAll(fd, content));
    try {
      await link(tmp, path);
      return true;
    } catch (err) {
      // NFS: link() may have worked while its reply was lost; the temp file's link count tells.
      const st = await lstat(tmp).catch(() => undefined);
      if (st && st.nlink === 2) return true;
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/** tryMboxDotlock: one attempt at FILE.lock ourselves; a stale lock is broken (and taken on the next attempt). */
export async function tryMboxDotlock(path: string, content: LockContent, staleMs: number): Promise<boolean> {
  if (await linkLock(path, content)) return true;
  // breakIfStale's own age floor is the rule's shortest (a dead pid's); the rule decides the rest.
  await breakIfStale(path, DEAD_PID_MIN_AGE_MS, holderGone(staleMs));
  return false;
}

/** liblockfile's L_MAXTRYS: the lock is held (with -r 0: after one try). */
const L_MAXTRYS = 4;

/** The content dotlockfile -p writes: our pid (it writes its parent's), which is what we compare on release. */
export const helperContent = (): LockContent => Buffer.from(`${process.pid}\n`);

/** tryHelperDotlock: one `dotlockfile -p -l -r 0` run; true when locked, false while held. */
export function tryHelperDotlock(helper: string, path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    childProcess().execFile(helper, ['-p', '-q', '-l', '-r', '0', path], { timeout: 10_000 }, (err) => {
      if (!err) return resolve(true);
      const e = err as Error & { code?: number | string };
      if (e.code === L_MAXTRYS) return resolve(false);
      const why = typeof e.code === 'number' ? `exited ${e.code}` : e.message;
      const hint = e.code === 'ENOENT' ? ' (install liblockfile-bin, or set [locks] dotlockfile)' : '';
      reject(new OutcomeError(temp('mailbox-unavailable', `cannot take the dotlock ${path} with ${helper}: ${why}${hint}`)));
    });
  });
}

/** Does the lock still name our pid? Only then is it ours to remove (it may have been broken and retaken). */
const stillOurs = async (path: string): Promise<boolean> => {
  const fd = await open(path, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK).catch(() => undefined);
  if (fd === undefined) return false;
  const buf = Buffer.alloc(64);
  const n = await read(fd, buf, 0, buf.length, 0).catch(() => 0);
  await close(fd).catch(() => undefined);
  return buf.subarray(0, n).equals(helperContent());
};

/** releaseHelperDotlock: `dotlockfile -u` when the lock still holds our pid. Never throws. */
export async function releaseHelperDotlock(helper: string, path: string): Promise<void> {
  if (!(await stillOurs(path))) return;
  await new Promise<void>((resolve) => childProcess().execFile(helper, ['-u', path], { timeout: 10_000 }, () => resolve()));
}

/** stillOursSync: stillOurs for the 'exit' hook, where nothing asynchronous runs any more. */
function stillOursSync(path: string): boolean {
  try {
    const fd = openSync(path, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
    const buf = Buffer.alloc(64);
    let n = 0;
    try {
      n = readSync(fd, buf, 0, buf.length, 0);
    } finally {
      closeSync(fd);
    }
    return buf.subarray(0, n).equals(helperContent());
  } catch {
    return false;
  }
}

/** releaseHelperDotlockSync: releaseHelperDotlock for the process's 'exit' hook. */
export function releaseHelperDotlockSync(helper: string, path: string): void {
  if (!stillOursSync(path)) return;
  try {
    childProcess().spawnSync(helper, ['-u', path], { timeout: 5_000, stdio: 'ignore' });
  } catch {
    // nothing more can be done while exiting
  }
}
