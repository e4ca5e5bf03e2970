/**
 * Makes every folder of a plan ready before the commit: an existing folder is
 * checked (owner, type, not world-writable), a missing one is created when
 * autocreate_folders or fileinto :create allows. A folder that cannot be used
 * falls back to INBOX, as Pigeonhole and dovecot-lda do (RFC 5490 §3.2: a
 * fileinto to a missing mailbox without :create fails, and the failure must
 * not lose the message); the [virus] quarantine folder never does (infected
 * mail must not reach INBOX). Copies that land in one directory merge.
 * Must not: store anything or take locks; the top Maildir is the caller's (its tmp/ holds the spool).
 */
import { join } from 'node:path';
import { stat } from '../io/fs-async.js';
import type { Logger } from '../log/logger.js';
import { prepareMailbox } from '../maildir/mailbox.js';
import type { Deadline } from '../deadline/deadline.js';
import { OutcomeError, temp } from '../outcome/outcome.js';
import type { Spool } from '../maildir/spool.js';
import type { StoreTarget } from '../sieve/targets.js';

/** One copy a plan asks for. */
export interface CommitTarget extends StoreTarget {
  /** The [virus] quarantine: never replaced by INBOX. */
  quarantine?: boolean;
  /** A copy with its own bytes (an edited header, RFC 5293), sealed, in the Maildir's tmp/; absent = the spool. */
  spool?: Spool;
}

export const INBOX_TARGET: CommitTarget = { mailbox: 'INBOX', dir: '', flags: [], create: true };

export interface PrepareInput {
  maildir: string;
  uid: number;
  targets: readonly CommitTarget[];
  autocreate: boolean;
  deadline: Deadline;
  logger: Logger;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** mergeTargets keeps one copy per directory, with the flags of every copy that landed there. */
export function mergeTargets(targets: readonly CommitTarget[]): CommitTarget[] {
  const byDir = new Map<string, CommitTarget>();
  for (const t of targets) {
    const seen = byDir.get(t.dir);
    if (seen) seen.flags = [...new Set([...seen.flags, ...t.flags])];
    else byDir.set(t.dir, { ...t, flags: [...t.flags] });
  }
  return [...byDir.values()];
}

/** prepareFolders returns the targets to store into, after fallbacks; throws when a quarantine folder is unusable. */
export async function prepareFolders(i: PrepareInput): Promise<CommitTarget[]> {
  const ready: CommitTarget[] = [];
  const toInbox = (t: CommitTarget, why: string) => {
    i.logger.warn(`folder ${JSON.stringify(t.mailbox)} ${why}: storing in INBOX instead`);
    ready.push({ ...INBOX_TARGET, flags: t.flags, ...(t.spool && { spool: t.spool }) });
  };
  for (const t of i.targets) {
    if (t.dir === '') {
      ready.push(t);
      continue;
    }
    const path = join(i.maildir, t.dir);
    try {
      if (!t.create && !i.autocreate && !(await i.deadline.race(isDirectory(path)))) {
        if (t.quarantine) throw new OutcomeError(temp('mailbox-unavailable', `quarantine folder ${path} does not exist and autocreate_folders is off`));
        toInbox(t, 'does not exist and autocreate_folders is off');
        continue;
      }
      await i.deadline.race(prepareMailbox(i.maildir, t.dir, i.uid));
      ready.push(t);
    } catch (err) {
      if (i.deadline.signal.aborted) throw err;
      if (t.quarantine) throw err instanceof OutcomeError ? err : new OutcomeError(temp('mailbox-unavailable', `quarantine folder ${path}: ${(err as Error).message}`));
      toInbox(t, `cannot be used (${(err as Error).message})`);
    }
  }
  return mergeTargets(ready);
}
