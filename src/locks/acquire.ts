/**
 * The lock manager: the only code that takes locks. A caller asks for a set;
 * it is taken in canonical order (plan.ts), each lock without blocking
 * (O_CREAT|O_EXCL lock files), retrying with backoff only while the lock
 * timeout and the global deadline allow. On failure everything already held is
 * released in reverse order and the outcome is a deferral (4.2.0).
 * Locks are released on every exit path: the returned Lease, and the
 * session's LockHolder (holder.ts) for paths that end the process (signals, watchdog);
 * a held lock is refreshed so it never looks stale. One lock file's own
 * operations (token, read-back, refresh, stale break) are in lock-file.ts;
 * Dovecot's own dotlocks (plan.ts DOVECOT_DOTLOCKS) are created and broken by
 * dovecot-dotlock.ts, and otherwise held, refreshed and released alike. An
 * mbox's locks (plan.ts mbox-*) are the FILE.lock (mbox-dotlock.ts: link()-made,
 * or through dotlockfile where the directory is not ours) and kernel locks on
 * the caller's open descriptor (kernel-lock.ts), which have no file, no token
 * and no refresh, and which the process's exit drops without the holder.
 * Must not: hold a lock while waiting for another lock (it backs off empty-handed).
 */
import type { Deadline } from '../deadline/deadline.js';
import { OutcomeError, temp } from '../outcome/outcome.js';
import type { LockHolder } from './holder.js';
import { breakIfStale, createLock, newContent, refreshLock, removeIfOurs, type LockContent } from './lock-file.js';
import { tryDovecotLock } from './dovecot-dotlock.js';
import { releaseKernelLock, tryKernelLock } from './kernel-lock.js';
import { helperContent, releaseHelperDotlock, releaseHelperDotlockSync, tryHelperDotlock, tryMboxDotlock } from './mbox-dotlock.js';
import { backoffMs, canFollow, DOVECOT_DOTLOCKS, KERNEL_LOCKS, planLocks, refreshEveryMs, type LockRequest } from './plan.js';

export interface LockOptions {
  timeoutMs: number;
  staleMs: number;
  /** An mbox's FILE.lock is broken only when older than this and its holder is gone ([locks] mbox_dotlock_stale). */
  mboxStaleMs?: number;
  deadline: Deadline;
  /** The session's record of held locks, for its front end's exit hook (holder.ts). */
  holder?: LockHolder;
}

export interface Lease {
  /** Paths held, in the order taken. */
  readonly held: readonly string[];
  /** Releases every lock in reverse order. Idempotent. */
  release(): Promise<void>;
}

interface Held {
  req: LockRequest;
  /** The token written into the lock file: what makes it ours. */
  content: LockContent;
}

/** The mbox kernel lock's fd, which the caller must give (plan.ts LockRequest.fd). */
function kernelFd(req: LockRequest): number {
  if (req.fd === undefined) throw new Error(`lock ${req.kind} ${req.path} needs the open descriptor`);
  return req.fd;
}

/** tryLock makes one non-blocking attempt; returns the content written, or undefined if held. */
async function tryLock(req: LockRequest, opts: LockOptions): Promise<LockContent | undefined> {
  // Dovecot's own lock files follow Dovecot's format and stale rule, not mda's.
  if (DOVECOT_DOTLOCKS.has(req.kind)) return tryDovecotLock(req.path, (ms) => opts.deadline.sleep(ms));
  // A kernel lock has no file and no token: an empty content marks it held.
  if (req.kind === 'mbox-fcntl' || req.kind === 'mbox-flock') return (await tryKernelLock(req.kind, kernelFd(req))) ? Buffer.alloc(0) : undefined;
  if (req.kind === 'mbox-dotlock' && req.helper) return (await tryHelperDotlock(req.helper, req.path)) ? helperContent() : undefined;
  const { staleMs } = opts;
  const { path } = req;
  const content = newContent();
  if (req.kind === 'mbox-dotlock') return (await tryMboxDotlock(path, content, opts.mboxStaleMs ?? staleMs)) ? content : undefined;
  if (await createLock(path, content)) return content;
  await breakIfStale(path, staleMs);
  return undefined;
}

/** release: the mirror of tryLock for one held lock. */
async function release(h: Held): Promise<void> {
  const { req } = h;
  if (req.kind === 'mbox-fcntl' || req.kind === 'mbox-flock') return releaseKernelLock(req.kind, kernelFd(req));
  if (req.kind === 'mbox-dotlock' && req.helper) return releaseHelperDotlock(req.helper, req.path);
  await removeIfOurs(req.path, h.content);
}

/** remember: what the exit hook must undo if the process ends holding it (the kernel drops kernel locks itself). */
function remember(holder: LockHolder | undefined, h: Held): void {
  if (!holder || KERNEL_LOCKS.has(h.req.kind)) return;
  const { helper, path } = h.req;
  holder.add(path, h.content, helper ? () => releaseHelperDotlockSync(helper, path) : undefined);
}

async function releaseAll(taken: Held[], holder: LockHolder | undefined): Promise<void> {
  for (const h of taken.splice(0).reverse()) {
    await release(h);
    if (!KERNEL_LOCKS.has(h.req.kind)) holder?.remove(h.req.path); // only now: the exit hook still covers an exit mid-release
  }
}

/** lockName: a lock as a deferral names it: the lock file, or the kernel lock and its file. */
const lockName = (req: LockRequest): string => (KERNEL_LOCKS.has(req.kind) ? `${req.path} (${req.kind === 'mbox-fcntl' ? 'fcntl' : 'flock'})` : req.path);

/**
 * acquireLocks takes every requested lock or none. Extra locks may be taken
 * while holding others only in canonical order (`after`).
 */
export async function acquireLocks(requests: readonly LockRequest[], opts: LockOptions, after: readonly LockRequest[] = []): Promise<Lease> {
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
  // The lock found held last: what the deferral names (the wait usually ends in a back-off, holding nothing).
  let busy = plan[0] ? lockName(plan[0]) : '';
  try {
    for (let attempt = 0; taken.length < plan.length; attempt++) {
      for (const req of plan) {
        if (budget.signal.aborted) throw budget.signal.reason;
        // Not raced: an abandoned attempt could still create the file and leave an orphan lock.
        const content = await tryLock(req, opts);
        if (content === undefined) {
          busy = lockName(req);
          break;
        }
        const h = { req, content };
        taken.push(h);
        remember(opts.holder, h);
      }
      if (taken.length === plan.length) break;
      // Busy: back off empty-handed so nobody waits on a lock we hold.
      await releaseAll(taken, opts.holder);
      await opts.deadline.race(opts.deadline.sleep(backoffMs(attempt, Math.random())), budget.signal);
    }
  } catch (err) {
    await releaseAll(taken, opts.holder);
    throw ended(err, busy);
  } finally {
    budget.done();
  }
  // Held longer than a fraction of `stale`: touch the files so nobody breaks a live lock.
  const refresh = opts.deadline.every(refreshEveryMs(opts.staleMs), () => {
    // Kernel locks never age; dotlockfile's lock holds our pid, which liblockfile readers check instead.
    for (const h of taken) if (!KERNEL_LOCKS.has(h.req.kind) && !h.req.helper) void refreshLock(h.req.path, h.content);
  });
  return {
    held: taken.map((h) => h.req.path),
    release: () => {
      refresh.stop();
      return releaseAll(taken, opts.holder);
    },
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
