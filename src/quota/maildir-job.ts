/**
 * One Maildir's work for `mda quota report|recalc`, done inside a worker
 * process that already runs as the Maildir's owner (maildir-worker.ts starts
 * it): resolve the path once, check who owns it, then read maildirsize and
 * count (report, writes nothing) or rebuild it under the quota-recalc lock.
 * The path is resolved once and every later call uses the resolved one, so a
 * symlink the user swaps meanwhile changes nothing; new/, cur/ and tmp/ that
 * are symlinks are refused, not followed.
 * Must not: pick Maildirs, format output, spawn processes or change uid.
 */
import { lstat, realpath, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Deadline } from '../deadline/deadline.js';
import { withLocks } from '../locks/acquire.js';
import type { LockHolder } from '../locks/holder.js';
import { recalcLock } from '../locks/maildir-locks.js';
import { limitsInForce, recalcReason, type QuotaLimits, type Usage } from './maildirsize.js';
import { scanMaildir } from './scan.js';
import { readMaildirsize, recalculate } from './store.js';

/** What the parent sends: everything the worker needs, so it never reads root's config. */
export interface MaildirJob {
  op: 'usage' | 'rebuild';
  maildir: string;
  /** mda's quota for the user (0 = none): a maildirsize header mda did not set may stand instead. */
  limits: QuotaLimits;
  ignore: string[];
  locks: { timeoutMs: number; staleMs: number };
  /** Set when root started the worker as this uid: the Maildir must be owned by it. */
  expectUid?: number;
  /** The worker's time (the parent ends it after that anyway): bounds lock waits. */
  budgetMs: number;
}

/** limits: the quota in force for that Maildir (mda's, else its maildirsize header: limitsInForce). */
export type MailboxResult = { usage: Usage; limits?: QuotaLimits } | { missing: true } | { error: string };

export interface JobContext {
  deadline: Deadline;
  locks: LockHolder;
}

/** runMaildirJob does the job; every failure is an error line for that Maildir, never a throw. */
export async function runMaildirJob(job: MaildirJob, ctx: JobContext): Promise<MailboxResult> {
  let real: string;
  try {
    real = await realpath(job.maildir);
    const st = await stat(real);
    if (!st.isDirectory()) return { error: `${job.maildir} is not a directory` };
    if (job.expectUid !== undefined && st.uid !== job.expectUid) {
      return { error: `${job.maildir} is owned by uid ${st.uid}, not uid ${job.expectUid}; not counted` };
    }
    if (job.expectUid === 0) await checkRootPath(real);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { missing: true };
    return { error: firstLine(err) };
  }
  try {
    return job.op === 'usage' ? await usageOf(real, job) : await rebuild(real, job, ctx);
  } catch (err) {
    return { error: firstLine(err) };
  }
}

/**
 * usageOf: the usage from a maildirsize that can be trusted, else a count of
 * the folders. Never writes (no maildirsize, no lock, nothing in tmp/).
 */
async function usageOf(maildir: string, job: MaildirJob): Promise<MailboxResult> {
  const head = await readMaildirsize(maildir);
  if (head?.notRegular) return { error: `${head.notRegular}; not read` };
  const { limits } = limitsInForce(job.limits, head?.header?.limits);
  const reason = recalcReason(head?.parsed, { fileSize: head?.size ?? 0, mtimeMs: head?.mtimeMs ?? 0, nowMs: Date.now(), limits });
  const p = head?.parsed;
  if (reason === undefined && p && !('corrupt' in p)) return { usage: { bytes: p.bytes, count: p.count }, limits };
  const scan = await scanMaildir(maildir, { ignore: new Set(job.ignore), refuseSymlinks: true });
  return { usage: { bytes: scan.bytes, count: scan.count }, limits };
}

/**
 * rebuild recalculates maildirsize under the lock. A header mda did not set
 * (no mda quota for the user) is kept verbatim: Maildir++ makes it the quota.
 * A FIFO (or other non-file) as maildirsize is the user's doing: reported, left alone.
 */
async function rebuild(maildir: string, job: MaildirJob, ctx: JobContext): Promise<MailboxResult> {
  const lockOpts = { ...job.locks, deadline: ctx.deadline, holder: ctx.locks };
  return withLocks([recalcLock(maildir)], lockOpts, async () => {
    // The rebuilt file is written in tmp/ and renamed: tmp/ must be the Maildir's own directory.
    const tmp = await lstat(join(maildir, 'tmp'));
    if (!tmp.isDirectory()) throw new Error(`${join(maildir, 'tmp')} is not a directory (a symlink is not followed); maildirsize not written`);
    const head = await readMaildirsize(maildir);
    if (head?.notRegular) return { error: `${head.notRegular}; left as it is` };
    const inForce = limitsInForce(job.limits, head?.header?.limits);
    const definition = inForce.from === 'maildirsize' && head?.header ? head.header.line : inForce.limits;
    const usage = await recalculate(maildir, definition, { ignore: new Set(job.ignore), refuseSymlinks: true });
    return { usage, limits: inForce.limits };
  });
}

/**
 * checkRootPath: a Maildir owned by root is counted as root, so no other user
 * may be able to change where its path leads. Every directory from it up to /
 * must be root's and not writable by group or others (a sticky one, like
 * /tmp, is fine: others cannot rename root's entries in it).
 */
async function checkRootPath(real: string): Promise<void> {
  for (let dir = real; ; dir = dirname(dir)) {
    const st = await lstat(dir);
    const othersMayChange = (st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0;
    if (st.uid !== 0 || othersMayChange) throw new Error(`${dir} can be changed by users other than root; the root-owned Maildir below it is not counted as root`);
    if (dir === '/') return;
  }
}

const firstLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
