/**
 * The executor for a recipient whose inbox is an mbox: maps each copy of a
 * plan (Sieve's, or the implicit keep) to its place: INBOX to the inbox mbox;
 * a folder to an mbox file under [delivery] mbox_folders (`Lists.Debian` →
 * `<dir>/Lists/Debian`, the names encoded as for Maildir++, as Dovecot's mbox
 * layout stores them), or, when the user has a Maildir of their own (no
 * mbox_folders, or [users.NAME] maildir / --maildir), to that Maildir's ++
 * folders through the Maildir executor. A folder that cannot be used falls
 * back to INBOX as for Maildir (the quarantine folder never does). The mbox
 * appends and the Maildir links commit together (mbox/deliver-mbox.ts).
 * Must not: write files itself or take locks (the mbox and Maildir executors do).
 */
import { dirname, join } from 'node:path';
import { lstat, mkdir } from '../io/fs-async.js';
import { prepareMailbox } from '../maildir/mailbox.js';
import type { Spool } from '../maildir/spool.js';
import { deliverToMboxes, type MboxTarget } from '../mbox/deliver-mbox.js';
import { delivered, OutcomeError, temp, type Outcome } from '../outcome/outcome.js';
import type { MboxPlace } from '../pipeline/recipient.js';
import type { UserQuota } from '../quota/limits.js';
import type { Session } from '../session/session.js';
import { executePlan } from './execute-plan.js';
import type { CommitTarget } from './prepare-folders.js';

export interface MboxPlanInput {
  session: Session;
  recipient: string;
  place: MboxPlace;
  uid: number;
  /** The envelope sender, for the From_ line ('' = the null sender). */
  sender: string;
  spool: Spool;
  targets: readonly CommitTarget[];
  quota: UserQuota;
  /** The user's state directory (journals of mboxes in directories that are not theirs). */
  stateDir: string;
}

/** folderFile: the mbox file of a Maildir++ folder directory (`.Lists.Debian` → `Lists/Debian`); folderDir already refused '/', '..' and edge dots. */
export const folderFile = (folders: string, dir: string): string => join(folders, ...dir.slice(1).split('.'));

const exists = (path: string) => lstat(path).then(() => true, () => false);

export async function executeMboxPlan(x: MboxPlanInput): Promise<Outcome> {
  const { session: s, place } = x;
  const spoolOf = (t: CommitTarget) => (t.spool ?? x.spool).path;
  const mboxes = new Map<string, MboxTarget>();
  const maildirTargets: CommitTarget[] = [];
  const toInbox = (t: CommitTarget) => mboxes.has(place.inbox) || mboxes.set(place.inbox, { mailbox: 'INBOX', path: place.inbox, spoolPath: spoolOf(t) });
  for (const t of x.targets) {
    if (t.dir === '') toInbox(t);
    else if (place.folders === undefined) maildirTargets.push(t);
    else {
      const path = folderFile(place.folders, t.dir);
      const usable = (t.create || s.config.delivery.autocreateFolders) ? await mkdir(dirname(path), 0o700, true).then(() => true, () => false) : await exists(path);
      if (usable) mboxes.has(path) || mboxes.set(path, { mailbox: t.mailbox, path, spoolPath: spoolOf(t) });
      else if (t.quarantine) throw new OutcomeError(temp('mailbox-unavailable', `quarantine folder ${path} cannot be used`));
      else {
        s.logger.warn(`folder ${JSON.stringify(t.mailbox)} (${path}) does not exist and autocreate_folders is off: storing in INBOX instead`);
        toInbox(t);
      }
    }
  }
  // The Maildir part commits under the mboxes' locks, after their appends: its failure undoes them.
  let maildirStored: string[] = [];
  const then = maildirTargets.length === 0 ? undefined : async () => {
    await prepareMailbox(place.folderMaildir, '', x.uid);
    const r = await executePlan({ session: s, recipient: x.recipient, maildir: place.folderMaildir, uid: x.uid, spool: x.spool, targets: maildirTargets, quota: x.quota });
    if (r.outcome.kind !== 'delivered') throw new OutcomeError(r.outcome);
    maildirStored = r.stored.map((c) => c.mailbox);
  };
  const targets = [...mboxes.values()];
  const refused = await deliverToMboxes({
    targets, sender: x.sender, uid: x.uid, quota: x.quota, config: s.config, deadline: s.deadline, logger: s.logger, holder: s.locks,
    stateDir: x.stateDir, gate: s.gate, then,
  });
  if (refused) return refused;
  const outcome = delivered([...targets.map((t) => t.mailbox), ...maildirStored].join(','), targets[0]?.path ?? '');
  s.gate.stored(x.recipient, outcome);
  return outcome;
}
