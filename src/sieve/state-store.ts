/**
 * Reads and updates the per-user Sieve state files in `~/.mda/`
 * (`sieve-vacation.log`, `sieve-duplicate.log`). Updates run under the
 * 'sieve-state' lock from the lock manager and either append the changed
 * lines (O_APPEND, fsync) or replace the file by rename, so a reader never
 * sees half a rewrite, and a torn append is ignored by the parser. Thin: the
 * format, expiry, cap and when to rewrite are state-log.ts's. Must not: be
 * called while holding the commit lock.
 */
import { constants as C } from 'node:fs';
import { join } from 'node:path';
import { close, fstat, fsync, mkdir, open, rename, unlink, writeAll } from '../io/fs-async.js';
import { readUserFile } from '../io/user-file.js';
import { withLocks, type LockOptions } from '../locks/acquire.js';
import type { LockRequest } from '../locks/plan.js';
import {
  MAX_DUPLICATE_ENTRIES, MAX_STATE_BYTES, MAX_VACATION_ENTRIES, parseStateFile, planWrite, prune,
  type StateFile, type StateLimits, type StateLog,
} from './state-log.js';

export type StateKind = 'vacation' | 'duplicate';

/** The default directory of a user's mda state ([sieve] state_dir = "~/.mda"). */
export const stateDir = (home: string): string => join(home, '.mda');
const fileOf = (dir: string, kind: StateKind): string => join(dir, `sieve-${kind}.log`);
export const stateLock = (dir: string): LockRequest => ({ kind: 'sieve-state', path: join(dir, 'sieve-state.lock') });

/** The vacation log never forgets a live entry to make room; the duplicate log may. */
const LIMITS: Record<StateKind, StateLimits> = {
  vacation: { max: MAX_VACATION_ENTRIES, evict: false },
  duplicate: { max: MAX_DUPLICATE_ENTRIES, evict: true },
};

/** The update would take a state log past its cap (vacation: answering one more sender would mean forgetting one). */
export class StateFullError extends Error {
  constructor(kind: StateKind, live: number) {
    super(`the ${kind} state is full (${live} live entries, at most ${LIMITS[kind].max})`);
    this.name = 'StateFullError';
  }
}

async function readStateFile(dir: string, kind: StateKind): Promise<StateFile> {
  // Only mda writes it: O_NOFOLLOW, a FIFO planted there is refused (never waited on), and a huge file is an error.
  const text = await readUserFile(fileOf(dir, kind), { noFollow: true, max: MAX_STATE_BYTES });
  return text === undefined ? { log: new Map(), lines: 0, torn: false } : parseStateFile(text.toString('utf8'));
}

/** readStateLog reads a log without the lock (a rewrite is a rename; a torn append is skipped); missing = empty. */
export async function readStateLog(dir: string, kind: StateKind): Promise<StateLog> {
  return (await readStateFile(dir, kind)).log;
}

/**
 * updateStateLog runs `mutate` on the live entries under the lock and, if it
 * says it changed something, stores the difference (state-log.ts planWrite).
 * Throws StateFullError, writing nothing, when a vacation log would pass its cap.
 */
export async function updateStateLog<T>(
  dir: string,
  kind: StateKind,
  opts: LockOptions,
  nowSec: number,
  mutate: (log: StateLog) => { changed: boolean; value: T },
): Promise<T> {
  await mkdir(dir, 0o700, true);
  return withLocks([stateLock(dir)], opts, async () => {
    const file = await readStateFile(dir, kind);
    const before = prune(file.log, nowSec);
    const log = new Map(before);
    const { changed, value } = mutate(log);
    if (!changed) return value;
    const plan = planWrite(file, before, log, nowSec, LIMITS[kind]);
    if (plan.action === 'full') throw new StateFullError(kind, plan.live);
    if (plan.action === 'append') await appendState(fileOf(dir, kind), plan.text);
    if (plan.action === 'rewrite') await replaceState(fileOf(dir, kind), plan.text);
    return value;
  });
}

/** appendState adds lines with one O_APPEND write, then fsync: a sender remembered is remembered after a crash. */
async function appendState(target: string, text: string): Promise<void> {
  // O_NONBLOCK: a FIFO put there fails (ENXIO) or is refused below instead of blocking a thread.
  const fd = await open(target, C.O_WRONLY | C.O_APPEND | C.O_CREAT | C.O_NOFOLLOW | C.O_NONBLOCK, 0o600);
  try {
    if (!(await fstat(fd)).isFile()) throw new Error(`${target}: not a regular file`);
    await writeAll(fd, Buffer.from(text, 'utf8'));
    await fsync(fd);
  } finally {
    await close(fd).catch(() => undefined);
  }
}

async function replaceState(target: string, text: string): Promise<void> {
  const tmp = `${target}.${process.pid}.tmp`;
  await unlink(tmp).catch(() => undefined); // left by a killed process with our pid
  const fd = await open(tmp, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
  try {
    await writeAll(fd, Buffer.from(text, 'utf8'));
    await fsync(fd);
  } catch (err) {
    await close(fd).catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await close(fd);
  await rename(tmp, target).catch(async (err: unknown) => {
    await unlink(tmp).catch(() => undefined);
    throw err;
  });
}

/**
 * markFull creates `sieve-<kind>.full` (O_EXCL): true the first time, so a full
 * log is reported once rather than on every message of a flood.
 */
export async function markFull(dir: string, kind: StateKind): Promise<boolean> {
  try {
    await close(await open(join(dir, `sieve-${kind}.full`), C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** clearFullMark: the log has room again; the next time it fills is reported anew. */
export async function clearFullMark(dir: string, kind: StateKind): Promise<void> {
  await unlink(join(dir, `sieve-${kind}.full`)).catch(() => undefined);
}
