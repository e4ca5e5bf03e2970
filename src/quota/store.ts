/**
 * The Maildir++ `maildirsize` file on disk: read (at most 5120 bytes), append
 * one line per delivery (O_APPEND, no lock), and rebuild it from new/ and cur/
 * of the top Maildir and its folders. Thin: every decision is maildirsize.ts's.
 * Must not: take locks itself (the caller's withRecalcLock does) or pick outcomes.
 */
import { constants as C, type Dirent } from 'node:fs';
import { fstat, fsync, lstat, open, read, readdir, readdirNames, rename, stat, unlink, withFd, write, writeAll } from '../io/fs-async.js';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { escapeHost } from '../maildir/names.js';
import {
  appendLine,
  formatMaildirsize,
  MAILDIRSIZE_READ_LIMIT,
  parseMaildirsize,
  recalcReason,
  sizeFromName,
  type MaildirsizeParse,
  type QuotaLimits,
  type Usage,
} from './maildirsize.js';

const FILE = 'maildirsize';
/** lstat()s in flight at once while scanning: enough to hide latency, few enough for any fd limit. */
const STAT_CONCURRENCY = 32;
// Courier: trash is not counted unless built --with-trashquota; Dovecot: per config.
const TRASH = '.Trash';

export interface QuotaRead extends Usage {
  /** True when this call rebuilt maildirsize from the folders. */
  recalculated: boolean;
  /** Why it was rebuilt (for the log line); set iff recalculated. */
  reason?: string;
}

export interface ReadQuotaOptions {
  /** Wall clock in ms for the staleness check (tests); default Date.now(). */
  now?: number;
  /** Runs fn while holding the per-Maildir recalculation lock (the lock manager's). */
  withRecalcLock: <T>(fn: () => Promise<T>) => Promise<T>;
}

export interface Scan extends Usage {
  /** Newest mtime of all new/ and cur/ dirs, taken before any was listed (0 if none). */
  maxMtimeMs: number;
}

const errnoIs = (err: unknown, ...codes: string[]): boolean =>
  codes.includes((err as NodeJS.ErrnoException | null)?.code ?? '');

/**
 * readQuota returns the usage of `maildir` (the TOP Maildir, never a folder),
 * rebuilding maildirsize under the recalculation lock when recalcReason() says so.
 */
export async function readQuota(maildir: string, limits: QuotaLimits, opts: ReadQuotaOptions): Promise<QuotaRead> {
  const clock = (): number => opts.now ?? Date.now();
  const first = await inspect(maildir, limits, clock());
  if (first.reason === undefined) return { bytes: first.bytes, count: first.count, recalculated: false };
  return opts.withRecalcLock(async () => {
    // Another delivery may have rebuilt it while we waited for the lock: don't scan twice.
    const again = await inspect(maildir, limits, clock());
    if (again.reason === undefined) return { bytes: again.bytes, count: again.count, recalculated: false };
    const usage = await recalculate(maildir, limits);
    return { ...usage, recalculated: true, reason: first.reason };
  });
}

/** inspect reads maildirsize and judges it; usage is only meaningful when reason is undefined. */
async function inspect(maildir: string, limits: QuotaLimits, nowMs: number): Promise<Usage & { reason?: string }> {
  const file = await readHead(join(maildir, FILE));
  const parsed = file?.parsed;
  const reason = recalcReason(parsed, { fileSize: file?.size ?? 0, mtimeMs: file?.mtimeMs ?? 0, nowMs, limits });
  // recalcReason never trusts a missing or corrupt file; the second test only narrows the type.
  if (reason !== undefined || parsed === undefined || 'corrupt' in parsed) return { bytes: 0, count: 0, reason: reason ?? 'unusable' };
  return { bytes: parsed.bytes, count: parsed.count };
}

