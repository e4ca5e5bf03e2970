/**
 * The lock files mda keeps at the top of a Maildir: the commit lock (quota
 * check → links → maildirsize append) and the maildirsize rebuild lock, whose
 * name `maildirsize.lock` is also Dovecot's dotlock for that file.
 * Pure: paths and options only; taking them is acquire.ts's.
 */
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Deadline } from '../deadline/deadline.js';
import type { LockOptions } from './acquire.js';
import type { LockHolder } from './holder.js';
import type { LockRequest } from './plan.js';

export const commitLock = (maildir: string): LockRequest => ({ kind: 'commit', path: join(maildir, 'mda-commit.lock') });
export const recalcLock = (maildir: string): LockRequest => ({ kind: 'quota-recalc', path: join(maildir, 'maildirsize.lock') });

/** lockOptions: the [locks] settings under one deadline, recorded in the session's holder. */
export function lockOptions(config: Pick<Config, 'locks'>, deadline: Deadline, holder?: LockHolder): LockOptions {
  return { timeoutMs: config.locks.timeoutMs, staleMs: config.locks.staleMs, deadline, holder };
}
