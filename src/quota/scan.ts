/**
 * Counting a Maildir for its quota: new/ and cur/ of the top Maildir and of
 * every Maildir++ folder not in `ignore`, sizes from `,S=` or lstat(). The
 * count can stop when a signal fires (checked between batches of names) and
 * resume later from the per-directory progress it returns, so a Maildir of any
 * size converges over several deliveries.
 * Must not: write anything (store.ts and scan-state.ts do) or take locks.
 */
import type { Dirent } from 'node:fs';
import { join } from 'node:path';
import { lstat, readdir, readdirNames, stat } from '../io/fs-async.js';
import { sizeFromName, type Usage } from './maildirsize.js';

/** lstat()s in flight at once while scanning: enough to hide latency, few enough for any fd limit. */
const STAT_CONCURRENCY = 32;
/** Names counted between two looks at the signal: small enough to stop within a few ms of it. */
const BATCH = 512;

/** Progress for one new/ or cur/ directory, keyed in ScanState by its path relative to the Maildir. */
export interface DirSums {
  ino: number;
  /** The directory's mtime when this count of it started: unchanged = its listing is unchanged. */
  mtimeMs: number;
  bytes: number;
  count: number;
  /** Set while unfinished: the last name counted (names are counted in sorted order). */
  after?: string;
}

export type ScanState = Record<string, DirSums>;

export interface ScanOptions {
  /** Folder directory names left out (e.g. ".Trash"); `[quota] ignore_folders`. */
  ignore?: ReadonlySet<string>;
  /** Stops the count between batches; the result is then incomplete. */
  signal?: AbortSignal;
  /** Progress of an earlier, unfinished count of this Maildir: finished directories that did not change are reused. */
  state?: ScanState;
  /**
   * A symlinked new/ or cur/ is an error, never followed out of the Maildir (admin commands:
   * a user's `cur -> /home/victim/Maildir/new` must not count the victim's mail). Deliveries
   * run as the user and follow it, as Courier and Dovecot do.
   */
  refuseSymlinks?: boolean;
}

export interface Scan extends Usage {
  /** Newest mtime of all new/ and cur/ dirs, taken before any was listed (0 if none). */
  maxMtimeMs: number;
  /** False when the signal stopped the count: bytes and count are then a lower bound. */
  complete: boolean;
  /** Progress per directory, to resume an incomplete count (or to recount only what changed). */
  state: ScanState;
}

const errnoIs = (err: unknown, ...codes: string[]): boolean =>
  codes.includes((err as NodeJS.ErrnoException | null)?.code ?? '');

/**
 * scanMaildir counts the messages of `maildir` (the top Maildir). A file gone
 * meanwhile was moved or expunged: skipped. Names starting with '.' are never
 * messages (maildir(5)); Courier skips them too.
 */
export async function scanMaildir(maildir: string, opts: ScanOptions = {}): Promise<Scan> {
  const dirs = await messageDirs(maildir, opts.ignore ?? new Set());
  // All mtimes before any listing: a change after this point shows as a newer mtime.
  const stats = await Promise.all(dirs.map((d) => dirStat(maildir, d, opts.refuseSymlinks === true)));
  const maxMtimeMs = Math.max(0, ...stats.map((s) => s?.mtimeMs ?? 0));
  const prev = opts.state ?? {};
  const state: ScanState = {};
  let complete = true;
  // Every call counts at least one batch, even when the signal has already fired: that is what makes
  // repeated short budgets converge (the overrun is one readdir and one batch).
  let started = false;
  for (const [i, rel] of dirs.entries()) {
    const st = stats[i];
    if (!st) continue;
    const old = Object.hasOwn(prev, rel) ? prev[rel] : undefined;
    if (old && old.after === undefined && old.ino === st.ino && old.mtimeMs === st.mtimeMs) {
      state[rel] = old; // counted to the end, and nothing was added or removed since
      continue;
    }
    if (started && opts.signal?.aborted) {
      complete = false;
      if (old && old.ino === st.ino) state[rel] = old; // keep what was done; counted again later
      continue;
    }
    // Resume a directory's unfinished count even if it changed: the quota is approximate by design.
    const resume = old && old.after !== undefined && old.ino === st.ino ? old : undefined;
    started = true;
    const sums = await countDir(join(maildir, rel), resume ?? { ...st, bytes: 0, count: 0, after: '' }, opts.signal);
    if (sums.after !== undefined) complete = false;
    state[rel] = sums;
  }
  let bytes = 0;
  let count = 0;
  for (const s of Object.values(state)) {
    bytes += s.bytes;
    count += s.count;
  }
  return { bytes, count, maxMtimeMs, complete, state };
}

