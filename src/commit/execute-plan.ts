/**
 * The one executor: commits any plan (Sieve's, or the implicit keep) for one
 * recipient. Folders are prepared first (with the INBOX fallback), then the
 * keywords' letters found (new ones added to Dovecot's dovecot-keywords under
 * Dovecot's lock, maildir/dovecot-keywords-store.ts, before the commit), then under
 * the recipient's commit lock (quota/commit-check.ts owns it and the quota):
 * quota for all copies → the commit gate → every copy linked and fsynced by
 * store-copy.ts → one maildirsize line per copy.
 * A plan commits all or nothing: a copy that cannot be stored even in INBOX
 * undoes the copies already linked, and the error defers the delivery.
 * Must not: wait on anything but the filesystem while holding the lock, or
 * race the deadline once linking has started (a started commit runs to its end).
 */
import { join } from 'node:path';
import { commitLock, lockOptions, recalcLock } from '../locks/maildir-locks.js';
import { withKeywordLetters } from '../maildir/dovecot-keywords.js';
import type { KeywordsInput } from '../maildir/dovecot-keywords-store.js';
import type { Spool } from '../maildir/spool.js';
import { delivered, OutcomeError, temp, type Outcome } from '../outcome/outcome.js';
import { commitWithQuota } from '../quota/commit-check.js';
import type { UserQuota } from '../quota/limits.js';
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
  const keywords = await folderKeywords(x, targets);
  // The quota decides for all copies under the commit lock (quota/commit-check.ts); the links are ours.
  return commitWithQuota(
    {
      maildir: x.maildir, quota: x.quota, bytes: Math.max(...targets.map((t) => (t.spool ?? x.spool).bytes)), copies: targets.length, deadline: s.deadline, logger: s.logger,
      lockOptions: lockOptions(s.config, s.deadline, s.locks), commitLock: commitLock(x.maildir), recalcLock: recalcLock(x.maildir),
    },
    async () => {
      const done = await commit(x, targets, keywords);
      return { value: done, stored: done.stored.length };
    },
    async (refused) => ({ outcome: refused, stored: [] }),
  );
}

/** commit passes the gate, links every copy (all or nothing) and records the outcome; commit-check.ts then appends maildirsize. */
async function commit(x: ExecuteInput, targets: CommitTarget[], keywords: KeywordLetters): Promise<Executed> {
  const { session: s } = x;
  if (!s.gate.enter()) {
    const reason: unknown = s.deadline.signal.reason;
    return { outcome: reason instanceof OutcomeError ? reason.outcome : temp('deadline', 'no commit after the deadline'), stored: [] };
  }
  try {
    await x.spool.seal();
    for (const t of targets) await t.spool?.seal(); // edited copies (RFC 5293): sealed when built; idempotent
    const stored = await linkAll(x, targets, keywords);
    const outcome = delivered(stored.map((c) => c.mailbox).join(','), stored[0]!.path);
    s.gate.stored(x.recipient, outcome);
    return { outcome, stored };
  } finally {
    s.gate.leave();
  }
}

/**
 * keywordLetters loads the keyword store (and node:crypto, which its atomic rewrite uses) only
 * for a copy with keywords: a static import made every delivery load node:crypto at start-up
 * (milliseconds; `npm run bench` startup section, BENCH_BASELINE).
 */
const keywordLetters = async (input: KeywordsInput): Promise<string> =>
  input.keywords.length ? (await import('../maildir/dovecot-keywords-store.js')).keywordLetters(input) : '';

/** The keywords' letters of each target directory. */
type KeywordLetters = ReadonlyMap<string, string>;

const keywordInput = (x: ExecuteInput, t: CommitTarget, keywords: string[]) => ({
  folderPath: join(x.maildir, t.dir), mailbox: t.mailbox, keywords, logger: x.session.logger,
  lockOptions: lockOptions(x.session.config, x.session.deadline, x.session.locks),
});

/**
 * folderKeywords: the letters of every copy's keywords (the flags without a system letter,
 * RFC 5232 §5), before the commit lock, so Dovecot's lock is never waited for while holding it.
 */
async function folderKeywords(x: ExecuteInput, targets: readonly CommitTarget[]): Promise<KeywordLetters> {
  const out = new Map<string, string>();
  for (const t of targets) out.set(t.dir, await keywordLetters(keywordInput(x, t, maildirInfo(t.flags).dropped)));
  return out;
}

/** linkAll stores every target; a folder copy that fails goes to INBOX (unless quarantine); any other failure undoes all. */
async function linkAll(x: ExecuteInput, targets: CommitTarget[], keywords: KeywordLetters): Promise<StoredCopy[]> {
  const { logger, names } = x.session;
  const stored: StoredCopy[] = [];
  // INBOX is the fallback of every folder: stored there once, whichever copies fall back.
  let inboxPlanned = targets.some((t) => t.dir === '');
  const store = async (t: CommitTarget) => {
    const { letters, dropped } = maildirInfo(t.flags);
    // A fallback copy's folder had no letters looked up: only keywords its file already has (no lock here).
    const kw = keywords.get(t.dir) ?? (await keywordLetters({ ...keywordInput(x, t, dropped), readOnly: true }));
    stored.push({ mailbox: t.mailbox, path: await storeCopy(t.spool ?? x.spool, join(x.maildir, t.dir), withKeywordLetters(letters, kw), names) });
  };
  try {
    for (const t of targets) {
      try {
        await store(t);
      } catch (err) {
        if (t.dir === '' || t.quarantine) throw err;
        logger.warn(`could not store a copy in ${JSON.stringify(t.mailbox)} (${(err as Error).message}): storing in INBOX instead`);
        if (!inboxPlanned) await store({ ...INBOX_TARGET, flags: t.flags, ...(t.spool && { spool: t.spool }) });
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
