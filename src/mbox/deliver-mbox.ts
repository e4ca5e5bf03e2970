/**
 * Delivers one message to one or more mbox files, all or nothing: every file
 * is opened and checked (append.ts), then all their locks are taken at once
 * by the lock manager in its canonical order (FILE.lock dotlocks, then fcntl,
 * then flock, as [locks] mbox_locks lists them); under the locks, each file's
 * journal left by a killed delivery is settled (journal-rule.ts), the quota is
 * checked by file size, and the entry is appended behind a fresh journal and
 * fsynced. `then` (the Maildir part of a mixed plan) runs while the mboxes
 * are still locked; if anything fails, every file is truncated back to its
 * size before the append, and only then are the locks released and the
 * descriptors closed (Postfix mail_copy.c: truncate before losing the lock).
 * Must not: open or close an mbox's descriptor while its locks are held
 * (closing any descriptor of a file drops this process's fcntl locks on it).
 */
import { constants as C } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Deadline } from '../deadline/deadline.js';
import { access, close, lstat } from '../io/fs-async.js';
import { withLocks, type LockOptions } from '../locks/acquire.js';
import type { LockHolder } from '../locks/holder.js';
import type { LockRequest } from '../locks/plan.js';
import type { Logger } from '../log/logger.js';
import { errnoOf } from '../outcome/classify.js';
import { OutcomeError, temp, type Outcome } from '../outcome/outcome.js';
import type { UserQuota } from '../quota/limits.js';
import { overQuotaOutcome } from '../quota/policy.js';
import { appendEntry, bytesAt, entryLength, openMbox, sizeOf, truncateBack, type OpenMbox } from './append.js';
import { fromLine } from './format.js';
import { HEAD_MAX, repairAction } from './journal-rule.js';
import { journalPath, readJournal, removeJournal, writeJournal } from './journal.js';
import { mboxOverQuota } from './quota-rule.js';

export interface MboxTarget {
  /** The name shown in logs and outcomes (INBOX, or the Sieve folder). */
  mailbox: string;
  path: string;
  /** The message's bytes for this file (a copy with edited headers may differ from the spool). */
  spoolPath: string;
}

export interface MboxDeliveryInput {
  targets: readonly MboxTarget[];
  /** Envelope sender ('' = null sender: MAILER-DAEMON). */
  sender: string;
  uid: number;
  quota: UserQuota;
  config: Pick<Config, 'locks'>;
  deadline: Deadline;
  logger: Logger;
  holder?: LockHolder;
  /** The user's state directory, for journals of mboxes whose directory is not ours to write. */
  stateDir: string;
  /** Runs once every mbox is appended and fsynced, still under the locks; throwing undoes the appends. */
  then?: () => Promise<void>;
  /** The commit gate: entered before the first byte is written (session.ts CommitGate). */
  gate: { enter(): boolean; leave(): void };
  now?: Date;
}

interface Opened extends MboxTarget, OpenMbox {
  /** The directory is writable by us: own FILE.lock and the journal beside the mbox. */
  dirWritable: boolean;
  journal: string;
}

const writable = (dir: string) => access(dir, C.W_OK).then(() => true, () => false);

/** lockRequests: the configured locks of every mbox (planLocks orders them). */
function lockRequests(files: readonly Opened[], config: Pick<Config, 'locks'>): LockRequest[] {
  const out: LockRequest[] = [];
  for (const f of files) {
    for (const type of config.locks.mboxLocks) {
      if (type === 'dotlock') out.push({ kind: 'mbox-dotlock', path: `${f.path}.lock`, ...(!f.dirWritable && { helper: config.locks.dotlockfile }) });
      else out.push({ kind: type === 'fcntl' ? 'mbox-fcntl' : 'mbox-flock', path: f.path, fd: f.fd });
    }
  }
  return out;
}

