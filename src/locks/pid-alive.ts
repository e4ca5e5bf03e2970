/**
 * Whether a lock's holder still runs on this host: the one check behind both
 * Dovecot's dotlock stale rule and the mbox FILE.lock's. kill(pid, 0) sends
 * nothing; EPERM means the process runs under another user, so it is alive.
 * Must not: decide staleness (the *-rule.ts files do) or touch lock files.
 */

/** pidAlive: kill(pid, 0); only ESRCH means gone. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
