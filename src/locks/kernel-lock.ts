/**
 * Kernel locks on an open mbox: fcntl(F_SETLK, whole file, write lock) and
 * flock(LOCK_EX|LOCK_NB), one non-blocking attempt each, through the native
 * package fs-ext (Node has neither call). fs-ext is loaded on first use only,
 * so a Maildir delivery never pays for it; when it is missing, a configured
 * kernel lock is a deferral that says so (4.3.0), never an mbox written unlocked.
 * fcntl locks belong to the process and vanish when ANY descriptor of the file
 * is closed in it: the caller locks the descriptor it appends through and opens
 * no other one while locked.
 * Must not: wait or retry (acquire.ts does), open or close files.
 */
import { createRequire } from 'node:module';
import { OutcomeError, temp } from '../outcome/outcome.js';

interface FsExt {
  fcntl(fd: number, cmd: number, arg: number, cb: (err: NodeJS.ErrnoException | null) => void): void;
  flockSync(fd: number, flags: string): void;
  constants: { F_SETLK: number; F_WRLCK: number; F_UNLCK: number };
}

/** loadFsExt: the addon, or a deferral naming what is missing. Cached by Node's module cache, not here. */
function loadFsExt(): FsExt {
  try {
    return createRequire(import.meta.url)('fs-ext') as FsExt;
  } catch (err) {
    throw new OutcomeError(temp('lock-unsupported', `fcntl/flock need the native package fs-ext, which cannot be loaded (${(err as Error).message.split('\n')[0]}): reinstall mda with its optional dependencies, or drop "fcntl"/"flock" from [locks] mbox_locks`));
  }
}

/** Held by someone else: F_SETLK says EAGAIN or EACCES, flock EWOULDBLOCK (= EAGAIN on Linux). */
const isBusy = (err: unknown) => ['EAGAIN', 'EACCES', 'EWOULDBLOCK'].includes((err as NodeJS.ErrnoException).code ?? '');

/**
 * setlk: fcntl(F_SETLK) with a whole-file struct flock of `type`. Only fs-ext's asynchronous
 * fcntl builds the struct flock; its fcntlSync passes the number itself (EFAULT). The call
 * runs on a pool thread, which is the same process: the lock is the process's all the same.
 */
const setlk = (fx: FsExt, fd: number, type: number) =>
  new Promise<void>((resolve, reject) => fx.fcntl(fd, fx.constants.F_SETLK, type, (err) => (err ? reject(err) : resolve())));

/** tryKernelLock makes one attempt; true when locked, false while another process holds it. */
export async function tryKernelLock(kind: 'mbox-fcntl' | 'mbox-flock', fd: number): Promise<boolean> {
  const fx = loadFsExt();
  try {
    if (kind === 'mbox-fcntl') await setlk(fx, fd, fx.constants.F_WRLCK);
    else fx.flockSync(fd, 'exnb');
    return true;
  } catch (err) {
    if (isBusy(err)) return false;
    throw err;
  }
}

/** releaseKernelLock unlocks without closing (closing is the caller's, after the truncate-back). Never throws. */
export async function releaseKernelLock(kind: 'mbox-fcntl' | 'mbox-flock', fd: number): Promise<void> {
  try {
    const fx = loadFsExt();
    if (kind === 'mbox-fcntl') await setlk(fx, fd, fx.constants.F_UNLCK);
    else fx.flockSync(fd, 'un');
  } catch {
    // the descriptor is closed soon after, which drops the lock anyway
  }
}
