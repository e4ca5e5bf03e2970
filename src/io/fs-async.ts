/**
 * Promise wrappers over callback `node:fs`, for the deliver hot path. Importing
 * `node:fs/promises` also loads readline, directory and watcher internals
 * (~3 ms of compile time per start), and Postfix starts mda for every message.
 * Thin: no policy, no retries; errors are the plain errno errors of node:fs.
 */
import {
  access as fsAccess, close as fsClose, fstat as fsFstat, fsync as fsFsync, ftruncate as fsFtruncate, futimes as fsFutimes, link as fsLink, lstat as fsLstat, mkdir as fsMkdir, open as fsOpen,
  read as fsRead, readdir as fsReaddir, readFile as fsReadFile, realpath as fsRealpath, rename as fsRename, stat as fsStat, unlink as fsUnlink,
  utimes as fsUtimes, write as fsWrite, constants, type Dirent, type Stats,
} from 'node:fs';

type Cb<T> = (err: NodeJS.ErrnoException | null, value: T) => void;

/**
 * Operations handed to the thread pool and not finished yet. A hung one (a
 * dead NFS server) blocks its thread, and process.exit() then waits for that
 * thread forever (tested), so cli/exit.ts must know.
 */
let inFlight = 0;
const idleWaiters: Array<() => void> = [];
export const fsOpsInFlight = (): number => inFlight;
/** Resolves once no call is in the thread pool (at once when none is); callers bound the wait. */
export const fsIdle = (): Promise<void> => (inFlight === 0 ? Promise.resolve() : new Promise((r) => idleWaiters.push(r)));

const call = <T>(fn: (cb: Cb<T>) => void): Promise<T> => {
  inFlight++;
  return new Promise((resolve, reject) =>
    fn((err, value) => {
      if (--inFlight === 0 && idleWaiters.length) for (const w of idleWaiters.splice(0)) w();
      if (err) reject(err);
      else resolve(value);
    }),
  );
};
const done = (fn: (cb: (err: NodeJS.ErrnoException | null) => void) => void): Promise<void> =>
  call<void>((cb) => fn((err) => cb(err, undefined)));

export const open = (path: string, flags: number | string, mode?: number) => call<number>((cb) => fsOpen(path, flags, mode, cb));
export const close = (fd: number) => done((cb) => fsClose(fd, cb));
export const fsync = (fd: number) => done((cb) => fsFsync(fd, cb));
export const ftruncate = (fd: number, len: number) => done((cb) => fsFtruncate(fd, len, cb));
export const access = (path: string, mode: number) => done((cb) => fsAccess(path, mode, cb));
export const fstat = (fd: number) => call<Stats>((cb) => fsFstat(fd, cb));
export const stat = (path: string) => call<Stats>((cb) => fsStat(path, cb));
export const lstat = (path: string) => call<Stats>((cb) => fsLstat(path, cb));
export const link = (from: string, to: string) => done((cb) => fsLink(from, to, cb));
export const rename = (from: string, to: string) => done((cb) => fsRename(from, to, cb));
export const unlink = (path: string) => done((cb) => fsUnlink(path, cb));
export const mkdir = (path: string, mode: number, recursive = false) => done((cb) => fsMkdir(path, { mode, recursive }, (err) => cb(err)));
export const readdir = (path: string) => call<Dirent[]>((cb) => fsReaddir(path, { withFileTypes: true }, cb));
export const readdirNames = (path: string) => call<string[]>((cb) => fsReaddir(path, cb));
export const readFile = (path: string) => call<Buffer>((cb) => fsReadFile(path, cb));
/** realpath(3): one call, where fs.realpath lstats each component in JS. */
export const realpath = (path: string) => call<string>((cb) => fsRealpath.native(path, cb));
/** utimes sets atime and mtime, in seconds (fractions allowed). */
export const utimes = (path: string, atimeS: number, mtimeS: number) => done((cb) => fsUtimes(path, atimeS, mtimeS, cb));
/** futimes is utimes on an open descriptor (no path, so no symlink to follow). */
export const futimes = (fd: number, atimeS: number, mtimeS: number) => done((cb) => fsFutimes(fd, atimeS, mtimeS, cb));

/** write writes once at the current offset (or `position`) and returns the byte count. */
export const write = (fd: number, buf: Buffer, offset = 0, length = buf.length - offset, position: number | null = null) =>
  call<number>((cb) => fsWrite(fd, buf, offset, length, position, cb));

/** writeAll writes every byte, checking write(2) counts as maildir(5) asks. */
export async function writeAll(fd: number, buf: Buffer): Promise<void> {
  for (let off = 0; off < buf.length; ) {
    const n = await write(fd, buf, off);
    if (n <= 0) throw Object.assign(new Error('short write'), { code: 'EIO' });
    off += n;
  }
}

/** read reads once into buf at `position` and returns the byte count. */
export const read = (fd: number, buf: Buffer, offset: number, length: number, position: number | null) =>
  call<number>((cb) => fsRead(fd, buf, offset, length, position, cb));

/** withFd runs fn on an open descriptor and always closes it. */
export async function withFd<T>(fd: number, fn: (fd: number) => Promise<T>): Promise<T> {
  try {
    return await fn(fd);
  } finally {
    await close(fd);
  }
}

/**
 * fsyncDir makes a directory entry (a link into new/ or cur/, a rename) durable. It returns once
 * the fsync has: the close runs on after it, since a directory descriptor has nothing left to
 * flush (one thread-pool round trip fewer between the link and the 250 or exit 0, issue 11).
 */
export async function fsyncDir(dir: string): Promise<void> {
  const fd = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fsync(fd);
  } finally {
    void close(fd).catch(() => undefined);
  }
}
