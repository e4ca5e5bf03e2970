/**
 * Checks, for a file already open and fstat'ed, that only root can change it
 * or the path to it (privileges/root-trust.ts has the rules). Used when mda
 * runs as root (or was started as root) before it takes orders from a config
 * or an admin Sieve script: otherwise whoever can write the file, or rename a
 * directory above it, chooses what root does. Costs a realpath(3) and one
 * lstat per directory, paid only by root's runs (Postfix runs mda as the
 * recipient, who never pays it).
 * Must not: decide what a refusal means (callers defer, or skip the script).
 */
import { lstatSync, realpathSync, type Stats } from 'node:fs';
import { ancestorDirs, dirTrustProblem, fileTrustProblem } from '../privileges/root-trust.js';
import { lstat, realpath } from './fs-async.js';

/** A file root must not read, and why. */
export class UntrustedFileError extends Error {
  readonly code = 'EUNTRUSTED';
  constructor(readonly problem: string) {
    super(`refused while running as root: ${problem} (root reads only what only root can change)`);
    this.name = 'UntrustedFileError';
  }
}

/** The realpath must still name the open file: else it moved while we looked. */
const sameFile = (a: Stats, b: Stats): boolean => a.dev === b.dev && a.ino === b.ino;
const moved = (path: string) => new UntrustedFileError(`${path} was replaced while being checked`);

/** checkRootTrusted throws UntrustedFileError unless `path` (open, fstat `st`) and the directories above it are root's alone. */
export async function checkRootTrusted(path: string, st: Stats): Promise<void> {
  const own = fileTrustProblem(path, st);
  if (own) throw new UntrustedFileError(own);
  const real = await realpath(path);
  if (!sameFile(await lstat(real), st)) throw moved(path);
  for (const dir of ancestorDirs(real)) {
    const problem = dirTrustProblem(dir, await lstat(dir));
    if (problem) throw new UntrustedFileError(problem);
  }
}

/** checkRootTrustedSync is checkRootTrusted for the synchronous admin commands (config check, quota). */
export function checkRootTrustedSync(path: string, st: Stats): void {
  const own = fileTrustProblem(path, st);
  if (own) throw new UntrustedFileError(own);
  const real = realpathSync.native(path);
  if (!sameFile(lstatSync(real), st)) throw moved(path);
  for (const dir of ancestorDirs(real)) {
    const problem = dirTrustProblem(dir, lstatSync(dir));
    if (problem) throw new UntrustedFileError(problem);
  }
}

/** runningAsRoot: the effective uid now is root's (read each time: a process may already have switched). */
export const runningAsRoot = (): boolean => process.geteuid?.() === 0;
