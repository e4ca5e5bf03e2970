/**
 * Drops root privileges to the recipient before any of the recipient's paths
 * is resolved or opened, so a symlink the user planted cannot make mda write
 * where the user could not. Order matters: groups, then gid, then uid (after
 * setuid we could no longer change the others).
 * Must not: look accounts up (accounts.ts) or decide whether to switch (recipient.ts).
 */
import type { Account } from './accounts.js';

/** process.initgroups exists on POSIX but is missing from @types/node. */
type WithInitgroups = NodeJS.Process & { initgroups?: (user: string, extraGroup: number) => void };

export function switchToAccount(account: Account): void {
  const proc = process as WithInitgroups;
  if (!proc.setuid || !proc.setgid || !proc.initgroups) {
    throw new Error('this platform cannot switch users');
  }
  try {
    proc.initgroups(account.name, account.gid);
  } catch {
    process.setgroups?.([account.gid]); // an account known only by uid has no group list: keep just its gid
  }
  proc.setgid(account.gid);
  proc.setuid(account.uid);
  if (process.geteuid?.() !== account.uid || process.getegid?.() !== account.gid) {
    throw new Error(`switching to uid ${account.uid} gid ${account.gid} did not take effect`);
  }
}
