/**
 * One of Dovecot's own dotlocks (`dovecot-uidlist.lock`), taken the way
 * Dovecot's file_dotlock_create does with dotlock_use_excl (its default):
 * open(O_CREAT|O_EXCL|O_NOFOLLOW) holding `pid:host`, so a Dovecot process
 * waits for mda and can tell a dead mda's lock by its pid. A lock Dovecot's
 * rule (dovecot-dotlock-rule.ts) calls stale is removed, after checking it is
 * still the same file. Ownership for release and refresh is the content, as
 * for mda's locks (lock-file.ts removeIfOurs / refreshLock).
 * Must not: wait or retry (acquire.ts does), or follow a symlink at the lock path.
 */
import { hostname } from 'node:os';
import { dirname, basename, join } from 'node:path';
import { close, lstat, unlink } from '../io/fs-async.js';
import { openUserFile, readFd } from '../io/user-file.js';
import { DOVECOT_LOCK_READ_MAX, dovecotLockContent, dovecotLockStale, type FileTimes } from './dovecot-dotlock-rule.js';
import { createLock, type LockContent } from './lock-file.js';
import { pidAlive } from './pid-alive.js';

const times = (st: { mtimeMs: number; ctimeMs: number }): FileTimes => ({ mtimeS: Math.floor(st.mtimeMs / 1000), ctimeS: Math.floor(st.ctimeMs / 1000) });

/** readLock: what the lock holds, read as Dovecot does (≤ 511 bytes); undefined when it cannot be read. */
async function readLock(path: string): Promise<string | undefined> {
  try {
    const { fd } = await openUserFile(path, { noFollow: true });
    try {
      return (await readFd(fd, DOVECOT_LOCK_READ_MAX)).toString('latin1');
    } finally {
      await close(fd).catch(() => undefined);
    }
  } catch {
    return undefined;
  }
}

/** The file a dotlock protects: the lock's path without `.lock`. */
const protectedPath = (lockPath: string): string => join(dirname(lockPath), basename(lockPath).replace(/\.lock$/, ''));

/** breakIfDovecotStale removes the lock when Dovecot's own rule would override it; true when it did. */
export async function breakIfDovecotStale(path: string): Promise<boolean> {
  const st = await lstat(path).catch(() => undefined);
  if (!st) return false;
  const content = await readLock(path);
  const prot = await lstat(protectedPath(path)).catch(() => undefined);
  const stale = dovecotLockStale({
    nowS: Math.floor(Date.now() / 1000), lock: times(st), content, myHost: hostname(), pidAlive,
    protectedFile: prot ? times(prot) : undefined,
  });
  if (!stale) return false;
  // As Dovecot does before overriding: still the same file, unchanged (not just replaced by a new holder).
  const again = await lstat(path).catch(() => undefined);
  if (!again || again.ino !== st.ino || again.dev !== st.dev || again.ctimeMs !== st.ctimeMs) return false;
  await unlink(path).catch(() => undefined);
  return true;
}

/** Dovecot's LOCK_RANDOM_USLEEP_TIME: 100–200 ms. */
const afterBreakMs = (rand: number): number => 100 + Math.floor(rand * 100);

/**
 * tryDovecotLock makes one O_EXCL attempt; returns the content written, or undefined while
 * someone holds it. After breaking a stale lock it waits 100–200 ms before creating its own,
 * as Dovecot's dotlock_override does: another breaker that judged the same stale file may
 * still unlink, and must find nothing, not our fresh lock.
 */
export async function tryDovecotLock(path: string, sleep: (ms: number) => Promise<void>): Promise<LockContent | undefined> {
  const content = Buffer.from(dovecotLockContent(process.pid, hostname()));
  if (await createLock(path, content)) return content;
  if (!(await breakIfDovecotStale(path))) return undefined;
  await sleep(afterBreakMs(Math.random()));
  return (await createLock(path, content)) ? content : undefined;
}
