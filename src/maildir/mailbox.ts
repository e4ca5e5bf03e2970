/**
 * Checks and creates the recipient's Maildir and Maildir++ folders before a
 * message is spooled: a missing Maildir is created (tmp/new/cur, 0700) as
 * Postfix's own delivery does; one owned by someone else is refused, since
 * writing there would hand the message (or a root-owned file) to the wrong user,
 * and so is a world-writable one, where any local user could plant paths.
 * Must not: write messages (spool.ts) or pick outcomes beyond 'unsafe-mailbox'.
 */
import { close, open, stat } from '../io/fs-async.js';
import { join } from 'node:path';
import { OutcomeError, temp } from '../outcome/outcome.js';
import { ensureMaildirDirs } from './spool.js';

async function statOrNull(path: string) {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** ensureOwnedDir creates a missing directory and refuses one that is not ours, not a directory, or world-writable. */
async function ensureOwnedDir(path: string, euid: number, isFolder: boolean): Promise<void> {
  const st = await statOrNull(path);
  if (!st) {
    await ensureMaildirDirs(path);
    // maildirfolder marks a Maildir++ folder (Courier maildir(5)); Dovecot and
    // Courier quota code use it to find the top Maildir.
    if (isFolder) await close(await open(join(path, 'maildirfolder'), 'a', 0o600));
    return;
  }
  if (!st.isDirectory()) {
    throw new OutcomeError(temp('unsafe-mailbox', `${path} is not a directory`));
  }
  if (st.uid !== euid) {
    throw new OutcomeError(
      temp('unsafe-mailbox', `${path} is owned by uid ${st.uid}, not by the recipient (uid ${euid})`),
    );
  }
  // Anyone could swap its tmp/ or new/ for a symlink or directory of their own and take or drop the mail.
  if (st.mode & 0o002) {
    const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
    throw new OutcomeError(temp('unsafe-mailbox', `${path} is world-writable (mode ${mode}); chmod o-w it`));
  }
}

/** prepareMailbox makes root (and root/folderDir when set) ready for delivery. */
export async function prepareMailbox(root: string, folderDir: string, euid: number): Promise<void> {
  await ensureOwnedDir(root, euid, false);
  if (folderDir) await ensureOwnedDir(join(root, folderDir), euid, true);
}
