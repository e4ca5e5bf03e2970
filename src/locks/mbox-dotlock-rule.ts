/**
 * The mbox dotlock's rules, pure: who holds a FILE.lock and when it may be
 * broken. liblockfile (dotlockfile, mutt, procmail's lockfile) writes the
 * holder's pid as decimal text, mda writes `pid host nonce` (lock-file.ts), and
 * Postfix local(8) an empty file: the holder's pid is the leading digits.
 * A lock is broken only when it is older than [locks] mbox_dotlock_stale AND its
 * holder is gone: no pid in it (Postfix's, or a crashed writer's empty file), a
 * pid that no longer runs, or a pid of another host (mda's token names the host;
 * a lock on NFS from another machine cannot be checked, so age alone decides).
 * A live holder's lock is never broken, however old: a slow mutt rewrite is not a crash.
 * Must not: touch files (mbox-dotlock.ts does).
 */

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
  if (l.ageMs < l.staleMs) return false;
  if (l.content === undefined) return true;
  const { pid, host } = dotlockHolder(l.content);
  if (pid === undefined) return true;
  if (host !== undefined && host !== l.myHost) return true;
  return !l.pidAlive(pid);
}
