/**
 * Reads and updates the per-user Sieve state files in `~/.mda/`
 * (`sieve-vacation.log`, `sieve-duplicate.log`). Updates run under the
 * 'sieve-state' lock from the lock manager and replace the file by rename, so
 * a reader never sees half a file. Thin: the format and pruning are
 * state-log.ts's. Must not: be called while holding the commit lock.
 */
import { constants as C } from 'node:fs';
import { join } from 'node:path';
import { close, fsync, mkdir, open, rename, unlink, writeAll } from '../io/fs-async.js';
import { readUserFile } from '../io/user-file.js';
import { withLocks, type LockOptions } from '../locks/acquire.js';
import type { LockRequest } from '../locks/plan.js';
import { parseStateLog, prune, serializeStateLog, type StateLog } from './state-log.js';

export type StateKind = 'vacation' | 'duplicate';

/** The default directory of a user's mda state ([sieve] state_dir = "~/.mda"). */
export const stateDir = (home: string): string => join(home, '.mda');
const fileOf = (dir: string, kind: StateKind): string => join(dir, `sieve-${kind}.log`);
export const stateLock = (dir: string): LockRequest => ({ kind: 'sieve-state', path: join(dir, 'sieve-state.lock') });

/** readStateLog reads a log without the lock (rename makes each read a whole file); missing = empty. */
export async function readStateLog(dir: string, kind: StateKind): Promise<StateLog> {
  // Only mda writes it (tmp + rename): O_NOFOLLOW, and a FIFO planted there is refused, never waited on.
  const text = await readUserFile(fileOf(dir, kind), { noFollow: true });
  return text === undefined ? new Map() : parseStateLog(text.toString('utf8'));
}

/**
 * updateStateLog runs `mutate` on the current log under the lock, then prunes
 * and writes it back if `mutate` says it changed something.
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
    const log = await readStateLog(dir, kind);
    const { changed, value } = mutate(log);
    if (changed) await writeStateLog(dir, kind, prune(log, nowSec));
    return value;
  });
}

async function writeStateLog(dir: string, kind: StateKind, log: StateLog): Promise<void> {
  const target = fileOf(dir, kind);
  const tmp = `${target}.${process.pid}.tmp`;
  await unlink(tmp).catch(() => undefined); // left by a killed process with our pid
  const fd = await open(tmp, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
  try {
    await writeAll(fd, Buffer.from(serializeStateLog(log), 'utf8'));
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