/** countDir continues `from` (after = '' for a fresh start) until the names run out or the signal fires (after one batch at least). */
async function countDir(dir: string, from: DirSums, signal: AbortSignal | undefined): Promise<DirSums> {
  let names: string[];
  try {
    names = await readdirNames(dir);
  } catch (err) {
    if (errnoIs(err, 'ENOENT', 'ENOTDIR', 'ESTALE')) return { ino: from.ino, mtimeMs: from.mtimeMs, bytes: 0, count: 0 };
    throw err;
  }
  const after = from.after ?? '';
  // Code-unit order, not localeCompare: stable across runs and locales, and fast.
  names = names.filter((n) => !n.startsWith('.') && n > after).sort();
  const sums = { ino: from.ino, mtimeMs: from.mtimeMs, bytes: from.bytes, count: from.count };
  for (let at = 0; at < names.length; at += BATCH) {
    if (at > 0 && signal?.aborted) return { ...sums, after: names[at - 1]! };
    const batch = names.slice(at, at + BATCH);
    const toStat: string[] = [];
    for (const name of batch) {
      const size = sizeFromName(name);
      if (size === undefined) toStat.push(join(dir, name));
      else {
        sums.bytes += size;
        sums.count += 1;
      }
    }
    await eachLimited(toStat, STAT_CONCURRENCY, async (path) => {
      try {
        // Not `sums.bytes += (await lstat(path)).size`: that reads the sum before
        // the await, and concurrent workers would overwrite each other's sums.
        const { size } = await lstat(path);
        sums.bytes += size;
        sums.count += 1;
      } catch (err) {
        if (!errnoIs(err, 'ENOENT', 'ESTALE')) throw err;
      }
    });
  }
  return sums;
}

/** newestDirMtime is the newest mtime of all new/ and cur/ dirs now (0 if none). */
export async function newestDirMtime(maildir: string, ignore: ReadonlySet<string> = new Set(), refuseSymlinks = false): Promise<number> {
  const stats = await Promise.all((await messageDirs(maildir, ignore)).map((d) => dirStat(maildir, d, refuseSymlinks)));
  return Math.max(0, ...stats.map((s) => s?.mtimeMs ?? 0));
}

async function dirStat(maildir: string, rel: string, refuseSymlinks: boolean): Promise<{ ino: number; mtimeMs: number } | undefined> {
  try {
    const st = await (refuseSymlinks ? lstat : stat)(join(maildir, rel));
    if (st.isSymbolicLink()) throw new Error(`${rel} is a symlink; mda quota does not follow it out of the Maildir`);
    return { ino: st.ino, mtimeMs: st.mtimeMs };
  } catch (err) {
    if (errnoIs(err, 'ENOENT', 'ENOTDIR', 'ESTALE')) return undefined;
    throw err;
  }
}

/**
 * messageDirs lists new/ and cur/ (relative) of the Maildir and of each
 * `.Folder` directory. Every folder counts unless ignored: Dovecot's default;
 * Courier leaves `.Trash` out unless built --with-trashquota. Symlinks are skipped.
 */
async function messageDirs(maildir: string, ignore: ReadonlySet<string>): Promise<string[]> {
  const roots = [''];
  for (const d of await readdir(maildir)) {
    if (!d.name.startsWith('.') || d.name === '.' || d.name === '..' || ignore.has(d.name)) continue;
    if (await isFolderDir(maildir, d)) roots.push(d.name);
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
