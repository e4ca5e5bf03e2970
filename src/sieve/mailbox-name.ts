/**
 * Sieve mailbox names (UTF-8, RFC 5228 §4.1) → Maildir++ folder names as
 * Dovecot and Courier store them: IMAP modified UTF-7 (RFC 3501 §5.1.3), '.'
 * as the hierarchy separator, "INBOX" (any case) for the Maildir itself.
 * The encoding and the safety rules are maildir/names.ts folderDir's, shared with
 * --folder and the [spam]/[virus] folders.
 * Pure: no I/O.
 */
import { folderDir, type FolderCheck } from '../maildir/names.js';

export { encodeMutf7 } from '../maildir/names.js';

/** The canonical form used to merge targets: INBOX in any case is "INBOX". */
export function canonicalMailbox(name: string): string {
  return name === '' || name.toUpperCase() === 'INBOX' ? 'INBOX' : name;
}

/** The Maildir++ directory (relative to the Maildir) of a Sieve mailbox name, or why it is refused: names.ts folderDir, the one encoder. */
export function mailboxDir(name: string): FolderCheck {
  return folderDir(name);
}
