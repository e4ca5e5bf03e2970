/**
 * The Maildir++ quota of a commit, for every commit path: one entry point,
 * commitWithQuota(input, store, refuse). Contract:
 *  1. BEFORE the commit lock: read maildirsize; when Courier's rule does not
 *     trust it for this message (maildirquota.c docheckquota), recount the
 *     folders under the quota-recalc lock within a budget from the deadline.
 *     An unfinished count leaves its progress in tmp/ (scan-state.ts), so
 *     later deliveries converge on a Maildir of any size.
 *  2. UNDER the commit lock (taken here): re-read maildirsize (no scan, no
 *     recalc lock) and decide: fits → store() runs, then one maildirsize line
 *     per stored copy; over on trusted sums → refuse([quota] over_quota);
 *     over on sums nobody recounted → once: leave the lock, recount (1), retry;
 *     then refuse(4.2.2). No quota at all → store() without the commit lock.
 * Must not: link messages itself, or scan or wait for the recalc lock while
 * holding the commit lock.
 */
import type { Deadline } from '../deadline/deadline.js';
import { acquireLocks, withLocks, type LockOptions } from '../locks/acquire.js';
import type { LockRequest } from '../locks/plan.js';
import type { Logger } from '../log/logger.js';
import type { Outcome } from '../outcome/outcome.js';
import { commitDecision, recalcBudgetMs } from './commit-policy.js';
import type { UserQuota } from './limits.js';
import { formatMaildirsize, limitsInForce, recalcReason, type Incoming, type LimitsSource, type QuotaLimits, type Usage } from './maildirsize.js';
import { newestDirMtime, scanMaildir } from './scan.js';
import { clearScanState, readScanState, saveScanState } from './scan-state.js';
import { appendDelivery, readMaildirsize, writeMaildirsize, type MaildirsizeHead } from './store.js';

export interface CommitQuotaInput {
  /** The top Maildir: maildirsize and the locks live here. */
  maildir: string;
  quota: UserQuota;
  /** Bytes of one stored copy. */
  bytes: number;
  /** Files the plan stores (each link is one Maildir++ message). */
  copies: number;
  deadline: Deadline;
  lockOptions: LockOptions;
  logger: Logger;
  /** The per-recipient commit lock (`mda-commit.lock`). */
  commitLock: LockRequest;
  /** The quota-recalc lock (`maildirsize.lock`, kind 'quota-recalc'). */
  recalcLock: LockRequest;
}

/** What store() did: its result for the caller and how many copies it linked. */
export interface Stored<T> {
  value: T;
  stored: number;
}

/** How long the recalc lock is waited for: another delivery may just be finishing its recount. */
const RECALC_LOCK_WAIT_MS = 1000;

interface Prepared {
  /** Usage from the fresh recount, if one completed. */
  recounted?: Usage;
  /** A lower bound from an unfinished count. */
  partial?: Usage;
}

type Decision = { fits: true } | { fits: false; outcome: Outcome; recountMayHelp: boolean };

/** commitWithQuota runs store() if the message fits the quota in force, else refuse(outcome) (see the header). */
export async function commitWithQuota<T>(c: CommitQuotaInput, store: () => Promise<Stored<T>>, refuse: (o: Outcome) => Promise<T>): Promise<T> {
  const stored = async (): Promise<T> => {
    const r = await store();
    await recordCopies(c, r.stored);
    return r.value;
  };
  const incoming: Incoming = { bytes: c.bytes, copies: c.copies, grace: c.quota.grace };
  const head = await readMaildirsize(c.maildir);
  const inForce = limitsInForce(c.quota.limits, head?.header?.limits);
  // Without a quota there is nothing to check, and the O_APPEND line needs no lock (Maildir++).
  // No file and no quota: nothing to append to (appendDelivery never creates one), so no open().
  // A maildirsize created meanwhile is a recount, which may or may not see this copy, exactly as
  // when the append's open() had come first: Maildir++ readers recount a file that drifted.
  if (inForce.from === 'none') return head === undefined ? (await store()).value : stored();

  let prepared: Prepared = untrusted(head, inForce.limits, incoming) ? await recount(c, inForce, incoming) : {};
  for (let round = 0; ; round++) {
    const RETRY = Symbol('retry');
    const r = await withLocks([c.commitLock], c.lockOptions, async () => {
      const d = await decide(c, prepared, incoming);
      if (d.fits) return stored();
      // Deliveries that committed since our read may have filled it: recount once, outside the lock.
      if (d.recountMayHelp && round === 0) return RETRY;
      return refuse(d.outcome);
    });
    if (r !== RETRY) return r as T;
    const now = await readMaildirsize(c.maildir);
    prepared = await recount(c, limitsInForce(c.quota.limits, now?.header?.limits), incoming);
  }
}

/** decide: under the commit lock, from a cheap re-read of maildirsize. */
async function decide(c: CommitQuotaInput, prepared: Prepared, incoming: Incoming): Promise<Decision> {
  const now = await readMaildirsize(c.maildir);
  const { limits } = limitsInForce(c.quota.limits, now?.header?.limits);
  const fromFile = usable(now);
  const trusted = prepared.recounted !== undefined || (fromFile !== undefined && !untrusted(now, limits, incoming));
  // Lines appended since a recount are deliveries that committed meanwhile: they count.
  const usage = fromFile ?? prepared.recounted ?? prepared.partial ?? { bytes: 0, count: 0 };
  const outcome = commitDecision({ usage, limits, incoming, trusted, overQuota: c.quota.overQuota });
  if (outcome === undefined) return { fits: true };
  return { fits: false, outcome, recountMayHelp: !trusted };
}

