/**
 * One mbox file's I/O: open it safely, append one entry (mboxo, format.ts)
 * from a spool file, undo an append. The descriptor opened here is the one
 * the caller locks (fcntl/flock) and the only one of that file this process
 * holds until it closes it: closing any descriptor of a file drops the
 * process's fcntl locks on it.
 * Must not: take locks, decide quota or outcomes beyond "unsafe"/"missing".
 */
import { constants as C } from 'node:fs';
import { dirname } from 'node:path';
import type { Deadline } from '../deadline/deadline.js';
import { close, fstat, fsync, ftruncate, open, read, writeAll } from '../io/fs-async.js';
import { OutcomeError, temp } from '../outcome/outcome.js';
import { FromQuoter } from './format.js';

const CHUNK = 256 * 1024;
// O_NONBLOCK: a FIFO planted at the mbox path must not hang the open (it is refused below).
// O_RDWR, not O_WRONLY: the journal check reads the file's tail, and a second, read-only
// descriptor could not be closed without dropping our fcntl lock.
const APPEND_FLAGS = C.O_RDWR | C.O_APPEND | C.O_NOFOLLOW | C.O_NONBLOCK;

const unsafe = (detail: string) => new OutcomeError(temp('unsafe-mailbox', detail));
const code = (err: unknown) => (err as NodeJS.ErrnoException).code;

export interface OpenMbox {
  fd: number;
  dev: number;
  ino: number;
}

/** openOrCreate: the existing file, or a new one (O_EXCL, 0600) where the directory lets us create it. */
async function openOrCreate(path: string, uid: number): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await open(path, APPEND_FLAGS);
    } catch (err) {
      if (code(err) === 'ELOOP') throw unsafe(`${path} is a symbolic link`);
      if (code(err) === 'ENXIO') throw unsafe(`${path} is a FIFO or device, not a regular file`);
      if (code(err) !== 'ENOENT' || attempt > 1) throw err;
    }
    try {
      return await open(path, APPEND_FLAGS | C.O_CREAT | C.O_EXCL, 0o600);
    } catch (err) {
      if (code(err) === 'EEXIST') continue; // created meanwhile by another delivery: open that one
      if (code(err) === 'EACCES' || code(err) === 'EPERM') {
        // dotlockfile only locks; creating a file in a root:mail spool directory is root's (or the MTA's) job.
        throw new OutcomeError(temp('mbox-spool-unwritable', `${path} does not exist and uid ${uid} cannot create it in ${dirname(path)}: create it owned by the user, mode 0600 (as useradd's CREATE_MAIL_SPOOL does)`));
      }
      throw err;
    }
  }
}

/** openMbox opens (or creates) the mbox for appending and refuses anything but the user's own plain file. */
export async function openMbox(path: string, uid: number): Promise<OpenMbox> {
  const fd = await openOrCreate(path, uid);
  try {
    const st = await fstat(fd);
    if (!st.isFile()) throw unsafe(`${path} is not a regular file`);
    if (st.nlink !== 1) throw unsafe(`${path} has ${st.nlink} hard links: another name could reach this file`);
    if (st.uid !== uid) throw unsafe(`${path} is owned by uid ${st.uid}, not the recipient's uid ${uid}`);
    return { fd, dev: st.dev, ino: st.ino };
  } catch (err) {
    await close(fd).catch(() => undefined);
    throw err;
  }
}

/** readChunks: the spool file's bytes, a chunk at a time. */
async function* readChunks(path: string): AsyncGenerator<Buffer> {
  const fd = await open(path, C.O_RDONLY | C.O_NOFOLLOW);
  try {
    for (let pos = 0; ; ) {
      const buf = Buffer.allocUnsafe(CHUNK);
      const n = await read(fd, buf, 0, CHUNK, pos);
      if (n === 0) return;
      pos += n;
      yield buf.subarray(0, n);
    }
  } finally {
    await close(fd).catch(() => undefined);
  }
}

/** entryLength: how many bytes the entry for this spool will be (the From_ line included), for the journal and quota. */
export async function entryLength(fromLine: Buffer, spoolPath: string): Promise<number> {
  const q = new FromQuoter();
  let n = fromLine.length;
  for await (const chunk of readChunks(spoolPath)) n += q.feed(chunk).length;
  return n + q.end().length;
}

/**
 * appendEntry writes From_ line + quoted message + end through fd (O_APPEND) and fsyncs.
 * Between chunks, a fired deadline or signal stops it (the caller truncates back).
 */
export async function appendEntry(fd: number, fromLine: Buffer, spoolPath: string, deadline: Deadline): Promise<void> {
  const stopIfAborted = () => {
    if (deadline.signal.aborted) throw deadline.signal.reason;
  };
  const q = new FromQuoter();
  stopIfAborted();
  await writeAll(fd, fromLine);
  for await (const chunk of readChunks(spoolPath)) {
    stopIfAborted();
    await writeAll(fd, q.feed(chunk));
  }
  await writeAll(fd, q.end());
  await fsync(fd);
}

/** sizeOf: the open file's size now. */
export const sizeOf = async (fd: number): Promise<number> => (await fstat(fd)).size;

/** truncateBack cuts the file to `size` (an append undone) and makes that durable; false when it could not. */
export async function truncateBack(fd: number, size: number): Promise<boolean> {
  try {
    await ftruncate(fd, size);
    await fsync(fd);
    return true;
  } catch {
    return false;
  }
}

/** bytesAt: up to n bytes of the file at offset, read through the locked descriptor itself. */
export async function bytesAt(fd: number, offset: number, n: number): Promise<Buffer> {
  const buf = Buffer.alloc(n);
  const got = await read(fd, buf, 0, n, offset);
  return buf.subarray(0, got);
}