/** settleJournal: a partial append left by a killed delivery is cut off (under the locks), then the journal goes. */
async function settleJournal(f: Opened, uid: number, logger: Logger): Promise<void> {
  const j = await readJournal(f.journal, uid);
  if (!j) return;
  const size = await sizeOf(f.fd);
  const atOffset = size > j.offset ? await bytesAt(f.fd, j.offset, HEAD_MAX) : Buffer.alloc(0);
  if (repairAction(j, { dev: f.dev, ino: f.ino, size, atOffset }) === 'truncate') {
    if (!(await truncateBack(f.fd, j.offset))) throw new OutcomeError(temp('io', `cannot cut the partial message at byte ${j.offset} of ${f.path}`));
    logger.warn(`${f.path}: removed ${size - j.offset} bytes of a delivery killed mid-append`);
  }
  await removeJournal(f.journal);
}

/** The mbox must still be the file we opened and locked: a rename over it means our locks guard nothing. */
async function stillThere(f: Opened): Promise<void> {
  const st = await lstat(f.path).catch(() => undefined);
  if (!st || st.dev !== f.dev || st.ino !== f.ino) throw new OutcomeError(temp('mailbox-busy', `${f.path} was replaced while waiting for its locks`));
}

/** deliverToMboxes appends the message to every target; the outcome's file is the first mbox. */
export async function deliverToMboxes(x: MboxDeliveryInput): Promise<Outcome | undefined> {
  const files: Opened[] = [];
  try {
    for (const t of x.targets) {
      const dirWritable = await writable(dirname(t.path));
      const opened = await openMbox(t.path, x.uid);
      files.push({ ...t, ...opened, dirWritable, journal: journalPath(t.path, dirWritable, x.stateDir) });
    }
    const lockOpts: LockOptions = {
      timeoutMs: x.config.locks.timeoutMs, staleMs: x.config.locks.staleMs, mboxStaleMs: x.config.locks.mboxDotlockStaleMs, deadline: x.deadline, holder: x.holder,
    };
    return await withLocks(lockRequests(files, x.config), lockOpts, () => appendAll(x, files));
  } finally {
    for (const f of files) await close(f.fd).catch(() => undefined); // after the locks are released: see the header
  }
}

/** appendAll: under the locks. Returns a refusal (over quota) or undefined when every copy is stored. */
async function appendAll(x: MboxDeliveryInput, files: readonly Opened[]): Promise<Outcome | undefined> {
  const from = fromLine(x.sender, x.now ?? new Date());
  const before: number[] = [];
  const lengths: number[] = [];
  for (const f of files) {
    await stillThere(f);
    await settleJournal(f, x.uid, x.logger);
    const size = await sizeOf(f.fd);
    const length = await entryLength(from, f.spoolPath);
    const over = mboxOverQuota(size, length, x.quota);
    if (over) return overQuotaOutcome(x.quota.overQuota, `${f.path}: ${over}`);
    before.push(size);
    lengths.push(length);
  }
  if (!x.gate.enter()) {
    const reason: unknown = x.deadline.signal.reason;
    throw reason instanceof OutcomeError ? reason : new OutcomeError(temp('deadline', 'no commit after the deadline'));
  }
  let done = 0;
  try {
    for (const [i, f] of files.entries()) {
      await writeJournal(f.journal, { dev: f.dev, ino: f.ino, offset: before[i]!, length: lengths[i]!, head: from.subarray(0, HEAD_MAX) }, x.uid);
      done = i + 1;
      await appendEntry(f.fd, from, f.spoolPath, x.deadline);
      await removeJournal(f.journal);
    }
    await x.then?.();
    return undefined;
  } catch (err) {
    for (const [i, f] of files.slice(0, done).entries()) {
      if (await truncateBack(f.fd, before[i]!)) await removeJournal(f.journal);
      else x.logger.error(`could not truncate ${f.path} back to ${before[i]} bytes: the next delivery's journal check will`);
    }
    // RLIMIT_FSIZE (Postfix's mailbox_size_limit) caps the mbox file itself: full until mail is removed.
    if (errnoOf(err) === 'EFBIG') throw new OutcomeError(temp('mailbox-full', `${files[done - 1]?.path ?? 'mbox'} reached the file size limit (mailbox_size_limit)`));
    throw err;
  } finally {
    x.gate.leave();
  }
}
