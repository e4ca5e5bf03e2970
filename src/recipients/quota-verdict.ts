/**
 * The quota check at RCPT time: can this recipient's Maildir take a message
 * of the declared SIZE (0 = not declared)? It reads `maildirsize` alone (at
 * most 5120 bytes, O_NONBLOCK, regular files only: quota/store.ts) and never
 * counts folders. Only a file the commit-time check would itself believe
 * (quota/maildirsize.ts recalcReason: fresh, one line, this message's limits)
 * may refuse; every doubt or trouble (missing, corrupt, stale, unreadable,
 * not the recipient's own, too slow) is 'ok', because the commit-time check
 * (quota/commit-check.ts) still enforces the quota and recounts what the file
 * cannot prove: refusing here on numbers nobody checked could defer a mailbox
 * forever, since no commit would ever come to recount it.
 * rcptQuotaDecision is pure; rcptQuotaVerdict adds the read.
 * An mbox inbox is judged by its file's size instead (rcptMboxQuotaDecision).
 * Must not: scan directories, take locks, write anything.
 */
import type { Config } from '../config/schema.js';
import type { Outcome } from '../outcome/outcome.js';
import { quotaFor, type UserQuota } from '../quota/limits.js';
import { checkQuota, limitsInForce, recalcReason, type LimitsSource } from '../quota/maildirsize.js';
import { lstat } from '../io/fs-async.js';
import { mboxOverQuota } from '../mbox/quota-rule.js';
import { overQuotaOutcome } from '../quota/policy.js';
import { readMaildirsize, type MaildirsizeHead } from '../quota/store.js';
import { rcptReply, type RcptReply } from './rcpt-reply.js';

export type RcptQuotaVerdict =
  /** unread: the quota file could not be read at all (mda's trouble, for the policy service's log; never cached). */
  | { verdict: 'ok'; why: string; unread?: true }
  | {
      verdict: 'over';
      limit: 'storage' | 'messages';
      /** Where the limit came from: mda's config, or the maildirsize header (Maildir++ `maildirmake -q`). */
      from: Exclude<LimitsSource, 'none'>;
      detail: string;
      /** [quota] over_quota's outcome (quota/policy.ts): for logs and toLmtpReply. */
      outcome: Extract<Outcome, { kind: 'temp' | 'reject' }>;
      /** 552 5.2.2 (bounce) or 452 4.2.2 (defer). */
      reply: RcptReply;
    };

export interface RcptQuotaFacts {
  /** maildirsize as read; undefined = missing; { trouble } = could not be read. */
  file: MaildirsizeHead | undefined | { trouble: string };
  quota: UserQuota;
  /** The declared SIZE (RFC 1870), 0 when the client gave none. */
  size: number;
  nowMs: number;
  /** The uid the recipient's copy is written as: the only owner whose file is believed. */
  uid: number;
}

const ok = (why: string, unread = false): RcptQuotaVerdict => ({ verdict: 'ok', why, ...(unread && { unread: true as const }) });

/**
 * rcptQuotaDecision: 'over' only when a trusted maildirsize shows the message
 * does not fit. A stored copy is never empty (it starts with Return-Path), so
 * an unknown size counts as 1 byte: a mailbox already at its limit is full
 * even without SIZE. The declared SIZE is compared as declared (RFC 1870 §6
 * lets a server refuse on it); the stored copy differs by its LF line ends
 * and prepended fields only.
 */
export function rcptQuotaDecision(f: RcptQuotaFacts): RcptQuotaVerdict {
  if (f.file !== undefined && 'trouble' in f.file) return ok(`maildirsize not read: ${f.file.trouble}`, true);
  const head = f.file;
  const inForce = limitsInForce(f.quota.limits, head?.header?.limits);
  if (inForce.from === 'none') return ok('no quota');
  if (head === undefined) return ok('maildirsize is missing');
  if (head.notRegular !== undefined) return ok(head.notRegular);
  if (head.uid !== undefined && head.uid !== f.uid) return ok(`maildirsize is owned by uid ${head.uid}, not ${f.uid}`);
  const incoming = { bytes: Math.max(f.size, 1), copies: 1, grace: f.quota.grace };
  const reason = recalcReason(head.parsed, { fileSize: head.size, mtimeMs: head.mtimeMs, nowMs: f.nowMs, limits: inForce.limits, incoming });
  if (reason !== undefined || 'corrupt' in head.parsed) return ok(`left to the commit: ${reason ?? 'corrupt'}`);
  const check = checkQuota(head.parsed, inForce.limits, incoming.grace, incoming.bytes, 1);
  if (!check.over) return ok('fits');
  const outcome = overQuotaOutcome(f.quota.overQuota, check.detail) as Extract<Outcome, { kind: 'temp' | 'reject' }>;
  return {
    verdict: 'over', limit: check.what, from: inForce.from, detail: check.detail, outcome,
    reply: rcptReply(outcome.kind === 'temp' ? 'over-defer' : 'over-bounce'),
  };
}

