/**
 * Replaces a whole file atomically, for admin commands run by root from cron
 * (`mda recipients export --output`) and for Dovecot's dovecot-keywords: readers (postmap) see the old file or
 * the new one, never a part, and whatever sits at the path (a file, or a
 * symlink someone planted) is replaced, never written through.
 * The temp file is a fresh, unguessable name beside the target, opened
 * O_CREAT|O_EXCL|O_NOFOLLOW (a planted name makes the open fail, never
 * redirects it); rename(2) replaces the final path component itself, without
 * following a symlink there; the directory is fsynced so the new name survives
 * a crash. (write-file-atomic does neither: it realpath()s the target and
 * renames onto the symlink's target, taking that file's mode and owner, and
 * opens a predictable temp name without O_EXCL.)
 * Must not: follow a symlink at the target or the temp name, leave a temp file
 * behind on an error it sees.
 */
import { randomBytes } from 'node:crypto';
import { constants as C, fchmod as fsFchmod } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { close, fstat, fsync, fsyncDir, futimes, open, rename, unlink, writeAll } from './fs-async.js';

/** fchmod on the open descriptor: the mode is exact whatever the umask (cron's may be 077). */
const fchmod = (fd: number, mode: number): Promise<void> =>
  new Promise((resolve, reject) => fsFchmod(fd, mode, (err) => (err ? reject(err) : resolve())));

export interface ReplaceOptions {
  /**
   * The new file's mtime (whole seconds) must be above this: readers that re-read only when the
   * mtime changes (Dovecot's dovecot-keywords) would miss a rewrite within the same second.
   */
  mtimeAboveS?: number;
}

/** replaceFile writes `data` to `target` with `mode` (exactly), atomically. */
export async function replaceFile(target: string, data: Buffer, mode: number, opts: ReplaceOptions = {}): Promise<void> {
  const dir = dirname(target);
  // A dot name so a glob over the directory skips it; pid for whoever finds one left by a SIGKILL.
  const tmp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = await open(tmp, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, mode);
  let renamed = false;
  try {
    try {
      await fchmod(fd, mode);
      await writeAll(fd, data);
      if (opts.mtimeAboveS !== undefined) await raiseMtime(fd, opts.mtimeAboveS);
      await fsync(fd);
    } finally {
      await close(fd);
    }
    await rename(tmp, target);
    renamed = true;
  } finally {
    if (!renamed) await unlink(tmp).catch(() => undefined);
  }
  await syncRename(dir);
}

/** raiseMtime: as Dovecot's maildir_keywords_write_fd, an mtime not above the old one becomes old + 1. */
async function raiseMtime(fd: number, aboveS: number): Promise<void> {
  const st = await fstat(fd);
  if (Math.floor(st.mtimeMs / 1000) > aboveS) return;
  await futimes(fd, Date.now() / 1000, aboveS + 1);
}

/** syncRename makes a rename in `dir` durable; a filesystem that cannot fsync a directory (EINVAL) is let be. */
async function syncRename(dir: string): Promise<void> {
  await fsyncDir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EINVAL') throw err;
  });
}
