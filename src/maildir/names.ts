/**
 * Maildir file names and Maildir++ folder names. Unique names follow
 * cr.yp.to/proto/maildir.html: `seconds.M<usec>P<pid>Q<seq>.host`, where the
 * usec comes from the same clock reading as the seconds, and `,S=<size>` is
 * appended in new/ so quota code need not stat (Maildir++ / Dovecot).
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

/**
 * folderDir maps a folder name to its directory inside the Maildir: '' or
 * INBOX is the Maildir itself, `Name` is `.Name` (Maildir++; '.' separates
 * levels, so `Lists.Debian` is a subfolder). Refuses anything that could leave
 * the Maildir or confuse readers: '/', '..', leading or trailing '.', control bytes.
 */
export function folderDir(name: string | undefined): FolderCheck {
  if (name === undefined || name === '' || name.toUpperCase() === 'INBOX') return { ok: true, dir: '' };
  if (name.length > MAX_FOLDER) return { ok: false, why: `folder name longer than ${MAX_FOLDER} characters` };
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) return { ok: false, why: 'folder name contains control characters' };
  if (name.includes('/')) return { ok: false, why: "folder name contains '/'" };
  if (name.includes('\\')) return { ok: false, why: "folder name contains '\\'" };
  if (name.startsWith('.')) return { ok: false, why: "folder name starts with '.'" };
  if (name.endsWith('.')) return { ok: false, why: "folder name ends with '.'" };
  if (name.includes('..')) return { ok: false, why: "folder name contains '..'" };
  return { ok: true, dir: '.' + name };
}