/** An mbox inbox as lstat() saw it (the file's size is its usage: mbox/quota-rule.ts). */
export interface MboxFileFacts {
  size: number;
  uid: number;
  /** A regular file, not a symlink, FIFO or device. */
  regular: boolean;
}

/**
 * rcptMboxQuotaDecision: the same question for an mbox inbox, answered by the file's size
 * against the storage limit (mbox has no maildirsize and no message limit). Only a file the
 * commit would append to may refuse; a missing, unreadable, foreign or odd file is left to the
 * commit, which creates or refuses it.
 */
export function rcptMboxQuotaDecision(f: { file: MboxFileFacts | undefined | { trouble: string }; quota: UserQuota; size: number; uid: number }): RcptQuotaVerdict {
  if (f.quota.limits.storage <= 0) return ok('no storage quota');
  if (f.file === undefined) return ok('mbox is missing');
  if ('trouble' in f.file) return ok(`mbox not read: ${f.file.trouble}`, true);
  if (!f.file.regular) return ok('mbox is not a regular file: left to the commit');
  if (f.file.uid !== f.uid) return ok(`mbox is owned by uid ${f.file.uid}, not ${f.uid}`);
  const over = mboxOverQuota(f.file.size, Math.max(f.size, 1), f.quota);
  if (over === undefined) return ok('fits');
  const outcome = overQuotaOutcome(f.quota.overQuota, over) as Extract<Outcome, { kind: 'temp' | 'reject' }>;
  return { verdict: 'over', limit: 'storage', from: 'config', detail: over, outcome, reply: rcptReply(outcome.kind === 'temp' ? 'over-defer' : 'over-bounce') };
}

/** Where to look: a resolved recipient (resolve.ts 'user'). */
export interface QuotaTarget {
  user: string;
  maildir: string;
  uid: number;
  /** Set when the inbox is an mbox: its file, not the Maildir's maildirsize, is what fills up. */
  mbox?: { inbox: string };
}

/**
 * rcptQuotaVerdict reads `<maildir>/maildirsize` and decides. Never throws:
 * an error, or `signal` aborting first (a stalled NFS server), is 'ok'.
 */
export async function rcptQuotaVerdict(rcpt: QuotaTarget, size: number, config: Config, signal: AbortSignal): Promise<RcptQuotaVerdict> {
  const quota = quotaFor(config, rcpt.user);
  if (rcpt.mbox) {
    let mfile: MboxFileFacts | undefined | { trouble: string };
    try {
      const st = await untilAborted(lstat(rcpt.mbox.inbox), signal);
      mfile = { size: st.size, uid: st.uid, regular: st.isFile() };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      mfile = code === 'ENOENT' ? undefined : { trouble: code ?? (err as Error).message ?? String(err) };
    }
    return rcptMboxQuotaDecision({ file: mfile, quota, size, uid: rcpt.uid });
  }
  let file: RcptQuotaFacts['file'];
  try {
    file = await untilAborted(readMaildirsize(rcpt.maildir), signal);
  } catch (err) {
    file = { trouble: (err as NodeJS.ErrnoException).code ?? (err as Error).message ?? String(err) };
  }
  return rcptQuotaDecision({ file, quota, size, nowMs: Date.now(), uid: rcpt.uid });
}

/** untilAborted settles with p, or rejects once signal aborts (p runs on; its descriptor is closed when it ends). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('no time left for the quota check'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('the quota check ran out of time'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
      (e) => (signal.removeEventListener('abort', onAbort), reject(e)),
    );
  });
}
