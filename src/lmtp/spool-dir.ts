/**
 * The server's spool directory: where each transaction's message is written
 * once before its copies are linked or copied into the Maildirs. Created by
 * the uid that serves connections (after any switch to `[lmtp] user`), mode
 * 0700, and refused when it is not that uid's own private directory: the
 * default lives in the shared system temp dir, where anyone could have made
 * the name first (a symlink or a directory they can read).
 * Hard links need the spool on the Maildirs' filesystem; elsewhere every copy
 * is a full copy (correct, only slower). Must not: remove anything but what
 * it is told to.
 */
import { constants as C, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
