/**
 * The mbox dotlock's rules, pure: who holds a FILE.lock and when it may be
 * broken. liblockfile (dotlockfile, mutt, procmail's lockfile) writes the
 * holder's pid as decimal text, mda writes `pid host nonce` (lock-file.ts), and
 * Postfix local(8) an empty file: the holder's pid is the leading digits.
 * A lock is broken only when its holder is gone. A pid of this host that no
 * longer runs is known gone: its lock is broken once it is DEAD_PID_MIN_AGE_MS
 * old (as liblockfile does at once and Dovecot after 2 s; the grace covers a
 * holder that has created the file but not yet written its pid), so a
 * SIGKILLed delivery (Postfix's command_time_limit) blocks the mbox for
 * seconds, not minutes. A holder that cannot be checked (no pid: Postfix's
 * empty lock; another host's pid, named by mda's token, on NFS) counts as gone
 * once the lock is older than [locks] mbox_dotlock_stale. A live holder's lock
 * is never broken, however old: a slow mutt rewrite is not a crash.
 * Must not: touch files (mbox-dotlock.ts does).
 */

/** A lock naming a dead pid of this host is broken once this old. */
export const DEAD_PID_MIN_AGE_MS = 2_000;

export interface MboxDotlockLook {
  /** How old the lock file is (now − mtime), in ms. */
  ageMs: number;
  staleMs: number;
  /** What the lock holds (at most a few hundred bytes); undefined when it cannot be read. */
  content: string | undefined;
  myHost: string;
  /** kill(pid, 0) succeeds or fails with anything but ESRCH. */
  pidAlive: (pid: number) => boolean;
}

/** dotlockHolder: the pid a lock file names, and the host when it says (mda's token); undefined pid when none. */
export function dotlockHolder(content: string): { pid?: number; host?: string } {
  const m = /^\s*([0-9]{1,10})(?:[ \t]+(\S+))?/.exec(content);
  if (!m) return {};
  const pid = Number(m[1]);
  if (pid <= 0 || pid > 0x7fffffff) return {};
  return m[2] === undefined ? { pid } : { pid, host: m[2] };
}

/** mboxDotlockStale: may this FILE.lock be removed? */
export function mboxDotlockStale(l: MboxDotlockLook): boolean {
  if (l.ageMs < DEAD_PID_MIN_AGE_MS) return false;
  const old = l.ageMs >= l.staleMs;
  if (l.content === undefined) return old;
  const { pid, host } = dotlockHolder(l.content);
  if (pid === undefined || (host !== undefined && host !== l.myHost)) return old;
  return !l.pidAlive(pid);
}
