/**
 * Sieve mailbox names (UTF-8, RFC 5228 §4.1) → Maildir++ folder names as
 * Dovecot and Courier store them: IMAP modified UTF-7 (RFC 3501 §5.1.3), '.'
 * as the hierarchy separator, "INBOX" (any case) for the Maildir itself.
 * The safety rules for the resulting name are maildir/names.ts folderDir's.
 * Pure: no I/O.
 */
import { folderDir, type FolderCheck } from '../maildir/names.js';

/** encodeMutf7: printable ASCII stays (with '&' as "&-"), every other run becomes &<modified base64 of UTF-16BE>-. */
export function encodeMutf7(name: string): string {
  let out = '';
  let run: number[] = [];
  const flush = () => {
    if (run.length === 0) return;
    const bytes = Buffer.alloc(run.length * 2);
    run.forEach((u, i) => bytes.writeUInt16BE(u, i * 2));
    out += '&' + bytes.toString('base64').replace(/=+$/, '').replace(/\//g, ',') + '-';
    run = [];
  };
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e) {
      flush();
      out += c === 0x26 ? '&-' : name[i];
    } else run.push(c);
  }
  flush();
  return out;
}

/** The canonical form used to merge targets: INBOX in any case is "INBOX". */
export function canonicalMailbox(name: string): string {
  return name === '' || name.toUpperCase() === 'INBOX' ? 'INBOX' : name;
}

/** The Maildir++ directory (relative to the Maildir) of a Sieve mailbox name, or why it is refused. */
export function mailboxDir(name: string): FolderCheck {
  // Checked before encoding, which would otherwise hide them inside base64.
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) return { ok: false, why: 'folder name contains control characters' };
  const canonical = canonicalMailbox(name);
  if (canonical === 'INBOX') return { ok: true, dir: '' };
  // An "INBOX." prefix names the same hierarchy in Courier/Dovecot Maildir++ namespaces.
  const local = /^inbox\./i.test(canonical) ? canonical.slice(6) : canonical;
  return folderDir(encodeMutf7(local));
}