/** readHead reads at most 5120 bytes of the file; undefined when it does not exist. */
async function readHead(path: string): Promise<{ parsed: MaildirsizeParse; size: number; mtimeMs: number } | undefined> {
  let fd: number;
  try {
    fd = await open(path, C.O_RDONLY | C.O_NOFOLLOW);
  } catch (err) {
    if (errnoIs(err, 'ENOENT')) return undefined;
    // A symlink is never followed; rebuilding renames a real file over it.
    if (errnoIs(err, 'ELOOP')) return { parsed: { corrupt: 'maildirsize is a symlink' }, size: 0, mtimeMs: 0 };
    throw err;
  }
  return withFd(fd, async () => {
    const st = await fstat(fd);
    const buf = Buffer.alloc(MAILDIRSIZE_READ_LIMIT);
    let got = 0;
    while (got < buf.length) {
      const n = await read(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return { parsed: parseMaildirsize(buf.subarray(0, got)), size: Math.max(st.size, got), mtimeMs: st.mtimeMs };
  });
}

/**
 * recalculate rebuilds maildirsize from the folders. The caller holds the
 * recalculation lock. If a new/ or cur/ changed while we counted (a delivery or
 * an IMAP expunge raced us), count once more and keep that result: the quota
 * is approximate by design (Courier docheckquota, Dovecot maildirsize_recalculate).
 */
export async function recalculate(maildir: string, limits: QuotaLimits): Promise<Usage> {
  let scan = await scanMaildir(maildir);
  await writeMaildirsize(maildir, formatMaildirsize(limits, scan.bytes, scan.count));
  if ((await newestDirMtime(maildir)) > scan.maxMtimeMs) {
    scan = await scanMaildir(maildir);
    await writeMaildirsize(maildir, formatMaildirsize(limits, scan.bytes, scan.count));
  }
  return { bytes: scan.bytes, count: scan.count };
}

/**
 * appendDelivery records one delivered message: `<size> 1` with O_APPEND and no
 * lock (Maildir++; Dovecot quota-maildir.c does the same). A missing file is left
 * missing: the next reader recalculates. Call it only after the message is in
 * new/; a throw here must be logged, never turned into a failed delivery.
 */
export async function appendDelivery(maildir: string, size: number): Promise<void> {
  let fd: number;
  try {
    fd = await open(join(maildir, FILE), C.O_WRONLY | C.O_APPEND | C.O_NOFOLLOW);
  } catch (err) {
    // Missing, or a symlink the next reader replaces: either way it gets recalculated.
    if (errnoIs(err, 'ENOENT', 'ELOOP')) return;
    throw err;
  }
  await withFd(fd, async () => {
    const line = Buffer.from(appendLine(size));
    // One write(2) of a short line to an O_APPEND file lands whole; never retry a
    // partial one (a second write could land after someone else's line).
    const n = await write(fd, line);
    if (n !== line.length) throw Object.assign(new Error(`short write to ${FILE}`), { code: 'EIO' });
  });
}

/** writeMaildirsize writes a unique file in tmp/, fsyncs it and renames it over maildirsize. */
async function writeMaildirsize(maildir: string, text: string): Promise<void> {
  // pid + counter + time make the name unique per host (no crypto: it costs startup time)
  tmpSeq += 1;
  const name = `${Math.floor(Date.now() / 1000)}.P${process.pid}Q${tmpSeq}M${Date.now() % 1000}.${escapeHost(hostname())}_maildirsize`;
  const tmp = join(maildir, 'tmp', name);
  const fd = await open(tmp, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
  try {
    await withFd(fd, async () => {
      await writeAll(fd, Buffer.from(text));
      await fsync(fd);
    });
    // rename() is atomic: readers see the old file or the whole new one, never a part.
    await rename(tmp, join(maildir, FILE));
  } catch (err) {
    await unlink(tmp).catch(() => undefined); // best effort; readers purge tmp/ after 36 h anyway
    throw err;
  }
}
let tmpSeq = 0;

/**
 * scanMaildir counts the messages in new/ and cur/ of the top Maildir and every
 * Maildir++ folder except .Trash. Sizes come from `,S=` in the name; other files
 * are lstat()ed (a file gone meanwhile was moved or expunged: skipped). Used by
 * recalculate() and `mda quota report`.
 */
export async function scanMaildir(maildir: string): Promise<Scan> {
  const dirs = await messageDirs(maildir);
  // All mtimes before any listing: a change after this point is caught by recalculate().
  const mtimes = await Promise.all(dirs.map(mtimeOf));
  const maxMtimeMs = Math.max(0, ...mtimes.filter((m): m is number => m !== undefined));
  let bytes = 0;
  let count = 0;
  const toStat: string[] = [];
  for (const [i, dir] of dirs.entries()) {
    if (mtimes[i] === undefined) continue;
    let names: string[];
    try {
      names = await readdirNames(dir);
    } catch (err) {
      if (errnoIs(err, 'ENOENT', 'ENOTDIR', 'ESTALE')) continue;
      throw err;
    }
    for (const name of names) {
      if (name.startsWith('.')) continue; // never a message (maildir(5)); Courier skips these too
      const size = sizeFromName(name);
      if (size === undefined) toStat.push(join(dir, name));
      else {
        bytes += size;
        count += 1;
      }
    }
  }
  await eachLimited(toStat, STAT_CONCURRENCY, async (path) => {
    try {
      // Not `bytes += (await lstat(path)).size`: that reads `bytes` before the
      // await, and concurrent workers would overwrite each other's sums.
      const { size } = await lstat(path);
      bytes += size;
      count += 1;
    } catch (err) {
      if (!errnoIs(err, 'ENOENT', 'ESTALE')) throw err;
    }
  });
  return { bytes, count, maxMtimeMs };
}

/** newestDirMtime is the newest mtime of all new/ and cur/ dirs now (0 if none). */
async function newestDirMtime(maildir: string): Promise<number> {
  const mtimes = await Promise.all((await messageDirs(maildir)).map(mtimeOf));
  return Math.max(0, ...mtimes.filter((m): m is number => m !== undefined));
}

async function mtimeOf(dir: string): Promise<number | undefined> {
  try {
    return (await stat(dir)).mtimeMs;
  } catch (err) {
    if (errnoIs(err, 'ENOENT', 'ENOTDIR', 'ESTALE')) return undefined;
    throw err;
  }
}

/** messageDirs lists new/ and cur/ of the Maildir and of each `.Folder` directory (not .Trash, not symlinks). */
async function messageDirs(maildir: string): Promise<string[]> {
  const roots = [maildir];
  for (const d of await readdir(maildir)) {
    if (!d.name.startsWith('.') || d.name === '.' || d.name === '..' || d.name === TRASH) continue;
    if (await isFolderDir(maildir, d)) roots.push(join(maildir, d.name));
  }
  return roots.flatMap((r) => [join(r, 'new'), join(r, 'cur')]);
}

/** isFolderDir: a real directory; symlinked folders are skipped as Courier does (DT_LNK). */
async function isFolderDir(maildir: string, d: Dirent): Promise<boolean> {
  if (d.isDirectory()) return true;
  if (d.isSymbolicLink() || d.isFile() || d.isFIFO() || d.isSocket() || d.isBlockDevice() || d.isCharacterDevice()) return false;
  // DT_UNKNOWN (some filesystems): ask.
  try {
    return (await lstat(join(maildir, d.name))).isDirectory();
  } catch (err) {
    if (errnoIs(err, 'ENOENT', 'ESTALE')) return false;
    throw err;
  }
}

/** eachLimited runs fn over items with at most `limit` calls in flight. */
async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
