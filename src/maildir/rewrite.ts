/**
 * Builds a new spool file from an existing message plus header fields
 * inserted at a byte offset (scan results), streaming in chunks so memory
 * stays flat. The source stays untouched; the caller discards it once the
 * new spool is complete, so a failure at any point loses nothing.
 * Must not: decide which fields to add or where (scanners/, message/).
 */
import { constants as C } from 'node:fs';
import { open, read, withFd } from '../io/fs-async.js';
import type { NameSource } from './name-source.js';
import { Spool } from './spool.js';

const CHUNK = 64 * 1024;

async function copyRange(fd: number, start: number, end: number, out: Spool): Promise<void> {
  for (let pos = start; pos < end; ) {
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, end - pos));
    const n = await read(fd, buf, 0, buf.length, pos);
    if (n === 0) break;
    await out.write(n === buf.length ? buf : buf.subarray(0, n));
    pos += n;
  }
}

/** readHead returns up to `max` bytes from the start of a file (to find the insert point). */
export async function readHead(path: string, max: number): Promise<Buffer> {
  return withFd(await open(path, C.O_RDONLY | C.O_NOFOLLOW), async (fd) => {
    const buf = Buffer.allocUnsafe(max);
    const n = await read(fd, buf, 0, max, 0);
    return buf.subarray(0, n);
  });
}

/** composeSpool writes source[0, at) + fields + source[at, end) into a new spool in root/tmp. */
export async function composeSpool(root: string, names: NameSource, source: string, at: number, fields: Buffer): Promise<Spool> {
  const out = await Spool.create(root, names);
  try {
    await withFd(await open(source, C.O_RDONLY | C.O_NOFOLLOW), async (fd) => {
      await copyRange(fd, 0, at, out);
      await out.write(fields);
      await copyRange(fd, at, Number.MAX_SAFE_INTEGER, out);
    });
    return out;
  } catch (err) {
    await out.discard();
    throw err;
  }
}

/**
 * replaceHeadSpool writes `head` + source[headEnd, end) into a new, sealed spool in root/tmp: a
 * copy with another header block (editheader, RFC 5293); the body is streamed, never held.
 */
export async function replaceHeadSpool(root: string, names: NameSource, source: string, headEnd: number, head: Buffer): Promise<Spool> {
  const out = await Spool.create(root, names);
  try {
    await out.write(head);
    await withFd(await open(source, C.O_RDONLY | C.O_NOFOLLOW), (fd) => copyRange(fd, headEnd, Number.MAX_SAFE_INTEGER, out));
    await out.seal();
    return out;
  } catch (err) {
    await out.discard();
    throw err;
  }
}
