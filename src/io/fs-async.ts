/**
 * Promise wrappers over callback `node:fs`, for the deliver hot path. Importing
 * `node:fs/promises` also loads readline, directory and watcher internals
 * (~3 ms of compile time per start), and Postfix starts mda for every message.
 * Thin: no policy, no retries; errors are the plain errno errors of node:fs.
 */
import * as fs from 'node:fs';

type Cb<T> = (err: NodeJS.ErrnoException | null, value: T) => void;
const call = <T>(fn: (cb: Cb<T>) => void): Promise<T> =>
  new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));
const done = (fn: (cb: (err: NodeJS.ErrnoException | null) => void) => void): Promise<void> =>
  new Promise((resolve, reject) => fn((err) => (err ? reject(err) : resolve())));

export const open = (path: string, flags: number | string, mode?: number) => call<number>((cb) => fs.open(path, flags, mode, cb));
export const close = (fd: number) => done((cb) => fs.close(fd, cb));
export const fsync = (fd: number) => done((cb) => fs.fsync(fd, cb));
export const fstat = (fd: number) => call<fs.Stats>((cb) => fs.fstat(fd, cb));
export const stat = (path: string) => call<fs.Stats>((cb) => fs.stat(path, cb));
export const lstat = (path: string) => call<fs.Stats>((cb) => fs.lstat(path, cb));
export const link = (from: string, to: string) => done((cb) => fs.link(from, to, cb));
export const rename = (from: string, to: string) => done((cb) => fs.rename(from, to, cb));
export const unlink = (path: string) => done((cb) => fs.unlink(path, cb));
export const mkdir = (path: string, mode: number, recursive = false) => done((cb) => fs.mkdir(path, { mode, recursive }, (err) => cb(err)));
export const readdir = (path: string) => call<fs.Dirent[]>((cb) => fs.readdir(path, { withFileTypes: true }, cb));
export const readdirNames = (path: string) => call<string[]>((cb) => fs.readdir(path, cb));
export const readFile = (path: string) => call<Buffer>((cb) => fs.readFile(path, cb));

/** write writes once at the current offset (or `position`) and returns the byte count. */
export const write = (fd: number, buf: Buffer, offset = 0, length = buf.length - offset, position: number | null = null) =>
  call<number>((cb) => fs.write(fd, buf, offset, length, position, cb));

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
  call<number>((cb) => fs.read(fd, buf, offset, length, position, cb));

/** withFd runs fn on an open descriptor and always closes it. */
export async function withFd<T>(fd: number, fn: (fd: number) => Promise<T>): Promise<T> {
  try {
    return await fn(fd);
  } finally {
    await close(fd);
  }
}
