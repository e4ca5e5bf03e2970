/**
 * The decisions and lines of `mda deliver --dry-run` that need no I/O: what an outcome
 * would do (exit code and DSN line as Postfix would see them), which scanners would run
 * on a message of this size, and the quota decision from a maildirsize as read.
 * The command (cli/commands/deliver-dry-run.ts) gathers the facts. Pure: no I/O.
 */
import type { ScannerConfig } from '../config/schema.js';
import type { Outcome } from '../outcome/outcome.js';
import { toExit } from '../outcome/to-exit.js';
import { commitDecision } from '../quota/commit-policy.js';
import type { UserQuota } from '../quota/limits.js';
import { limitsInForce, recalcReason, type MaildirsizeParse } from '../quota/maildirsize.js';

/** outcomeText: what Postfix would be told, e.g. `would bounce (exit 67): 5.1.1 ...`. */
export function outcomeText(o: Outcome): string {
  const plan = toExit(o);
  if (o.kind === 'delivered') return `would store in ${o.folder || 'INBOX'}`;
  if (o.kind === 'discarded') return `would discard (exit 0): ${o.why}`;
  return `would ${o.kind === 'temp' ? 'defer' : 'bounce'} (exit ${plan.code}): ${plan.line.trimEnd()}`;
}

/** scannerLines: one line per [[scanner]]: would run, or skipped as a delivery would skip it. */
export function scannerLines(scanners: readonly ScannerConfig[], messageBytes: number): string[] {
  if (scanners.length === 0) return ['scanners: none configured'];
  const lines = ['scanners: (not run in a dry run; Sieve sees no verdicts)'];
  for (const s of scanners) {
    const where = s.type === 'filter' ? s.command.join(' ') : s.hosts.join(', ');
    if (messageBytes > s.maxSize) lines.push(`  ${s.name} (${s.type}): would be skipped: ${messageBytes} bytes > max_size ${s.maxSize}`);
    else lines.push(`  ${s.name} (${s.type}): would run: ${where}; timeout ${s.timeoutMs}ms, on failure ${s.onFailure}`);
  }
  return lines;
}

export interface QuotaFacts {
  quota: UserQuota;
  /** maildirsize as read (undefined: missing), its size and mtime. */
  file: { parsed: MaildirsizeParse; size: number; mtimeMs: number; header?: { storage: number; messages: number } } | undefined;
  nowMs: number;
  messageBytes: number;
  /** Files the plan stores (Sieve fileinto + keep); 0 = nothing stored. */
  copies: number;
}

/** quotaLines: the limits in force, the usage as maildirsize says, and the decision a delivery would take. */
export function quotaLines(f: QuotaFacts): string[] {
  const { limits, from } = limitsInForce(f.quota.limits, f.file?.header);
  if (from === 'none') return ['quota: no limit'];
  const head = `quota: storage ${limits.storage || 'unlimited'}, messages ${limits.messages || 'unlimited'}, grace ${f.quota.grace} (from ${from === 'config' ? 'the config' : 'maildirsize'})`;
  if (f.copies === 0) return [head, '  nothing stored: no quota check'];
  const incoming = { bytes: f.messageBytes, copies: f.copies, grace: f.quota.grace };
  const parsed = f.file?.parsed;
  const reason = recalcReason(parsed, { fileSize: f.file?.size ?? 0, mtimeMs: f.file?.mtimeMs ?? 0, nowMs: f.nowMs, limits, incoming });
  const usable = parsed !== undefined && !('corrupt' in parsed);
  const lines = [head];
  if (usable) lines.push(`  maildirsize: ${parsed.bytes} bytes, ${parsed.count} messages`);
  // A delivery would recount first (writing maildirsize); a dry run writes nothing, so it says so.
  if (reason !== undefined) lines.push(`  a delivery would recount the Maildir first: ${reason}`);
  if (!usable) return [...lines, '  decision: after the recount'];
  const decision = commitDecision({ usage: parsed, limits, incoming, trusted: reason === undefined, overQuota: f.quota.overQuota });
  lines.push(`  decision: ${decision ? outcomeText(decision) : `fits (${f.messageBytes} bytes × ${f.copies})`}${reason !== undefined ? ' (on the sums as they are now)' : ''}`);
  return lines;
}
