/**
 * The one executor: commits any plan (Sieve's, or the implicit keep) for one
 * recipient. Folders are prepared first (with the INBOX fallback), then under
 * the recipient's commit lock: quota for all copies → the commit gate → every
 * copy linked and fsynced by store-copy.ts → one maildirsize line per copy.
 * A plan commits all or nothing: a copy that cannot be stored even in INBOX
 * undoes the copies already linked, and the error defers the delivery.
 * Must not: wait on anything but the filesystem while holding the lock, or
 * race the deadline once linking has started (a started commit runs to its end).
 */
import { join } from 'node:path';
import { withLocks } from '../locks/acquire.js';
import { commitLock, lockOptions, recalcLock } from '../locks/maildir-locks.js';
import type { Spool } from '../maildir/spool.js';
import { delivered, OutcomeError, temp, type Outcome } from '../outcome/outcome.js';
import { isUnlimited, type UserQuota } from '../quota/limits.js';
import { checkQuota } from '../quota/maildirsize.js';
import { overQuotaOutcome } from '../quota/policy.js';
import { appendDelivery, readQuota } from '../quota/store.js';
import type { Session } from '../session/session.js';
import { maildirInfo } from '../sieve/targets.js';
import { INBOX_TARGET, prepareFolders, type CommitTarget } from './prepare-folders.js';
import { storeCopy, unstoreCopy } from './store-copy.js';

export interface ExecuteInput {
  session: Session;
  /** Who the copies are for (the gate records the stored outcome under this name). */
  recipient: string;
  /** The top Maildir: the lock and maildirsize live here; the caller has prepared it. */
  maildir: string;
  uid: number;
  /** The recipient's sealed-or-open copy in maildir/tmp/; the caller discards it afterwards. */
  spool: Spool;
  /** At least one target. */
  targets: readonly CommitTarget[];
  quota: UserQuota;
}

export interface StoredCopy {
  mailbox: string;
  path: string;
}

export interface Executed {
  outcome: Outcome;
  stored: StoredCopy[];
}

export async function executePlan(x: ExecuteInput): Promise<Executed> {
  const { session: s } = x;
  const targets = await prepareFolders({ maildir: x.maildir, uid: x.uid, targets: x.targets, autocreate: s.config.delivery.autocreateFolders, deadline: s.deadline, logger: s.logger });
  if (isUnlimited(x.quota.limits)) return commit(x, targets);
  const opts = lockOptions(s.config, s.deadline, s.locks);
  const lock = commitLock(x.maildir);
  return withLocks([lock], opts, async () => {
    const usage = await readQuota(x.maildir, x.quota.limits, {
      withRecalcLock: (fn) => withLocks([recalcLock(x.maildir)], opts, fn, [lock]),
    });
    if (usage.recalculated) s.logger.info(`maildirsize recalculated for ${x.maildir}: ${usage.reason}`);
    // Every copy counts against the quota (Maildir++ counts files, and each link is one).
    const n = targets.length;
    const check = checkQuota({ bytes: usage.bytes, count: usage.count + n - 1 }, x.quota.limits, x.quota.grace, x.spool.bytes * n);
    if (check.over) return { outcome: overQuotaOutcome(x.quota.overQuota, n > 1 ? `${check.detail} (${n} copies)` : check.detail), stored: [] };
    return commit(x, targets);
  });
}

/** commit passes the gate, links every copy (all or nothing), records the outcome, then appends maildirsize. */
async function commit(x: ExecuteInput, targets: CommitTarget[]): Promise<Executed> {
  const { session: s } = x;
  if (!s.gate.enter()) {
    const reason: unknown = s.deadline.signal.reason;
    return { outcome: reason instanceof OutcomeError ? reason.outcome : temp('deadline', 'no commit after the deadline'), stored: [] };
  }
  try {
    await x.spool.seal();
    const stored = await linkAll(x, targets);
    const outcome = delivered(stored.map((c) => c.mailbox).join(','), stored[0]!.path);
    s.gate.stored(x.recipient, outcome);
    for (const _ of stored) {
      // Stored now. A failed append only makes maildirsize stale; the next reader recalculates.
      await appendDelivery(x.maildir, x.spool.bytes).catch((err: unknown) => s.logger.warn(`maildirsize append failed in ${x.maildir}: ${(err as Error).message}`));
    }
    return { outcome, stored };
  } finally {
    s.gate.leave();
  }
}

/** linkAll stores every target; a folder copy that fails goes to INBOX (unless quarantine); any other failure undoes all. */
async function linkAll(x: ExecuteInput, targets: CommitTarget[]): Promise<StoredCopy[]> {
  const { logger, names } = x.session;
  const stored: StoredCopy[] = [];
  // INBOX is the fallback of every folder: stored there once, whichever copies fall back.
  let inboxPlanned = targets.some((t) => t.dir === '');
  const store = async (t: CommitTarget) => {
    const { letters, dropped } = maildirInfo(t.flags);
    if (dropped.length) logger.info(`flags without a Maildir letter not stored for ${t.mailbox}: ${dropped.join(' ')}`);
    stored.push({ mailbox: t.mailbox, path: await storeCopy(x.spool, join(x.maildir, t.dir), letters, names) });
  };
  try {
    for (const t of targets) {
      try {
        await store(t);
      } catch (err) {
        if (t.dir === '' || t.quarantine) throw err;
        logger.warn(`could not store a copy in ${JSON.stringify(t.mailbox)} (${(err as Error).message}): storing in INBOX instead`);
        if (!inboxPlanned) await store({ ...INBOX_TARGET, flags: t.flags });
        inboxPlanned = true;
      }
    }
    return stored;
  } catch (err) {
    for (const c of stored) {
      if (!(await unstoreCopy(c.path))) logger.error(`could not undo the copy ${c.path}: it may be delivered again`);
    }
    throw err;
  }
}
