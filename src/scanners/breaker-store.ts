/**
 * Keeps breaker state (breaker.ts) in one small file per endpoint key in
 * [scanning] state_dir, shared by every mda process whatever its uid: the dir
 * is created 1777, files 0666, and a record is rewritten in place at offset 0
 * (in a sticky directory, renaming over another user's file fails).
 * Any I/O problem disables the breaker (a closed state, a lost write): it never
 * throws and never waits on anything but one small local file operation.
 *
 * Trust: any local user can rewrite these files, so a user can open a breaker
 * (scanning is skipped, the mail is marked `skipped (circuit-open)` and routed
 * by on_failure) or keep one closed. That is the availability of scanning, not
 * mail safety: nobody can read or alter mail through them. Files are opened
 * with O_NOFOLLOW|O_NONBLOCK and must be regular files, so a planted symlink or
 * FIFO only disables the breaker; the kernel's protected_symlinks keeps a
 * symlink planted as the directory itself (in /var/tmp) from being followed.
 */
import { chmod as fsChmod, constants, fchmod as fsFchmod } from 'node:fs';
import { join } from 'node:path';
import { close, fstat, mkdir, open, read, write } from '../io/fs-async.js';
import { breakerFileName, CLOSED, decodeBreaker, encodeBreaker, RECORD_BYTES, type BreakerState } from './breaker.js';

const { O_RDONLY, O_RDWR, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = constants;
const FILE_MODE = 0o666;
const DIR_MODE = 0o1777;

/** readBreaker returns the endpoint's shared state; closed when there is none or it cannot be read. */
export async function readBreaker(dir: string, key: string): Promise<BreakerState> {
  let fd: number | undefined;
  try {
    fd = await open(join(dir, breakerFileName(key)), O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    if (!(await fstat(fd)).isFile()) return { ...CLOSED };
    const buf = Buffer.alloc(RECORD_BYTES);
    const n = await read(fd, buf, 0, RECORD_BYTES, 0);
    return decodeBreaker(buf.toString('latin1', 0, n));
  } catch {
    return { ...CLOSED };
  } finally {
    if (fd !== undefined) await close(fd).catch(() => undefined);
  }
}

/** writeBreaker stores the endpoint's state for every process; failures are ignored (breaker disabled). */
export async function writeBreaker(dir: string, key: string, state: BreakerState): Promise<void> {
  let fd: number | undefined;
  try {
    fd = await openForWrite(dir, join(dir, breakerFileName(key)));
    if (!(await fstat(fd)).isFile()) return;
    // One write of the whole record at offset 0; a reader racing it may see a torn
    // record, which decodes as closed: one extra scan attempt, never a wrong skip.
    const rec = Buffer.from(encodeBreaker(state), 'latin1');
    await write(fd, rec, 0, rec.length, 0);
  } catch {
    // disabled: the next delivery simply scans
  } finally {
    if (fd !== undefined) await close(fd).catch(() => undefined);
  }
}

/** openForWrite opens the state file, creating the directory (1777) and the file (0666) when missing. */
async function openForWrite(dir: string, path: string): Promise<number> {
  const flags = O_RDWR | O_NOFOLLOW | O_NONBLOCK;
  try {
    return await open(path, flags);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  let fd: number;
  try {
    fd = await open(path, flags | O_CREAT | O_EXCL, FILE_MODE);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return open(path, flags); // another process created it first
    if (code !== 'ENOENT') throw err;
    await makeDir(dir);
    try {
      fd = await open(path, flags | O_CREAT | O_EXCL, FILE_MODE);
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code === 'EEXIST') return open(path, flags);
      throw again;
    }
  }
  // The umask (Postfix runs us with 077) would leave it writable only by its creator.
  await new Promise<void>((resolve) => fsFchmod(fd, FILE_MODE, () => resolve()));
  return fd;
}

/** makeDir creates the shared state directory sticky and world-writable, as /tmp is. */
async function makeDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, DIR_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return; // someone else made it: use theirs as it is
    throw err;
  }
  await new Promise<void>((resolve) => fsChmod(dir, DIR_MODE, () => resolve()));
}
