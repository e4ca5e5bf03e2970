/**
 * After the message is stored: Sieve redirects (envelope sender kept, <> stays <>), the vacation reply
 * (from <>, once per sender and handle per period, checked and marked under the sieve-state lock; none when
 * the sent-log is full or cannot be kept) and
 * the duplicate ids (RFC 7352). Failures are logged and never change the outcome.
 * Must not: run past the deadline (its budget ends POST_MARGIN_MS before it).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '../config/schema.js';
import { monotonicMs, type Deadline } from '../deadline/deadline.js';
import type { LockOptions } from '../locks/acquire.js';
import type { LockHolder } from '../locks/holder.js';
import type { Logger } from '../log/logger.js';
import { readHead } from '../maildir/rewrite.js';
import type { Redirect, SievePlan } from '../sieve/plan.js';
import { leadingReturnPathLength, redirectedFromField } from '../sieve/redirect-rules.js';
import { sendmail, type SendRequest } from '../sieve/sendmail.js';
import { MAX_VACATION_ENTRIES, record } from '../sieve/state-log.js';
import { clearFullMark, markFull, updateStateLog } from '../sieve/state-store.js';
import { buildVacationReply } from '../sieve/vacation-reply.js';
import { vacationDue, vacationKey } from '../sieve/vacation-rules.js';
import type { Envelope } from './envelope.js';

export interface PostInput {
  plan: SievePlan;
  /** The message to redirect: the spool file, still in tmp/. */
  messagePath: string;
  /** The file a redirect sends when it carries an edited header (RFC 5293 §3); absent: messagePath. */
  redirectPath?: (r: Redirect) => string;
  eol: '\n' | '\r\n';
  envelope: Envelope;
  user: string;
  home: string;
  stateDir: string;
  config: Config;
  deadline: Deadline;
  logger: Logger;
  /** The session's lock record (the sieve-state lock is taken here). */
  locks: LockHolder;
}

/** Post-commit work stops this long before the deadline, so a delivered message is never reported as deferred. */
const POST_MARGIN_MS = 3_000;
/** One sendmail run at most (Postfix's sendmail returns as soon as postdrop has queued the mail). */
const SEND_MS = 30_000;
const HEAD_READ = 64 * 1024;

export interface PostResult {
  /** Redirect addresses that sendmail accepted / refused. */
  sent: string[];
  failed: string[];
}

export type PostSend = (req: Omit<SendRequest, 'signal' | 'program' | 'home' | 'user'>) => Promise<string | undefined>;

/**
 * postSender: runs [delivery] sendmail for post-commit mail (redirects, vacation, enotify), each run
 * within SEND_MS and all of them ending POST_MARGIN_MS before the deadline; the failure reason, or undefined.
 */
export function postSender(p: Pick<PostInput, 'deadline' | 'config' | 'home' | 'user'>): { send: PostSend; left: () => number } {
  const endsAt = monotonicMs() + Math.max(0, p.deadline.remaining() - POST_MARGIN_MS);
  const left = () => Math.max(0, endsAt - monotonicMs());
  const send: PostSend = async (req) => {
    if (left() < 100) return 'no time left before the delivery deadline';
    const budget = p.deadline.budget(Math.min(SEND_MS, left()), 'sendmail');
    try {
      const r = await sendmail({ ...req, program: p.config.delivery.sendmail, home: p.home, user: p.user, signal: budget.signal });
      return r.ok ? undefined : r.why;
    } finally {
      budget.done();
    }
  };
  return { send, left };
}

export async function runPostActions(p: PostInput): Promise<PostResult> {
  const { send, left } = postSender(p);
  const result: PostResult = { sent: [], failed: [] };

  if (p.plan.redirects.length) {
    const prefix = redirectedFromField(p.envelope.recipient, p.eol);
    for (const r of p.plan.redirects) {
      const file = p.redirectPath?.(r) ?? p.messagePath;
      const skip = leadingReturnPathLength(await readHead(file, HEAD_READ).catch(() => Buffer.alloc(0)));
      const why = await send({ sender: p.envelope.sender, recipient: r.address, prefix, file, fileOffset: skip });
      if (why) p.logger.warn(`sieve: redirect to <${r.address}> failed: ${why}`);
      else p.logger.info(`sieve: redirected to <${r.address}>`);
      (why ? result.failed : result.sent).push(r.address);
    }
  }

  const locks = (): LockOptions => ({ timeoutMs: Math.min(p.config.locks.timeoutMs, left()), staleMs: p.config.locks.staleMs, deadline: p.deadline, holder: p.locks });
  const now = () => Math.floor(Date.now() / 1000);

  const v = p.plan.vacation;
  if (v) {
    try {
      const key = vacationKey(v.to, v.handle);
      // Check and mark in one locked step, so two deliveries at once send one reply.
      const due = await updateStateLog(p.stateDir, 'vacation', locks(), now(), (log) => {
        const d = vacationDue(log, key, now());
        if (d === 'due' && v.periodSeconds > 0) record(log, key, now() + v.periodSeconds);
        return { changed: d === 'due' && v.periodSeconds > 0, value: d };
      });
      if (due === 'already-sent') p.logger.info(`sieve: vacation reply to <${v.to}> already sent within its period`);
      else if (due === 'state-full') await reportFull(p, v.to);
      else {
        await clearFullMark(p.stateDir, 'vacation');
        const body = buildVacationReply(v, { now: new Date(), messageId: `<${Date.now().toString(36)}.${randomBytes(8).toString('hex')}@${hostname()}>` });
        const why = await send({ sender: '', recipient: v.to, body });
        if (!why) p.logger.info(`sieve: vacation reply sent to <${v.to}>`);
        else {
          p.logger.warn(`sieve: vacation reply to <${v.to}> failed: ${why}`);
          // Not sent, so not remembered: the next message may try again.
          await updateStateLog(p.stateDir, 'vacation', locks(), now(), (log) => ({ changed: log.delete(key), value: undefined }));
        }
      }
    } catch (err) {
      // The state cannot be read or kept (unreadable, too large, lock timeout): no reply, the safe side.
      p.logger.warn(`sieve: vacation: no reply: ${(err as Error).message}`);
    }
  }

  if (p.plan.duplicates.length) {
    await updateStateLog(p.stateDir, 'duplicate', locks(), now(), (log) => {
      for (const d of p.plan.duplicates) record(log, d.id, now() + d.periodSeconds);
      return { changed: true, value: undefined };
    }).catch((err: unknown) => p.logger.warn(`sieve: recording duplicate ids failed: ${(err as Error).message}`));
  }
  return result;
}

/** A full sent-log is reported once (a warning) until a reply goes out again; later refusals log at info. */
async function reportFull(p: PostInput, to: string): Promise<void> {
  const first = await markFull(p.stateDir, 'vacation').catch(() => true);
  if (first) p.logger.warn(`sieve: vacation state is full (${MAX_VACATION_ENTRIES} senders within their period): no reply to new senders until entries expire; replied senders are still remembered`);
  else p.logger.info(`sieve: vacation reply to <${to}> not sent: the sent-log is at its cap (reported before)`);
}
