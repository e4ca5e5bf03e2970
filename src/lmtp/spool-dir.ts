/**
 * The server's spool directory: where each transaction's message is written
 * once before its copies are linked or copied into the Maildirs. Created by
 * the uid that serves connections (after any switch to `[lmtp] user`), mode
 * 0700, and refused when it is not that uid's own private directory: the
 * default lives in the shared system temp dir, where anyone could have made
 * the name first (a symlink or a directory they can read).
 * Hard links need the spool on the Maildirs' filesystem; elsewhere every copy
 * is a full copy (correct, only slower). At start-up it removes the files a
 * crashed server left in tmp/ (removeStaleSpoolFiles), by age only, because
 * two servers of one uid share the default directory. Must not: remove
 * anything but old entries of dir/tmp.
 */
import { constants as C, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A spool file lives from DATA until its transaction ends: at most [delivery] deadline (900 s
 * at most) plus the 40 s hard-stop grace of transaction.ts, and its mtime moves with every
 * write. An hour past its last write no live transaction of any server can still own it.
 */
export const STALE_SPOOL_AGE_MS = 60 * 60 * 1000;

/** defaultSpoolDir: per uid, so two servers of different uids never share one. */
export const defaultSpoolDir = (uid: number): string => join(tmpdir(), `mda-lmtp.${uid}`);

/** privateDirProblem: why `st` is not a directory this uid alone may use (pure), or undefined. */
export function privateDirProblem(st: { isDirectory(): boolean; isSymbolicLink(): boolean; uid: number; mode: number }, uid: number): string | undefined {
  if (st.isSymbolicLink()) return 'is a symbolic link';
  if (!st.isDirectory()) return 'is not a directory';
  if (st.uid !== uid) return `is owned by uid ${st.uid}, not ${uid}`;
  if ((st.mode & 0o077) !== 0) return `has mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}: group and others must have no access`;
  return undefined;
}

async function privateDir(path: string, uid: number): Promise<void> {
  await fsp.mkdir(path, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  const problem = privateDirProblem(await fsp.lstat(path), uid);
  if (problem) throw new Error(`spool directory ${path} ${problem}`);
}

/** prepareSpoolDir makes `dir` and `dir/tmp` (0700, this uid's) or throws why it cannot. */
export async function prepareSpoolDir(dir: string, uid: number = process.geteuid?.() ?? 0): Promise<void> {
  await privateDir(dir, uid);
  await privateDir(join(dir, 'tmp'), uid);
  // O_DIRECTORY|O_NOFOLLOW once more: the name checked is the directory spooled into.
  const fd = await fsp.open(join(dir, 'tmp'), C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
  await fd.close();
}

/** What a tmp/ entry's lstat shows (the fields isStaleSpoolEntry reads). */
export interface SpoolEntryStat {
  isFile(): boolean;
  isSymbolicLink(): boolean;
  mtimeMs: number;
}

/** isStaleSpoolEntry: a file or symlink (never a directory) whose last write is maxAgeMs or more ago (pure). */
export function isStaleSpoolEntry(st: SpoolEntryStat, nowMs: number, maxAgeMs: number = STALE_SPOOL_AGE_MS): boolean {
  if (!st.isFile() && !st.isSymbolicLink()) return false;
  return nowMs - st.mtimeMs >= maxAgeMs;
}

export interface StaleSweep {
  /** Names removed from dir/tmp. */
  removed: string[];
  /** Why an entry could not be looked at or removed (the server starts anyway: they only cost space). */
  problems: string[];
}

/**
 * removeStaleSpoolFiles deletes the old spool files in dir/tmp that a crashed or killed server
 * left (a clean one discards each file when its transaction ends). By age, not all of them: two
 * servers of one uid (scale-out on one host) share the default spool dir, and the other one's
 * open transactions must keep their files. Stored copies are other names (links) of the same
 * inode, so unlinking a spool name never touches a delivered message.
 */
export async function removeStaleSpoolFiles(dir: string, nowMs: number = Date.now(), maxAgeMs: number = STALE_SPOOL_AGE_MS): Promise<StaleSweep> {
  const tmp = join(dir, 'tmp');
  const out: StaleSweep = { removed: [], problems: [] };
  let names: string[];
  try {
    names = await fsp.readdir(tmp);
  } catch (err) {
    out.problems.push(`${tmp}: ${(err as Error).message}`);
    return out;
  }
  for (const name of names) {
    const path = join(tmp, name);
    try {
      if (!isStaleSpoolEntry(await fsp.lstat(path), nowMs, maxAgeMs)) continue;
      await fsp.unlink(path);
      out.removed.push(name);
    } catch (err) {
      // ENOENT: the other server sharing the directory finished (or swept) it first.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') out.problems.push(`${path}: ${(err as Error).message}`);
    }
  }
  return out;
}