/** untrusted: recalcReason says the file cannot decide for this message. */
function untrusted(head: MaildirsizeHead | undefined, limits: QuotaLimits, incoming: Incoming): boolean {
  return reasonFor(head, limits, incoming) !== undefined;
}

function reasonFor(head: MaildirsizeHead | undefined, limits: QuotaLimits, incoming: Incoming): string | undefined {
  return recalcReason(head?.parsed, { fileSize: head?.size ?? 0, mtimeMs: head?.mtimeMs ?? 0, nowMs: Date.now(), limits, incoming });
}

/** usable: the file's sums when it parses and its totals are not negative (else nothing). */
function usable(head: MaildirsizeHead | undefined): Usage | undefined {
  const p = head?.parsed;
  if (!p || 'corrupt' in p || p.bytes < 0 || p.count < 0) return undefined;
  return { bytes: p.bytes, count: p.count };
}

/**
 * recount rebuilds maildirsize under the recalc lock within the budget. A busy
 * lock or a budget that runs out leave the sums untrusted (the caller may let
 * the message in, never bounce it); the deadline itself firing is the caller's.
 */
async function recount(c: CommitQuotaInput, inForce: { limits: QuotaLimits; from: LimitsSource }, incoming: Incoming): Promise<Prepared> {
  const budgetMs = recalcBudgetMs(c.deadline.remaining(), c.lockOptions.timeoutMs, c.lockOptions.staleMs);
  if (budgetMs <= 0) return {};
  const budget = c.deadline.budget(budgetMs, 'recounting the quota');
  try {
    let lease;
    try {
      lease = await acquireLocks([c.recalcLock], { ...c.lockOptions, timeoutMs: Math.min(RECALC_LOCK_WAIT_MS, budgetMs) });
    } catch (err) {
      if (c.deadline.signal.aborted) throw err;
      c.logger.info(`maildirsize of ${c.maildir} not recounted (${(err as Error).message}): deciding on the recorded sums`);
      return {};
    }
    try {
      // Another delivery may have rebuilt it while we waited for the lock: don't count twice.
      const again = await readMaildirsize(c.maildir);
      const reason = reasonFor(again, inForce.limits, incoming);
      if (reason === undefined) return {};
      const usage = await countAndWrite(c, inForce, again, budget.signal);
      if ('partial' in usage) {
        c.logger.info(`maildirsize of ${c.maildir} needs a recount (${reason}); counted ${usage.partial.count} messages before the budget ran out, resuming next time`);
        return usage;
      }
      c.logger.info(`maildirsize recalculated for ${c.maildir}: ${reason}`);
      return usage;
    } finally {
      await lease.release();
    }
  } finally {
    budget.done();
  }
}

/** countAndWrite counts (resuming saved progress) and, if the count completed, writes maildirsize. */
async function countAndWrite(
  c: CommitQuotaInput,
  inForce: { limits: QuotaLimits; from: LimitsSource },
  head: MaildirsizeHead | undefined,
  signal: AbortSignal,
): Promise<{ recounted: Usage } | { partial: Usage }> {
  const ignore = new Set(c.quota.ignoreFolders);
  // A quota mda did not set is kept verbatim (Maildir++: the header is the quota).
  const definition = inForce.from === 'maildirsize' && head?.header ? head.header.line : inForce.limits;
  let scan = await scanMaildir(c.maildir, { ignore, signal, state: await readScanState(c.maildir) });
  if (scan.complete && !signal.aborted && (await newestDirMtime(c.maildir, ignore)) > scan.maxMtimeMs) {
    // A delivery or an expunge raced the count: count what changed once more, if time allows.
    const again = await scanMaildir(c.maildir, { ignore, signal, state: scan.state });
    if (again.complete) scan = again;
  }
  if (!scan.complete) {
    await saveScanState(c.maildir, scan.state).catch((err: unknown) =>
      c.logger.warn(`quota count progress not saved in ${c.maildir}/tmp: ${(err as Error).message}`),
    );
    return { partial: { bytes: scan.bytes, count: scan.count } };
  }
  await writeMaildirsize(c.maildir, formatMaildirsize(definition, scan.bytes, scan.count));
  await clearScanState(c.maildir).catch((err: unknown) => c.logger.warn(`stale quota count progress left in ${c.maildir}/tmp: ${(err as Error).message}`));
  return { recounted: { bytes: scan.bytes, count: scan.count } };
}

async function recordCopies(c: CommitQuotaInput, stored: number): Promise<void> {
  for (let i = 0; i < stored; i++) {
    // Stored now. A failed append only makes maildirsize stale; the next reader recalculates.
    await appendDelivery(c.maildir, c.bytes).catch((err: unknown) =>
      c.logger.warn(`maildirsize append failed in ${c.maildir}: ${(err as Error).message}`),
    );
  }
}
