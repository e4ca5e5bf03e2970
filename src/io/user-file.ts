/**
 * Opening a file a user controls (a Sieve script, the Sieve cache, state files
 * under ~/.mda): O_RDONLY|O_NONBLOCK, then fstat, refusing anything but a
 * regular file. A FIFO opened without O_NONBLOCK blocks a thread-pool thread
 * forever, and Node cannot exit while one is blocked: Postfix then kills us.
 * O_NONBLOCK has no effect on reads of regular files, so it is never cleared.
 * Must not: decide what a missing or refused file means (callers do).
 */
import { constants as C, type Stats } from 'node:fs';
import { close, fstat, open, read } from './fs-async.js';

export interface UserFileOptions {
  /** Refuse a symlink as the last component (O_NOFOLLOW): for files only mda writes. */
  noFollow?: boolean;
}

/** A refused user path: exists, but is not something mda reads (FIFO, device, directory, socket). */
export class NotRegularFileError extends Error {
  readonly code = 'ENOTREG';
  constructor(path: string, st: Stats) {
    super(`${path}: not a regular file (${kindOf(st)})`);
    this.name = 'NotRegularFileError';
  }
}

const kindOf = (st: Stats): string =>
  st.isFIFO() ? 'a FIFO' : st.isDirectory() ? 'a directory' : st.isSocket() ? 'a socket' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : 'not a file';

/** openUserFile opens path for reading and returns its fd and stat; throws unless it is a regular file. */
export async function openUserFile(path: string, opts: UserFileOptions = {}): Promise<{ fd: number; st: Stats }> {
  const fd = await open(path, C.O_RDONLY | C.O_NONBLOCK | (opts.noFollow ? C.O_NOFOLLOW : 0));
  let st: Stats;
  try {
    st = await fstat(fd);
  } catch (err) {
    await close(fd).catch(() => undefined);
    throw err;
  }
  if (!st.isFile()) {
    await close(fd).catch(() => undefined);
    throw new NotRegularFileError(path, st);
  }
  return { fd, st };
}

/** readFd reads up to `size` bytes from offset 0 of an open regular file. */
export async function readFd(fd: number, size: number): Promise<Buffer> {
  const buf = Buffer.alloc(size);
  let got = 0;
  while (got < buf.length) {
    const n = await read(fd, buf, got, buf.length - got, got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

/**
 * readUserFile reads a whole user-controlled file; undefined when it does not
 * exist. Larger than `max` bytes (when given) is an error, checked on the fstat.
 */
export async function readUserFile(path: string, opts: UserFileOptions & { max?: number } = {}): Promise<Buffer | undefined> {
  let opened: { fd: number; st: Stats };
  try {
    opened = await openUserFile(path, opts);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
  const { fd, st } = opened;
  try {
    if (opts.max !== undefined && st.size > opts.max) throw new Error(`${path}: too large (${st.size} bytes, limit ${opts.max})`);
    return await readFd(fd, st.size);
  } finally {
    await close(fd).catch(() => undefined);
  }
}
