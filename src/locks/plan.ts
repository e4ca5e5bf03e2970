/**
 * Lock ordering as data: every lock mda takes has a kind with a fixed rank,
 * and a request is sorted into one canonical order (rank, then path) before
 * anything is taken. Two processes can then never hold each other's next lock,
 * which is what deadlocked the honeypot batch job. Also the pure staleness and
 * backoff rules. Pure: no I/O.
 */

/** Every kind of lock mda knows; new features add a kind and a rank here. */
export const LOCK_RANK = {
  commit: 10, // per recipient: quota check → Maildir write → maildirsize append
  'quota-recalc': 20, // rewriting maildirsize (also taken by `mda quota recalc`)
  'sieve-state': 30, // per user: the Sieve vacation sent-log and duplicate ids (~/.mda/), taken alone after the commit
  // Dovecot's own dotlock of one Maildir folder (dovecot-uidlist.lock), held only while dovecot-keywords
  // is re-read and rewritten; taken alone before the commit. Its rank only matters to a future caller that
  // holds the commit lock (it may follow it) or wants quota-recalc with it (Dovecot-owned lock first).
  'dovecot-uidlist': 15,
  // An mbox (/var/mail/USER, or a Sieve folder file): the locks every other program there takes, in
  // Postfix mbox_open()'s order: the FILE.lock dotlock first, then the kernel locks on the open
  // file (fcntl, then flock), as [locks] mbox_locks lists them. Ranked before the Maildir's commit
  // lock: a mixed plan (an mbox inbox, Maildir++ folders) takes a Maildir's while they are held
  // (mbox/deliver-mbox.ts `then`), never the other way round.
  'mbox-dotlock': 5,
  'mbox-fcntl': 6,
  'mbox-flock': 7,
} as const;

export type LockKind = keyof typeof LOCK_RANK;

/**
 * Kinds whose lock file is Dovecot's, not mda's: created as Dovecot's file_dotlock does
 * (O_EXCL, `pid:host`) and broken only by Dovecot's stale rule (dovecot-dotlock.ts), so
 * Dovecot and mda exclude each other.
 */
export const DOVECOT_DOTLOCKS: ReadonlySet<LockKind> = new Set<LockKind>(['dovecot-uidlist']);

/**
 * Kinds that lock an open descriptor in the kernel (fcntl, flock), not a lock file: several
 * of them may lock one path, and the process's exit drops them, so no exit hook is needed.
 */
export const KERNEL_LOCKS: ReadonlySet<LockKind> = new Set<LockKind>(['mbox-fcntl', 'mbox-flock']);

export interface LockRequest {
  kind: LockKind;
  path: string;
  /** Kernel locks: the open descriptor of `path` to lock (the one the caller writes through). */
  fd?: number;
  /** mbox-dotlock: take it through this setgid helper (dotlockfile) instead of creating it ourselves. */
  helper?: string;
}

/** What makes two requests the same lock: the path, and for kernel locks the kind too. */
const lockKey = (r: LockRequest): string => (KERNEL_LOCKS.has(r.kind) ? `${r.path}\0${r.kind}` : r.path);

/** planLocks sorts a request into the canonical order and drops duplicates. */
export function planLocks(requests: readonly LockRequest[]): LockRequest[] {
  const byPath = new Map<string, LockRequest>();
  for (const r of requests) {
    const seen = byPath.get(lockKey(r));
    if (!seen || LOCK_RANK[r.kind] < LOCK_RANK[seen.kind]) byPath.set(lockKey(r), r);
  }
  return [...byPath.values()].sort(
    (a, b) => LOCK_RANK[a.kind] - LOCK_RANK[b.kind] || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
  );
}

/** canFollow: may a lock of kind `next` be taken while `held` are held? Only in canonical order. */
export function canFollow(held: readonly LockRequest[], next: LockRequest): boolean {
  const last = held[held.length - 1];
  if (!last) return true;
  const order = planLocks([last, next]);
  return order[0] === last && lockKey(last) !== lockKey(next);
}

/**
 * A lock is stale when its file has not been touched for staleMs: its holder
 * was killed (SIGKILL, power loss) before it could remove it. Holders keep
 * locks for milliseconds, so staleMs (default 60 s) is far beyond any live use,
 * and a live holder refreshes its locks' mtime anyway (refreshEveryMs).
 */
export function isStale(mtimeMs: number, nowMs: number, staleMs: number): boolean {
  return nowMs - mtimeMs >= staleMs;
}

/**
 * refreshEveryMs: how often a held lock's mtime is touched. A third of `stale`
 * leaves two missed refreshes (a busy event loop, a slow disk) before a live
 * lock could look stale; never more often than every 50 ms.
 */
export function refreshEveryMs(staleMs: number): number {
  return Math.max(50, Math.floor(staleMs / 3));
}

/** backoffMs: exponential from 5 ms, capped at 250 ms, with full jitter (rand in [0,1)). */
export function backoffMs(attempt: number, rand: number): number {
  const cap = Math.min(250, 5 * 2 ** Math.min(attempt, 10));
  return Math.max(1, Math.floor(cap * (0.5 + rand / 2)));
}
