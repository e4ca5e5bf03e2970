/**
 * Whose rights a Maildir's quota work runs with when root runs `mda quota`:
 * the same uid a delivery for that user runs as. A user named in the config
 * or with --user: that system account (as `mda deliver --user NAME` switches
 * to it). A Maildir found only by --maildir-glob: the owner of the Maildir
 * directory; if the Maildir is a symlink a user made, that user (whoever can
 * point it somewhere gets no more than their own rights).
 * Must not: open anything in the Maildir, or switch uid itself.
 */
import { lstat, stat } from 'node:fs/promises';
import type { MailboxResult } from './maildir-job.js';
import type { Owner } from './maildir-worker.js';

/** ownerOf: the uid/gid for the worker, or the Maildir's result when there is nothing to run (missing). */
export async function ownerOf(maildir: string, account: Owner | undefined): Promise<Owner | MailboxResult> {
  if (account) return { uid: account.uid, gid: account.gid };
  try {
    const l = await lstat(maildir);
    // A user's own symlink: its owner. A root-made one (/home/u/Maildir -> /srv/mail/u): where it leads.
    const st = l.isSymbolicLink() && l.uid === 0 ? await stat(maildir) : l;
    return { uid: st.uid, gid: st.gid };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { missing: true };
    return { error: (err as Error).message };
  }
}
