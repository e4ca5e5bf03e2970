/**
 * The commit: the only step that runs under the per-recipient lock, and the
 * shortest possible one: quota check → Maildir link into new/ → maildirsize
 * append. Reading stdin, scanning and everything slow happen before, unlocked.
 * Must not: wait on anything but the filesystem while holding the lock.
 */
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Deadline } from '../deadline/deadline.js';
import type { LockOptions } from '../locks/acquire.js';
import type { LockRequest } from '../locks/plan.js';
import type { Logger } from '../log/logger.js';
import type { Spool } from '../maildir/spool.js';
import { delivered, type Outcome } from '../outcome/outcome.js';
import { commitWithQuota } from '../quota/commit-check.js';
import type { UserQuota } from '../quota/limits.js';

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
  // The quota decides under the commit lock (src/quota/commit-check.ts); the link is ours.
  return commitWithQuota(
    { maildir: c.maildir, quota: c.quota, bytes: c.spool.bytes, copies: 1, deadline: c.deadline, lockOptions: lockOptions(c.config, c.deadline), logger: c.logger, commitLock: commitLock(c.maildir), recalcLock: recalcLock(c.maildir) },
    async () => ({ value: delivered(c.folder, await c.spool.commit(c.folderDir)), stored: 1 }),
    async (refused) => (await c.spool.discard(), refused),
  );
}
