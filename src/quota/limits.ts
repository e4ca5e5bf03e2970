/**
 * Which quota applies to one recipient: the global [quota] table, with each
 * key of [users.NAME] quota overriding its global counterpart on its own.
 * Owns that merge only; parsing is config/validate.ts, arithmetic maildirsize.ts.
 * Pure: no I/O.
 */
import type { Config, OverQuota } from '../config/schema.js';
import { mailboxDir } from '../sieve/mailbox-name.js';
import type { QuotaLimits } from './maildirsize.js';

export interface UserQuota {
  limits: QuotaLimits;
  /** Bytes the last message may go over limits.storage. */
  grace: number;
  overQuota: OverQuota;
  /** Folder directories not counted (".Trash"), from `[quota] ignore_folders`. */
  ignoreFolders: string[];
}

/** quotaFor returns the effective quota for `user` (undefined or unknown: the global one). */
export function quotaFor(config: Config, user: string | undefined): UserQuota {
  const g = config.quota;
  // users has no prototype (validate.ts), but a hand-built Config may: only own entries count.
  const own = user !== undefined && Object.prototype.hasOwnProperty.call(config.users, user);
  const u = own ? (config.users[user]?.quota ?? {}) : {};
  return {
    limits: { storage: u.storage ?? g.storage, messages: u.messages ?? g.messages },
    grace: u.grace ?? g.grace,
    overQuota: g.overQuota,
    ignoreFolders: ignoredDirs(g.ignoreFolders),
  };
}

/** ignoredDirs maps folder names to their Maildir++ directories (mUTF-7, as Dovecot and Courier store them). */
export function ignoredDirs(names: readonly string[]): string[] {
  const dirs: string[] = [];
  for (const name of names) {
    const d = mailboxDir(name);
    if (d.ok && d.dir !== '') dirs.push(d.dir); // validate.ts already refused the others
  }
  return dirs;
}

/** isUnlimited: no limit at all, so there is nothing to check before commit. */
export function isUnlimited(limits: QuotaLimits): boolean {
  return limits.storage === 0 && limits.messages === 0;
}
