/**
 * Reads the scripts a delivery's scripts include (RFC 6609), before evaluation, so the evaluator
 * stays pure: every constant `include` name reachable from the loaded scripts, breadth first,
 * bounded like the evaluator (MAX_INCLUDE_DEPTH levels, MAX_INCLUDES scripts). `:personal` names
 * are NAME.sieve in [sieve] dir: the user's own files, opened like the user's script (user-file.ts:
 * bounded size, O_NONBLOCK, regular files only; a symlink the user made is followed, as for the
 * main script, since mda runs as that user) and compile-cached like it, one cache file per
 * script. `:global` names are NAME.sieve in [sieve] global_dir: admin files, held to the rules of
 * [sieve] before/after (root's alone when mda was started as root), never cached in a directory
 * the user can write. A missing or broken script is recorded, not thrown: whether it matters is
 * decided when (and if) its include runs (RFC 6609 §3.2).
 * Must not: evaluate, or decide what an error means for the message.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Deadline } from '../deadline/deadline.js';
import type { Logger } from '../log/logger.js';
import { formatSieveError, type CommandNode, type Script } from '../sieve/ast.js';
import { compileSieve } from '../sieve/compile.js';
import { MAX_INCLUDE_DEPTH, MAX_INCLUDES, type IncludeLocation, type IncludeLookup, type IncludeSource } from '../sieve/evaluate-include.js';
import { scriptNameProblem } from '../sieve/validate-include.js';
import { readScript, writeCache } from './sieve-load.js';

export interface IncludeDirs {
  /** [sieve] dir with ~ and %u resolved; undefined = no personal scripts. */
  personal: string | undefined;
  /** [sieve] global_dir; undefined = no global scripts. */
  global: string | undefined;
  maxScriptSize: number;
  /** Global scripts must be root's alone (mda was started as root). */
  globalRootOnly: boolean;
  /** Where personal scripts' compiled forms are cached; undefined = no cache. */
  cacheDir?: string;
}

export interface LoadedIncludes {
  source: IncludeSource;
  /** Every included script that compiled: what the stage must prepare for (size, body, ...). */
  scripts: Script[];
  /** The cache files of the personal scripts, for the stage to delete if evaluation breaks. */
  cacheFiles: string[];
}

/** loadIncludes: the included scripts of `scripts`, or undefined when none of them includes anything. */
export async function loadIncludes(scripts: readonly Script[], dirs: IncludeDirs, logger?: Logger, deadline?: Deadline): Promise<LoadedIncludes | undefined> {
  let wanted = scripts.flatMap(includesOf);
  if (wanted.length === 0) return undefined;
  const found = new Map<string, IncludeLookup>();
  const cacheFiles: string[] = [];
  for (let depth = 1; depth <= MAX_INCLUDE_DEPTH && wanted.length > 0; depth++) {
    const next: Array<[IncludeLocation, string]> = [];
    for (const [location, name] of wanted) {
      const key = `${location}:${name}`;
      if (found.has(key)) continue;
      if (found.size >= MAX_INCLUDES) {
        found.set(key, { kind: 'error', message: `not read: more than ${MAX_INCLUDES} scripts included` });
        continue;
      }
      const got = await readInclude(location, name, dirs, cacheFiles, logger, deadline);
      found.set(key, got);
      if (got.kind === 'script') next.push(...includesOf(got.script));
    }
    wanted = next;
  }
  const source: IncludeSource = (location, name) => found.get(`${location}:${name}`) ?? { kind: 'missing' };
  const loaded = [...found.values()].flatMap((f) => (f.kind === 'script' ? [f.script] : []));
  return { source, scripts: loaded, cacheFiles };
}

/** The include commands of a script, anywhere in it (names are constant: validate-include.ts). */
function includesOf(script: Script): Array<[IncludeLocation, string]> {
  const out: Array<[IncludeLocation, string]> = [];
  const todo: CommandNode[] = [...script.commands];
  for (let c = todo.pop(); c !== undefined; c = todo.pop()) {
    if (c.block) todo.push(...c.block);
    const arg = c.positional[0];
    if (c.name === 'include' && arg?.kind === 'string') out.push([Object.hasOwn(c.tags, 'global') ? 'global' : 'personal', arg.value]);
  }
  return out.reverse();
}

async function readInclude(location: IncludeLocation, name: string, dirs: IncludeDirs, cacheFiles: string[], logger?: Logger, deadline?: Deadline): Promise<IncludeLookup> {
  const dir = location === 'personal' ? dirs.personal : dirs.global;
  if (!dir) return { kind: 'missing' };
  // The validator refuses such names; a cached AST is mda's own file, but the user can edit it.
  const bad = scriptNameProblem(name);
  if (bad) return { kind: 'error', message: `invalid script name: ${bad}` };
  const path = join(dir, `${name}.sieve`);
  const personal = location === 'personal';
  // One cache file per script path (the main script's is sieve-cache.json); global scripts are never cached.
  const cacheName = personal && dirs.cacheDir ? `sieve-cache-include-${createHash('sha256').update(path).digest('hex').slice(0, 24)}.json` : undefined;
  if (cacheName) cacheFiles.push(join(dirs.cacheDir!, cacheName));
  try {
    const race = <T>(p: Promise<T>): Promise<T> => (deadline ? deadline.race(p) : p);
    const got = await race(readScript(path, dirs.maxScriptSize, cacheName ? join(dirs.cacheDir!, cacheName) : undefined, !personal && dirs.globalRootOnly));
    if (got === undefined) return { kind: 'missing' };
    if (got.script) return { kind: 'script', script: got.script };
    const compiled = compileSieve(got.text!, path, { maxScriptBytes: dirs.maxScriptSize });
    if ('errors' in compiled) return { kind: 'error', message: compiled.errors.map(formatSieveError).slice(0, 3).join('; ') };
    if (got.key && cacheName) {
      await race(writeCache(dirs.cacheDir!, compiled.script, got.key, cacheName)).catch((err: unknown) => logger?.info(`sieve: cache not written: ${(err as Error).message}`));
    }
    return { kind: 'script', script: compiled.script };
  } catch (err) {
    deadline?.throwIfAborted(); // the delivery's deadline is not a broken script
    return { kind: 'error', message: `${path}: ${(err as Error).message}` };
  }
}
