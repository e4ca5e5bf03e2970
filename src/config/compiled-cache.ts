/**
 * The compiled config: the validated Config as JSON, written next to the TOML
 * file by `mda config check` and used by deliver while it still describes the
 * same file (device, inode, size, mtime, ctime) and the same mda build. It spares
 * loading and running the TOML parser (5-9 ms) for every message Postfix hands
 * over. Trusted no more than the file it came from: a regular file with the
 * same owner, not writable by others. A missing, stale or odd cache is
 * ignored, never an error. Run as root, load.ts refuses a config that is not
 * root's alone before it looks here, so a refused file's copy is never read,
 * and the copy of root's config must itself be root's (issue 10 #3).
 * Must not: validate (validate.ts does).
 */
import { closeSync, fstatSync, openSync, readFileSync, renameSync, writeFileSync, constants as C, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { close, fstat, open } from '../io/fs-async.js';
import { readFd } from '../io/user-file.js';
import type { Config } from './schema.js';

declare const __MDA_BUILD__: string | undefined;
/** Set per build by scripts/build.mjs, so a new mda never reads an older build's shapes. */
const BUILD = typeof __MDA_BUILD__ === 'string' ? __MDA_BUILD__ : 'source';

interface Entry {
  build: string;
  stamp: string;
  config: Config;
}

/**
 * The file's identity. ctime too: an edit that keeps the size and puts the mtime back
 * (`touch -r`, `cp -p`) still moves the ctime, which no one can set (as the Sieve cache's key).
 */
const stampOf = (st: Stats): string => `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;

/** compiledPath: `/etc/mda/mda.toml` → `/etc/mda/.mda.toml.compiled.json`. */
export const compiledPath = (configPath: string): string => join(dirname(configPath), `.${basename(configPath)}.compiled.json`);

/** Only a regular file, owned like the config and not writable by others, stands in for it. */
function decodeCompiled(own: Stats, st: Stats, text: () => string): Config | undefined {
  if (!own.isFile() || own.uid !== st.uid || own.mode & 0o022) return undefined;
  const entry = JSON.parse(text()) as Entry;
  if (entry.build !== BUILD || entry.stamp !== stampOf(st) || typeof entry.config !== 'object') return undefined;
  return entry.config;
}

/** O_NONBLOCK: a FIFO planted as the cache must be refused (not a regular file), never waited on. */
const CACHE_FLAGS = C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK;

/** readCompiled returns the cached Config for the file whose stat is `st`, or undefined. */
export function readCompiled(configPath: string, st: Stats): Config | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(compiledPath(configPath), CACHE_FLAGS);
    const cacheFd = fd;
    return decodeCompiled(fstatSync(fd), st, () => readFileSync(cacheFd, 'utf8'));
  } catch {
    return undefined; // no cache (the usual case), or an unreadable one: parse the TOML
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** readCompiledAsync is readCompiled through the thread pool, for deliver (under its deadline). */
export async function readCompiledAsync(configPath: string, st: Stats): Promise<Config | undefined> {
  let fd: number | undefined;
  try {
    fd = await open(compiledPath(configPath), CACHE_FLAGS);
    const own = await fstat(fd);
    const text = own.isFile() ? (await readFd(fd, own.size)).toString('utf8') : '';
    return decodeCompiled(own, st, () => text);
  } catch {
    return undefined; // as readCompiled
  } finally {
    if (fd !== undefined) await close(fd).catch(() => undefined);
  }
}

/** writeCompiled saves the cache (atomically, mode 0644); returns why it could not, or undefined. */
export function writeCompiled(configPath: string, st: Stats, config: Config): string | undefined {
  const target = compiledPath(configPath);
  const tmp = `${target}.${process.pid}.tmp`;
  try {
    const entry: Entry = { build: BUILD, stamp: stampOf(st), config };
    writeFileSync(tmp, JSON.stringify(entry), { mode: 0o644, flag: 'wx' });
    renameSync(tmp, target);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
