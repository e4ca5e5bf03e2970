/**
 * The lock manager: the only code that takes locks. A caller asks for a set;
 * it is taken in canonical order (plan.ts), each lock without blocking
 * (O_CREAT|O_EXCL lock files), retrying with backoff only while the lock
 * timeout and the global deadline allow. On failure everything already held is
 * released in reverse order and the outcome is a deferral (4.2.0).
 * Locks are released on every exit path: the returned Lease, and a
 * synchronous 'exit' hook for paths that end the process (signals, watchdog).
 * Must not: hold a lock while waiting for another lock (it backs off empty-handed).
 */
import { constants as C, lstatSync, unlinkSync } from 'node:fs';
import { close, fstat, lstat, open, unlink, withFd, writeAll } from '../io/fs-async.js';
import { hostname } from 'node:os';
import type { Deadline } from '../deadline/deadline.js';
import { OutcomeError, temp } from '../outcome/outcome.js';
import { backoffMs, canFollow, isStale, planLocks, type LockRequest } from './plan.js';

export interface LockOptions {
  timeoutMs: number;
  staleMs: number;
  deadline: Deadline;
}

export interface Lease {
  /** Paths held, in the order taken. */
  readonly held: readonly string[];
  /** Releases every lock in reverse order. Idempotent. */
  release(): Promise<void>;
}

interface Held {
  req: LockRequest;
  ino: number;
}

/** Every lock this process holds, for the exit hook. */
const heldByProcess = new Map<string, Held>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [path, h] of [...heldByProcess].reverse()) removeIfOurs(path, h.ino);
  });
}

function removeIfOurs(path: string, ino: number): void {
  try {
    if (lstatSync(path).ino === ino) unlinkSync(path);
  } catch {
    // already gone (or broken as stale by another process): nothing of ours to remove
  }
}

/** tryLock makes one non-blocking attempt; returns the lock file's inode, or undefined if held. */
async function tryLock(path: string, staleMs: number): Promise<number | undefined> {
  try {
    const fd = await open(path, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
    let ino: number | undefined;
    try {
      return await withFd(fd, async () => {
        ino = (await fstat(fd)).ino;
        await writeAll(fd, Buffer.from(`${process.pid} ${hostname()} ${Date.now()}\n`));
        return ino;
      });
    } catch (err) {
      // Created but not taken (ENOSPC writing our pid on a full disk): remove it,
      // or the empty file would hold the mailbox until it is `stale`.
      if (ino !== undefined) removeIfOurs(path, ino);
      throw err;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  await breakIfStale(path, staleMs);
  return undefined;
}

/**
 * breakIfStale removes a lock whose holder died. Breaking is itself guarded by
 * `<path>.break` so two breakers cannot both delete, one of them deleting the
 * fresh lock the other just created.
 */
async function breakIfStale(path: string, staleMs: number): Promise<void> {
  const st = await lstat(path).catch(() => undefined);
  if (!st || !isStale(st.mtimeMs, Date.now(), staleMs)) return;
  const guard = `${path}.break`;
  let fd: number;
  try {
    fd = await open(guard, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const g = await lstat(guard).catch(() => undefined);
    if (g && isStale(g.mtimeMs, Date.now(), staleMs)) await unlink(guard).catch(() => undefined); // a breaker died mid-break
    return;
  }
  try {
    const again = await lstat(path).catch(() => undefined);
    if (again && again.ino === st.ino && isStale(again.mtimeMs, Date.now(), staleMs)) await unlink(path);
  } finally {
    await close(fd);
    await unlink(guard).catch(() => undefined);
  }
}

async function releaseAll(taken: Held[]): Promise<void> {
  for (const h of taken.splice(0).reverse()) {
    heldByProcess.delete(h.req.path);
    removeIfOurs(h.req.path, h.ino);
  }
}

/**
 * acquireLocks takes every requested lock or none. Extra locks may be taken
 * while holding others only in canonical order (`after`).
 */
export async function acquireLocks(requests: readonly LockRequest[], opts: LockOptions, after: readonly LockRequest[] = []): Promise<Lease> {
  installExitHook();
  const plan = planLocks(requests);
  for (const r of plan) {
    if (!canFollow(after, r)) throw new Error(`lock order violation: ${r.kind} ${r.path} after ${after.map((a) => a.path).join(', ')}`);
  }
  // When the deadline leaves less than the lock timeout, running out is the deadline's doing.
  const cappedByDeadline = opts.timeoutMs >= opts.deadline.remaining();
  const budget = opts.deadline.budget(opts.timeoutMs, 'waiting for locks');
  // Why the wait ended: the global deadline or a signal keep their own reason;
  // the lock timeout alone is a busy mailbox (4.2.0).
  const ended = (err: unknown, path: string) =>
    opts.deadline.signal.aborted
      ? opts.deadline.signal.reason
      : budget.signal.aborted && !cappedByDeadline
        ? new OutcomeError(temp('mailbox-busy', `lock ${path} still held after ${Math.round(opts.timeoutMs)}ms`))
        : err;
  const taken: Held[] = [];
  try {
    for (let attempt = 0; taken.length < plan.length; attempt++) {
      for (const req of plan) {
        if (budget.signal.aborted) throw budget.signal.reason;
        // Not raced: an abandoned attempt could still create the file and leave an orphan lock.
        const ino = await tryLock(req.path, opts.staleMs);
        if (ino === undefined) break;
        taken.push({ req, ino });
        heldByProcess.set(req.path, { req, ino });
      }
      if (taken.length === plan.length) break;
      // Busy: back off empty-handed so nobody waits on a lock we hold.
      await releaseAll(taken);
      await opts.deadline.race(opts.deadline.sleep(backoffMs(attempt, Math.random())), budget.signal);
    }
  } catch (err) {
    const busy = plan[taken.length]?.path ?? plan[0]?.path ?? '';
    await releaseAll(taken);
    throw ended(err, busy);
  } finally {
    budget.done();
  }
  return {
    held: taken.map((h) => h.req.path),
    release: () => releaseAll(taken),
  };
}

/** withLocks runs fn while holding the locks, releasing them however fn ends. */
export async function withLocks<T>(requests: readonly LockRequest[], opts: LockOptions, fn: (lease: Lease) => Promise<T>, after: readonly LockRequest[] = []): Promise<T> {
  const lease = await acquireLocks(requests, opts, after);
  try {
    return await fn(lease);
  } finally {
    await lease.release();
  }
}
