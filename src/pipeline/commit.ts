/**
 * The commit: the only step that runs under the per-recipient lock, and the
 * shortest possible one: quota check → Maildir link into new/ → maildirsize
 * append. Reading stdin, scanning and everything slow happen before, unlocked.
 * Must not: wait on anything but the filesystem while holding the lock.
 */
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Deadline } from '../deadline/deadline.js';
import { withLocks, type LockOptions } from '../locks/acquire.js';
import type { LockRequest } from '../locks/plan.js';
import type { Logger } from '../log/logger.js';
import type { Spool } from '../maildir/spool.js';
import { delivered, type Outcome } from '../outcome/outcome.js';
import { isUnlimited, type UserQuota } from '../quota/limits.js';
import { checkQuota } from '../quota/maildirsize.js';
import { overQuotaOutcome } from '../quota/policy.js';
import { appendDelivery, readQuota } from '../quota/store.js';

export interface CommitInput {
  maildir: string; // the top Maildir: the lock and maildirsize live here
  folderDir: string;
  folder: string;
  spool: Spool;
  quota: UserQuota;
  config: Config;
  deadline: Deadline;
  logger: Logger;
}

/** Lock files at the top of the Maildir; `maildirsize.lock` is also Dovecot's dotlock name for it. */
export const commitLock = (maildir: string): LockRequest => ({ kind: 'commit', path: join(maildir, 'mda-commit.lock') });
export const recalcLock = (maildir: string): LockRequest => ({ kind: 'quota-recalc', path: join(maildir, 'maildirsize.lock') });

export function lockOptions(config: Config, deadline: Deadline): LockOptions {
  return { timeoutMs: config.locks.timeoutMs, staleMs: config.locks.staleMs, deadline };
}

export async function commitDelivery(c: CommitInput): Promise<Outcome> {
  const opts = lockOptions(c.config, c.deadline);
  const lock = commitLock(c.maildir);
  const commit = async (): Promise<Outcome> => {
    const file = await c.spool.commit(c.folderDir);
    // Delivered now. A failed append only makes maildirsize stale; the next reader recalculates.
    await appendDelivery(c.maildir, c.spool.bytes).catch((err: unknown) =>
      c.logger.warn(`maildirsize append failed in ${c.maildir}: ${(err as Error).message}`),
    );
    return delivered(c.folder, file);
  };
  // Without a quota there is nothing to check, and the O_APPEND line needs no lock (Maildir++).
  if (isUnlimited(c.quota.limits)) return commit();
  return withLocks([lock], opts, async () => {
    const usage = await readQuota(c.maildir, c.quota.limits, {
      withRecalcLock: (fn) => withLocks([recalcLock(c.maildir)], opts, fn, [lock]),
    });
    if (usage.recalculated) c.logger.info(`maildirsize recalculated for ${c.maildir}: ${usage.reason}`);
    const check = checkQuota(usage, c.quota.limits, c.quota.grace, c.spool.bytes);
    if (check.over) {
      await c.spool.discard();
      return overQuotaOutcome(c.quota.overQuota, check.detail);
    }
    return commit();
  });
}
