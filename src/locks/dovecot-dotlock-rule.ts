/**
 * Dovecot's dotlock rules (src/lib/file-dotlock.c), pure: what a lock file of
 * Dovecot's holds (`pid:host`, no newline), how its pid is read
 * (read_local_pid) and when a lock counts as stale (check_lock): older than 2 s
 * with a pid of this host that no longer runs, or, when no pid can be read,
 * neither the lock nor the file it protects changed for 120 s
 * (MAILDIR_UIDLIST_LOCK_STALE_TIMEOUT).
 * One deliberate difference: Dovecot overrides a lock holding its own pid; mda
 * treats its own pid as alive, because LMTP sessions share one process and one
 * must never break another's lock.
 * Must not: touch files (dovecot-dotlock.ts does).
 */

/** Dovecot's MAILDIR_UIDLIST_LOCK_STALE_TIMEOUT. */
export const DOVECOT_STALE_S = 120;
/** Dovecot's STALE_PID_CHECK_SECS: a younger lock's pid is not read (its holder most likely lives). */
export const STALE_PID_CHECK_S = 2;
/** read_local_pid reads at most this much. */
export const DOVECOT_LOCK_READ_MAX = 511;

export const dovecotLockContent = (pid: number, host: string): string => `${pid}:${host}`;

/** lockPid: read_local_pid: `pid:host` (one trailing LF allowed); a pid only when host is ours and pid > 0. */
export function lockPid(content: string, myHost: string): number | undefined {
  const text = content.endsWith('\n') ? content.slice(0, -1) : content;
  const colon = text.indexOf(':');
  if (colon < 0 || text.slice(colon + 1) !== myHost) return undefined;
  const pid = text.slice(0, colon);
  if (!/^[0-9]+$/.test(pid)) return undefined;
  const n = Number(pid);
  return n > 0 && n <= 0x7fffffff ? n : undefined;
}

export interface FileTimes {
  mtimeS: number;
  ctimeS: number;
}

/** changeTime: update_change_info's first look at a file: its mtime if newer than ctime and not in the future, else its ctime. */
export function changeTime(t: FileTimes, nowS: number): number {
  return t.mtimeS <= nowS && t.mtimeS > t.ctimeS ? t.mtimeS : t.ctimeS;
}

export interface StaleInput {
  nowS: number;
  lock: FileTimes;
  /** What the lock file holds (undefined when unreadable). */
  content: string | undefined;
  myHost: string;
  /** Whether a pid runs: kill(pid, 0) succeeds or fails with anything but ESRCH. */
  pidAlive: (pid: number) => boolean;
  /** The protected file (dovecot-uidlist), when it exists. */
  protectedFile?: FileTimes;
}

/** dovecotLockStale: may the lock be overridden (Dovecot check_lock, with own-pid taken as alive)? */
export function dovecotLockStale(i: StaleInput): boolean {
  if (i.lock.mtimeS < i.nowS - STALE_PID_CHECK_S && i.content !== undefined) {
    const pid = lockPid(i.content, i.myHost);
    if (pid !== undefined) return !i.pidAlive(pid);
  }
  let last = changeTime(i.lock, i.nowS);
  if (i.protectedFile) last = Math.max(last, changeTime(i.protectedFile, i.nowS));
  return i.nowS > last + DOVECOT_STALE_S;
}
