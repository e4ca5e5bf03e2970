/**
 * The progress of an unfinished quota count, kept in `tmp/mda-quota-scan` of
 * the top Maildir so the next delivery resumes where this one stopped (JSON:
 * {"v":1,"dirs":{"<rel dir>":{ino,mtimeMs,bytes,count,after?}}}). Written via
 * a unique tmp/ name and rename(); removed once a count completes. The file is
 * the user's (hostile) like maildirsize itself: anything odd reads as "no progress".
 * Must not: decide anything about quota, or follow a symlink or open a FIFO.
 */
import { constants as C } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fstat, fsync, open, read, rename, unlink, withFd, writeAll } from '../io/fs-async.js';
import { escapeHost } from '../maildir/names.js';
import type { DirSums, ScanState } from './scan.js';

export const SCAN_STATE_FILE = 'mda-quota-scan';
/** A state for thousands of folders fits easily; a larger file is not ours. */
const MAX_BYTES = 1 << 20;

const statePath = (maildir: string): string => join(maildir, 'tmp', SCAN_STATE_FILE);

/** parseScanState validates the JSON; undefined when it is not a state this version wrote. Pure. */
export function parseScanState(text: string): ScanState | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined; // not JSON: the same as no progress
  }
  if (typeof v !== 'object' || v === null || (v as { v?: unknown }).v !== 1) return undefined;
  const dirs = (v as { dirs?: unknown }).dirs;
  if (typeof dirs !== 'object' || dirs === null || Array.isArray(dirs)) return undefined;
  const out: ScanState = Object.create(null) as ScanState;
  for (const [rel, d] of Object.entries(dirs as Record<string, unknown>)) {
    // Only new/ or cur/ of the Maildir or of one `.Folder` below it: nothing that climbs out.
    if (!/^(\.[^/]+\/)?(new|cur)$/.test(rel) || rel.startsWith('../') || rel.startsWith('./')) return undefined;
    const s = dirSums(d);
    if (!s) return undefined;
    out[rel] = s;
  }
  return out;
}

function dirSums(d: unknown): DirSums | undefined {
  if (typeof d !== 'object' || d === null) return undefined;
  const { ino, mtimeMs, bytes, count, after } = d as Record<string, unknown>;
  const nonNegative = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  if (!nonNegative(ino) || !nonNegative(bytes) || !nonNegative(count)) return undefined;
  if (typeof mtimeMs !== 'number' || !Number.isFinite(mtimeMs)) return undefined;
  if (after !== undefined && typeof after !== 'string') return undefined;
  return after === undefined ? { ino, mtimeMs, bytes, count } : { ino, mtimeMs, bytes, count, after };
}

export function formatScanState(state: ScanState): string {
  return JSON.stringify({ v: 1, dirs: state });
}

/** readScanState: the saved progress, or undefined (missing, unreadable, not a regular file, not valid). */
export async function readScanState(maildir: string): Promise<ScanState | undefined> {
  let fd: number;
  try {
    fd = await open(statePath(maildir), C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
  } catch {
    return undefined; // missing (the usual case), a symlink, or not ours: no progress to resume
  }
  return withFd(fd, async () => {
    const st = await fstat(fd);
    if (!st.isFile() || st.size > MAX_BYTES) return undefined;
    const buf = Buffer.alloc(st.size);
    let got = 0;
    while (got < buf.length) {
      const n = await read(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return parseScanState(buf.subarray(0, got).toString('utf8'));
  });
}

/** saveScanState writes the progress atomically (a reader sees the old state or the new one). */
export async function saveScanState(maildir: string, state: ScanState): Promise<void> {
  const tmp = join(maildir, 'tmp', `${Date.now()}.P${process.pid}R${Math.random().toString(36).slice(2, 10)}.${escapeHost(hostname())}_scan`);
  const fd = await open(tmp, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
  try {
    await withFd(fd, async () => {
      await writeAll(fd, Buffer.from(formatScanState(state)));
      await fsync(fd);
    });
    await rename(tmp, statePath(maildir));
  } catch (err) {
    await unlink(tmp).catch(() => undefined); // best effort: tmp/ is purged after 36 h anyway
    throw err;
  }
}

/** clearScanState removes the progress once a count has completed; a missing file is fine. */
export async function clearScanState(maildir: string): Promise<void> {
  await unlink(statePath(maildir)).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  });
}
