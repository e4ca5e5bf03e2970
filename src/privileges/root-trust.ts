/**
 * Which files root may take orders from: the rules behind "a config (or an admin
 * Sieve script) that root reads must be root's alone". A file qualifies when
 * root owns it and neither its group nor others may write it; every directory
 * above it must be root's too and not writable by group or others, unless
 * sticky (then only an entry's owner, here root, can rename or replace it):
 * OpenSSH's StrictModes, with root as the only trusted owner. ACLs are not
 * read. Pure: no I/O (io/trusted-path.ts walks the path).
 */

/** The parts of a stat these rules read. */
export interface OwnerMode {
  uid: number;
  mode: number;
}

const octal = (mode: number): string => (mode & 0o7777).toString(8).padStart(4, '0');

/** fileTrustProblem: why root must not read `path` (stat `st`), or undefined. */
export function fileTrustProblem(path: string, st: OwnerMode): string | undefined {
  if (st.uid !== 0) return `${path} is owned by uid ${st.uid}, not root`;
  if (st.mode & 0o022) return `${path} is writable by group or others (mode ${octal(st.mode)})`;
  return undefined;
}

/** dirTrustProblem: why a directory above such a file lets someone but root replace it, or undefined. */
export function dirTrustProblem(dir: string, st: OwnerMode): string | undefined {
  if (st.uid !== 0) return `directory ${dir} is owned by uid ${st.uid}, not root`;
  // Sticky (/tmp): others may add entries but not rename or remove root's, and every entry on the path is root's.
  if (st.mode & 0o022 && !(st.mode & 0o1000)) return `directory ${dir} is writable by group or others (mode ${octal(st.mode)})`;
  return undefined;
}

/** ancestorDirs lists the directories above an absolute, normalized path, nearest first, ending with "/". */
export function ancestorDirs(path: string): string[] {
  const out: string[] = [];
  let dir = path;
  while (dir !== '/') {
    dir = dir.slice(0, dir.lastIndexOf('/')) || '/';
    out.push(dir);
  }
  return out;
}
