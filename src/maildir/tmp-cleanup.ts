/**
 * Removes tmp/ files that killed deliveries left behind, once nobody has
 * touched them for 36 hours (maildir(5)). The hot path pays one stat() of tmp/
 * per delivery: tmp/ is listed at most every 8 hours, and its atime, set
 * explicitly (so noatime mounts work too), marks the last scan.
 * Must not: fail a delivery, or touch anything but regular files in tmp/ itself.
 */
import { join } from 'node:path';
import { lstat, readdirNames, stat, unlink, utimes } from '../io/fs-async.js';
import type { Logger } from '../log/logger.js';

const HOUR_MS = 3_600_000;
/** maildir(5): a tmp/ file not accessed for this long was abandoned. */
export const ABANDONED_AFTER_MS = 36 * HOUR_MS;
/** How often one Maildir's tmp/ is listed. Abandoned files are rare (a killed delivery), so a few hours late is fine. */
export const SCAN_EVERY_MS = 8 * HOUR_MS;
/**
 * At most this many entries are looked at per scan, so a tmp/ full of junk
 * costs one delivery a bounded ~1000 lstat()s; the rest waits for the next scan.
 */
export const MAX_ENTRIES_PER_SCAN = 1_000;
const STAT_CONCURRENCY = 8;

export interface TmpEntry {
  isFile: boolean;
  atimeMs: number;
  mtimeMs: number;
}

/**
 * scanDue: is tmp/ due for a listing, given its atime (the last scan)? A mark far
 * in the future (the clock stepped back) counts as long ago, or cleaning would
 * stop until the clock caught up.
 */
export function scanDue(markMs: number, nowMs: number): boolean {
  return Math.abs(nowMs - markMs) >= SCAN_EVERY_MS;
}

/**
 * isAbandoned: a regular file neither read nor written for 36 hours. A file
 * dated in the future is kept: deleting a delivery in progress would lose mail,
 * keeping junk only costs space.
 */
export function isAbandoned(e: TmpEntry, nowMs: number): boolean {
  if (!e.isFile) return false;
  const last = Math.max(e.atimeMs, e.mtimeMs);
  return last <= nowMs && nowMs - last >= ABANDONED_AFTER_MS;
}

export interface CleanupResult {
  scanned: boolean;
  removed: number;
}

const isGone = (err: unknown): boolean => ['ENOENT', 'ESTALE'].includes((err as NodeJS.ErrnoException).code ?? '');

/**
 * cleanTmp removes abandoned files from maildir/tmp/ when a scan is due. It
 * claims the scan (tmp/'s atime := now, mtime kept) before listing, so
 * concurrent deliveries rarely scan twice; a second scan is harmless anyway.
 * Stops early when `stop` aborts. Throws I/O errors for the caller to log.
 */
export async function cleanTmp(maildir: string, nowMs = Date.now(), stop?: AbortSignal): Promise<CleanupResult> {
  const dir = join(maildir, 'tmp');
  const st = await stat(dir);
  if (!scanDue(st.atimeMs, nowMs)) return { scanned: false, removed: 0 };
  await utimes(dir, nowMs / 1000, st.mtimeMs / 1000);
  const names = (await readdirNames(dir)).slice(0, MAX_ENTRIES_PER_SCAN);
  let removed = 0;
  let next = 0;
  let failure: unknown;
  // Workers never reject: an error stops them all, and is thrown only once none is
  // left in flight (an fs call still running at exit makes cli/exit.ts SIGKILL us).
  const worker = async (): Promise<void> => {
    while (next < names.length && failure === undefined && !stop?.aborted) {
      const path = join(dir, names[next++]!);
      try {
        const f = await lstat(path);
        if (!isAbandoned({ isFile: f.isFile(), atimeMs: f.atimeMs, mtimeMs: f.mtimeMs }, nowMs)) continue;
        await unlink(path);
        removed += 1;
      } catch (err) {
        if (!isGone(err)) failure ??= err; // gone: someone else removed it first
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(STAT_CONCURRENCY, names.length) }, worker));
  if (failure !== undefined) throw failure;
  return { scanned: true, removed };
}

/** cleanTmpQuietly runs cleanTmp after a delivery: it never throws, it logs. */
export async function cleanTmpQuietly(maildir: string, logger: Logger, stop?: AbortSignal): Promise<void> {
  try {
    const r = await cleanTmp(maildir, Date.now(), stop);
    if (r.removed > 0) logger.info(`removed ${r.removed} abandoned file(s) older than 36h from ${join(maildir, 'tmp')}`);
  } catch (err) {
    logger.warn(`tmp/ cleanup in ${maildir} failed: ${(err as Error).message}`);
  }
}
