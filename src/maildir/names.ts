/**
 * Maildir file names and Maildir++ folder names. Unique names follow
 * cr.yp.to/proto/maildir.html: `seconds.M<usec>P<pid>Q<seq>.host`, where the
 * usec comes from the same clock reading as the seconds, and `,S=<size>` is
 * appended in new/ so quota code need not stat (Maildir++ / Dovecot). Folder
 * names become directories here and nowhere else (modified UTF-7, RFC 3501 §5.1.3).
 * Pure: no I/O.
 */

export interface NameParts {
  /** Wall-clock time in ms with a fraction (sub-ms precision). */
  nowMs: number;
  pid: number;
  seq: number;
  host: string;
}

/** escapeHost: the spec replaces '/' with \057 and ':' with \072; ',' is escaped too so `,S=` parsing stays sound. */
export function escapeHost(host: string): string {
  const h = host.replace(/[/:,\\]/g, (c) => '\\' + c.charCodeAt(0).toString(8).padStart(3, '0'));
  return h === '' ? 'localhost' : h;
}

/** uniqueName is the base name used in tmp/ (no size yet). */
export function uniqueName(p: NameParts): string {
  const totalUs = Math.floor(p.nowMs * 1000);
  const sec = Math.floor(totalUs / 1e6);
  const usec = totalUs - sec * 1e6;
  return `${sec}.M${usec}P${p.pid}Q${p.seq}.${escapeHost(p.host)}`;
}

/** newName is the name in new/: the unique name plus the stored size. */
export function newName(unique: string, size: number): string {
  return `${unique},S=${size}`;
}

export type FolderCheck = { ok: true; dir: string } | { ok: false; why: string };

const MAX_FOLDER = 200;

/** encodeMutf7: printable ASCII stays (with '&' as "&-"), every other run becomes &<modified base64 of UTF-16BE>- (RFC 3501 §5.1.3). */
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

const isInbox = (name: string): boolean => name === '' || name.toUpperCase() === 'INBOX';

/**
 * folderDir is the one map from a folder name as the user writes it (UTF-8, as
 * IMAP clients show it) to its directory inside the Maildir, for every source:
 * --folder, [spam]/[virus] folder, Sieve fileinto. '' or INBOX is the Maildir
 * itself; `Name` is `.Name` in modified UTF-7, as Dovecot's and Courier's
 * Maildir++ store it ('.' separates levels, so `Lists.Debian` is a subfolder; an
 * `INBOX.` prefix names the same hierarchy). Refuses anything that could leave
 * the Maildir or confuse readers: '/', '..', leading or trailing '.', control bytes.
 */
export function folderDir(name: string | undefined): FolderCheck {
  if (name === undefined || isInbox(name)) return { ok: true, dir: '' };
  // Checked before encoding, which would otherwise hide them inside base64.
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) return { ok: false, why: 'folder name contains control characters' };
  const local = /^inbox\./i.test(name) ? name.slice(6) : name;
  if (local === '') return { ok: true, dir: '' };
  // Encoding adds only '&', '-', ',' and base64 letters, so these checks see every '/', '\\' and '.' the name had.
  const encoded = encodeMutf7(local);
  if (encoded.length > MAX_FOLDER) return { ok: false, why: `folder name longer than ${MAX_FOLDER} characters (modified UTF-7)` };
  if (encoded.includes('/')) return { ok: false, why: "folder name contains '/'" };
  if (encoded.includes('\\')) return { ok: false, why: "folder name contains '\\'" };
  if (encoded.startsWith('.')) return { ok: false, why: "folder name starts with '.'" };
  if (encoded.endsWith('.')) return { ok: false, why: "folder name ends with '.'" };
  if (encoded.includes('..')) return { ok: false, why: "folder name contains '..'" };
  return { ok: true, dir: '.' + encoded };
}
