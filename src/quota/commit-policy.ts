/**
 * The decisions of the commit-time quota check (commit-check.ts): how long a
 * recount may take, and what a message that does or does not fit becomes,
 * depending on whether the sums were recounted (trusted) or not.
 * Pure: no I/O.
 */
import type { OverQuota } from '../config/schema.js';
import { temp, type Outcome } from '../outcome/outcome.js';
import { checkQuota, type Incoming, type QuotaLimits, type Usage } from './maildirsize.js';
import { overQuotaOutcome } from './policy.js';

/** Time the commit itself needs once the lock is held (link, fsyncs, append). */
const COMMIT_MS = 500;

/**
 * recalcBudgetMs: how long a recount before the commit lock may run. It leaves
 * the commit its lock wait (up to the lock timeout) plus COMMIT_MS, but never
 * more than half of what remains; and it stays under half the stale-lock age,
 * so nobody breaks our recalc lock as stale while we still count.
 */
export function recalcBudgetMs(remainingMs: number, lockTimeoutMs: number, staleMs: number): number {
  const reserve = Math.min(lockTimeoutMs + COMMIT_MS, remainingMs / 2);
  return Math.max(0, Math.floor(Math.min(remainingMs - reserve, staleMs / 2)));
}

export interface QuotaDecisionInput {
  usage: Usage;
  limits: QuotaLimits;
  incoming: Incoming;
  /** The sums come from a fresh recount or from a file Courier's rule trusts for this message. */
  trusted: boolean;
  overQuota: OverQuota;
}

/**
 * commitDecision: undefined = it fits, commit. Over on trusted sums: the
 * configured [quota] over_quota outcome. Over on sums that could not be
 * recounted in time: 4.2.2 (never a bounce on numbers nobody checked).
 */
export function commitDecision(d: QuotaDecisionInput): Outcome | undefined {
  const { bytes, copies, grace } = d.incoming;
  const check = checkQuota(d.usage, d.limits, grace, bytes * copies, copies);
  if (!check.over) return undefined;
  const detail = copies > 1 ? `${check.detail} (${copies} copies)` : check.detail;
  if (d.trusted) return overQuotaOutcome(d.overQuota, detail);
  return temp('over-quota', `${detail}; maildirsize not recounted yet`);
}
