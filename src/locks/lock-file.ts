/**
 * One lock file: create it holding a token, read the token back, remove or
 * refresh it only while the token is ours, break it once stale. Ownership is
 * the token written in the file, never the inode number: ext4 hands a freed
 * inode straight back, so after a stale lock is broken a new holder's file may
 * have the old holder's inode.
 * Must not: wait, retry, order locks or keep any state (acquire.ts does that).
 */
import { constants as C, closeSync, openSync, readSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { close, fstat, futimes, lstat, open, read, unlink, withFd, writeAll } from '../io/fs-async.js';
import { isStale } from './plan.js';

/** What a lock file of ours holds: `<pid> <host> <nonce>\n`. */
export type LockContent = Buffer;

/**
 * newContent makes the token for one acquisition. pid and host tell live
 * holders apart; the nonce tells this acquisition apart from an earlier holder
 * with the same pid (pid reuse, a container with the same hostname) and from our
 * own earlier lock on the same path. It must be unique, not secret, so it
 * costs nothing at start-up (node:crypto takes milliseconds to load):
 * CLOCK_MONOTONIC in ns (two acquisitions by one pid on one host are at least a
 * create(2) apart) plus Math.random(), which V8 seeds from the OS entropy pool
 * per process (covers hosts whose clocks could coincide).
 */
export function newContent(): LockContent {
  const nonce = `${process.hrtime.bigint().toString(36)}.${Math.random().toString(36).slice(2, 10)}`;
  return Buffer.from(`${process.pid} ${hostname()} ${nonce}\n`);
}

const isEexist = (err: unknown) => (err as NodeJS.ErrnoException).code === 'EEXIST';

/** createLock makes one O_EXCL attempt; true when the file is ours and holds `content`. */
export async function createLock(path: string, content: LockContent): Promise<boolean> {
  let fd: number;
  try {
    fd = await open(path, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
  } catch (err) {
    if (isEexist(err)) return false;
    throw err;
  }
  await withFd(fd, async () => {
    try {
      await writeAll(fd, content);
    } catch (err) {
      // Created but not taken (ENOSPC writing the token on a full disk): remove it, or the
      // empty file would hold the mailbox until it is stale. Here the inode does identify our
      // file: it cannot be reused while our descriptor keeps it open.
      const [mine, there] = await Promise.all([fstat(fd), lstat(path)]).catch(() => []);
      if (mine && there && mine.ino === there.ino && mine.dev === there.dev) await unlink(path).catch(() => undefined);
      throw err;
    }
  });
  return true;
}

// Read-back opens with O_NOFOLLOW | O_NONBLOCK: the lock lives in the user's Maildir, and a
// symlink or FIFO planted there must neither redirect nor block us. One byte more than our
// content is read, so a longer file never compares equal.
const READ_FLAGS = C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK;
const sameAs = (buf: Buffer, n: number, content: LockContent) => n === content.length && buf.subarray(0, n).equals(content);

/** readContent reads what a lock file holds (at most max bytes); undefined when it cannot. */
async function readContent(path: string, max: number): Promise<Buffer | undefined> {
  const fd = await open(path, READ_FLAGS).catch(() => undefined);
  if (fd === undefined) return undefined;
  return withFd(fd, async () => {
    const buf = Buffer.alloc(max);
    const n = await read(fd, buf, 0, max, 0);
    return buf.subarray(0, n);
  }).catch(() => undefined);
}

/**
 * removeIfOurs unlinks the lock only when it still holds our token. Between the
 * read and the unlink a breaker could only step in if our lock were stale, and
 * refreshLock keeps a held lock fresh.
 */
export async function removeIfOurs(path: string, content: LockContent): Promise<void> {
  const now = await readContent(path, content.length + 1);
  if (now && now.equals(content)) await unlink(path).catch(() => undefined); // gone meanwhile: nothing to remove
}

/** removeIfOursSync is removeIfOurs for the 'exit' hook, where nothing asynchronous runs any more. */
export function removeIfOursSync(path: string, content: LockContent): void {
  try {
    const fd = openSync(path, READ_FLAGS);
    const buf = Buffer.alloc(content.length + 1);
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, 0);
    } finally {
      closeSync(fd);
    }
    if (sameAs(buf, n, content)) unlinkSync(path);
  } catch {
    // gone, unreadable or not a file: nothing of ours to remove
  }
}

/**
 * refreshLock touches the lock's mtime while it still holds our token, so a
 * live holder is never taken for a dead one. Through the descriptor, not the
 * path: a planted symlink must not get some other file touched.
 */
export async function refreshLock(path: string, content: LockContent): Promise<void> {
  const fd = await open(path, READ_FLAGS).catch(() => undefined);
  if (fd === undefined) return; // gone: broken as stale after all, nothing to keep fresh
  await withFd(fd, async () => {
    const buf = Buffer.alloc(content.length + 1);
    const n = await read(fd, buf, 0, buf.length, 0);
    if (!sameAs(buf, n, content)) return; // someone else's lock now: not ours to keep alive
    const nowS = Date.now() / 1000;
    await futimes(fd, nowS, nowS);
  }).catch(() => undefined); // a failed touch leaves the lock to age: at worst it is broken as stale, as before refreshes
}

/** A token we may compare but never hold: longer than any lock file of ours. */
const PEEK_MAX = 1024;

/**
 * breakIfStale removes a lock whose holder died. Breaking is itself guarded by
 * `<path>.break` so two breakers cannot both delete, one of them deleting the
 * fresh lock the other just created; and the lock must still be the same file
 * with the same token once the guard is held. `holderGone`, when given, must also agree
 * from the token (an mbox's FILE.lock: only a dead holder's lock is broken, mbox-dotlock-rule.ts).
 */
export async function breakIfStale(path: string, staleMs: number, holderGone?: (token: Buffer | undefined, ageMs: number) => boolean): Promise<void> {
  const st = await lstat(path).catch(() => undefined);
  if (!st || !isStale(st.mtimeMs, Date.now(), staleMs)) return;
  const token = await readContent(path, PEEK_MAX);
  if (holderGone && !holderGone(token, Date.now() - st.mtimeMs)) return;
  const guard = `${path}.break`;
  let fd: number;
  try {
    fd = await open(guard, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
  } catch (err) {
    if (!isEexist(err)) throw err;
    const g = await lstat(guard).catch(() => undefined);
    if (g && isStale(g.mtimeMs, Date.now(), staleMs)) await unlink(guard).catch(() => undefined); // a breaker died mid-break
    return;
  }
  try {
    const again = await lstat(path).catch(() => undefined);
    if (!again || again.ino !== st.ino || !isStale(again.mtimeMs, Date.now(), staleMs)) return;
    const tokenAgain = await readContent(path, PEEK_MAX);
    // The same inode with another token is a new holder's file that reused the inode.
    if (token !== undefined && tokenAgain !== undefined && !token.equals(tokenAgain)) return;
    await unlink(path);
  } finally {
    await close(fd);
    await unlink(guard).catch(() => undefined);
  }
}
