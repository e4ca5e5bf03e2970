/**
 * The Maildir++ `maildirsize` file on disk: read (at most 5120 bytes), append
 * one line per delivery (O_APPEND, no lock), and rebuild it from a count of
 * the folders (scan.ts). Thin: every decision is maildirsize.ts's.
 * Must not: take locks itself (the caller's withRecalcLock does) or pick outcomes.
 */
import { constants as C } from 'node:fs';
import { fsync, open, rename, unlink, withFd, write, writeAll } from '../io/fs-async.js';
import { NotRegularFileError, openUserFile, readFd } from '../io/user-file.js';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { escapeHost } from '../maildir/names.js';
import {
  appendLine,
  formatMaildirsize,
  headerDefinition,
  MAILDIRSIZE_READ_LIMIT,
  parseMaildirsize,
  recalcReason,
  type MaildirsizeParse,
  type QuotaLimits,
  type Usage,
} from './maildirsize.js';
import { newestDirMtime, scanMaildir, type Scan, type ScanOptions } from './scan.js';

export { scanMaildir, type Scan };

const FILE = 'maildirsize';

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
  /** Folder directory names not counted (`[quota] ignore_folders`). */
  ignore?: ReadonlySet<string>;
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
    const usage = await recalculate(maildir, limits, { ignore: opts.ignore });
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

export interface MaildirsizeHead {
  parsed: MaildirsizeParse;
  /** Line 1 alone, when it is a valid definition (usage lines may still be corrupt). */
  header: ReturnType<typeof headerDefinition>;
  size: number;
  mtimeMs: number;
  /** The file's owner, when it was read (the RCPT check reads only its recipient's own file). */
  uid?: number;
  /** Set when maildirsize is a FIFO, device, directory or socket (why, for an error line): not read. */
  notRegular?: string;
}

/** readMaildirsize reads at most 5120 bytes of `<maildir>/maildirsize`; undefined when it does not exist. */
export function readMaildirsize(maildir: string): Promise<MaildirsizeHead | undefined> {
  return readHead(join(maildir, FILE));
}

/** readHead reads at most 5120 bytes of the file; undefined when it does not exist. */
async function readHead(path: string): Promise<MaildirsizeHead | undefined> {
  let opened: Awaited<ReturnType<typeof openUserFile>>;
  try {
    // O_NONBLOCK, then fstat: a FIFO or device the user put there is refused, and the open did not block.
    opened = await openUserFile(path, { noFollow: true });
  } catch (err) {
    if (errnoIs(err, 'ENOENT')) return undefined;
    // A symlink is never followed; rebuilding renames a real file over it.
    if (errnoIs(err, 'ELOOP')) return { parsed: { corrupt: 'maildirsize is a symlink' }, header: undefined, size: 0, mtimeMs: 0 };
    if (err instanceof NotRegularFileError) {
      return { parsed: { corrupt: 'maildirsize is not a regular file' }, header: undefined, size: 0, mtimeMs: 0, notRegular: err.message };
    }
    throw err;
  }
  const { fd, st } = opened;
  return withFd(fd, async () => {
    const text = await readFd(fd, MAILDIRSIZE_READ_LIMIT);
    return { parsed: parseMaildirsize(text), header: headerDefinition(text), size: Math.max(st.size, text.length), mtimeMs: st.mtimeMs, uid: st.uid };
  });
}

/**
 * recalculate rebuilds maildirsize from the folders, with no time limit (`mda
 * quota recalc`; deliveries use commit-check.ts, which has one). The caller
 * holds the recalculation lock. `definition`: the limits to write, or a line
 * kept verbatim. If a new/ or cur/ changed while we counted (a delivery or an
 * IMAP expunge raced us), count what changed once more and keep that result:
 * the quota is approximate by design (Courier docheckquota, Dovecot maildirsize_recalculate).
 */
export async function recalculate(maildir: string, definition: QuotaLimits | string, opts: Pick<ScanOptions, 'ignore' | 'refuseSymlinks'> = {}): Promise<Usage> {
  let scan = await scanMaildir(maildir, opts);
  await writeMaildirsize(maildir, formatMaildirsize(definition, scan.bytes, scan.count));
  if ((await newestDirMtime(maildir, opts.ignore, opts.refuseSymlinks)) > scan.maxMtimeMs) {
    scan = await scanMaildir(maildir, { ...opts, state: scan.state });
    await writeMaildirsize(maildir, formatMaildirsize(definition, scan.bytes, scan.count));
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
export async function writeMaildirsize(maildir: string, text: string): Promise<void> {
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

