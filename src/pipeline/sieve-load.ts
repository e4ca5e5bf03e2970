/**
 * Reads and compiles the scripts of one delivery: [sieve] before, the user's, after. No user script =
 * no user filtering; a missing admin script is skipped; too large, unreadable or not compiling makes
 * the chain unusable (the caller delivers without Sieve). Only the user's compiled script is cached
 * (state_dir): a cache the user can write must not stand in for admin scripts. Started as root,
 * an admin script that is not root's alone (io/trusted-path.ts) is refused like an unreadable one.
 * Must not: evaluate.
 */
import { constants as C, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Deadline } from '../deadline/deadline.js';
import { close, mkdir, open, rename, stat, unlink, withFd, writeAll } from '../io/fs-async.js';
import { checkRootTrusted } from '../io/trusted-path.js';
import { openUserFile, readFd, readUserFile } from '../io/user-file.js';
import type { Logger } from '../log/logger.js';
import { formatSieveError, type Script } from '../sieve/ast.js';
import { compileSieve } from '../sieve/compile.js';
import { decodeCache, encodeCache, type CacheKey } from '../sieve/script-cache.js';

export type LoadResult =
  | { kind: 'none' }
  | { kind: 'scripts'; scripts: Script[] }
  | { kind: 'error'; errors: string[] };

export { userScriptPath } from '../sieve/script-path.js';
import { userScriptPath } from '../sieve/script-path.js';

export interface LoadOptions {
  /** Where the user's compiled script is cached; undefined = no cache. */
  cacheDir?: string;
  /**
   * Refuse an admin script (before/after) unless it and the directories above it are root's alone:
   * mda started as root, and a script others can change would run on every user's mail.
   */
  adminRootOnly?: boolean;
}

export async function loadSieveScripts(config: Config, user: string, home: string, deadline: Deadline, logger: Logger, opts: LoadOptions = {}): Promise<LoadResult> {
  const s = config.sieve;
  const userPath = userScriptPath(s.script, user, home);
  const wanted: Array<{ path: string; admin: boolean }> = [
    ...s.before.map((path) => ({ path, admin: true })),
    ...(userPath ? [{ path: userPath, admin: false }] : []),
    ...s.after.map((path) => ({ path, admin: true })),
  ];
  const scripts: Script[] = [];
  const errors: string[] = [];
  let userScript = false;
  for (const w of wanted) {
    let found: { text?: string; script?: Script; key?: CacheKey } | undefined;
    try {
      const cacheFile = !w.admin && opts.cacheDir ? join(opts.cacheDir, 'sieve-cache.json') : undefined;
      found = await deadline.race(readScript(w.path, s.maxScriptSize, cacheFile, w.admin && opts.adminRootOnly === true));
    } catch (err) {
      // The deadline (or a signal) is the delivery's, not "no script": never turn it into INBOX.
      deadline.throwIfAborted();
      errors.push(`${w.path}: ${(err as Error).message}`);
      continue;
    }
    if (found === undefined) {
      if (w.admin) logger.warn(`sieve: admin script ${w.path} does not exist: skipped`);
      continue;
    }
    if (!w.admin) userScript = true;
    if (found.script) {
      scripts.push(found.script);
      continue;
    }
    const compiled = compileSieve(found.text!, w.path, { maxScriptBytes: s.maxScriptSize });
    if ('errors' in compiled) errors.push(...compiled.errors.map(formatSieveError));
    else {
      scripts.push(compiled.script);
      if (found.key && opts.cacheDir) await deadline.race(writeCache(opts.cacheDir, compiled.script, found.key)).catch((err: unknown) => logger.info(`sieve: cache not written: ${(err as Error).message}`));
    }
  }
  if (errors.length) return { kind: 'error', errors };
  if (scripts.length === 0 || (!userScript && s.before.length + s.after.length === 0)) return { kind: 'none' };
  return { kind: 'scripts', scripts };
}

/**
 * The script's text (or, from the cache, its compiled form), or undefined
 * when it does not exist; larger than `max` bytes is an error.
 */
export async function readScript(path: string, max: number, cacheFile: string | undefined, rootOnly: boolean): Promise<{ text?: string; script?: Script; key?: CacheKey } | undefined> {
  let opened: { fd: number; st: Stats };
  try {
    // A symlink the user owns (~/.dovecot.sieve -> sieve/main.sieve, which Dovecot's ManageSieve
    // maintains for the active script) is legitimate: no O_NOFOLLOW. Following it is safe because
    // a user's paths are opened only after mda has become that user (privileges/switch-user.ts,
    // the uid workers): the link can reach nothing the user could not read anyway. Admin scripts,
    // read by root, are held to checkRootTrusted instead (the realpath and every directory above it).
    opened = await openUserFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
  const { fd, st } = opened;
  return withFd(fd, async () => {
    if (rootOnly) await checkRootTrusted(path, st);
    if (st.size > max) throw new Error(`script is too large: ${st.size} bytes ([sieve] max_script_size is ${max})`);
    const key = cacheFile ? { script: identity(st), build: await buildIdentity(), maxScriptSize: max } : undefined;
    if (cacheFile && key) {
      // Only mda writes the cache (tmp + rename): a symlink or FIFO there is planted, so it is just a miss.
      const cached = await readUserFile(cacheFile, { noFollow: true }).then((b) => b && decodeCache(b.toString('utf8'), key), () => undefined);
      if (cached && cached.source === path) return { script: cached };
    }
    return { text: (await readFd(fd, st.size)).toString('utf8'), key };
  });
}

/** A file's identity for the cache key: an edit changes size or mtime, a replacement the inode, a touch the ctime. */
const identity = (st: Stats): string => `${st.size}:${st.mtimeMs}:${st.ino}:${st.ctimeMs}`;

let build: Promise<string> | undefined;
/**
 * The running build: this code file's identity, so an upgraded mda never uses
 * an AST its predecessor's validator made. In the bundle import.meta.url is a
 * plain path (scripts/build.mjs); under tests it is a file: URL.
 */
function buildIdentity(): Promise<string> {
  const url = import.meta.url;
  const file = url.startsWith('file://') ? decodeURIComponent(url.slice('file://'.length)) : url;
  return (build ??= stat(file).then(identity, () => 'unknown'));
}

/** Writes the cache whole (tmp + rename): a reader never sees half of it. A failure only costs the next delivery a compile. */
export async function writeCache(dir: string, script: Script, key: CacheKey, name = 'sieve-cache.json'): Promise<void> {
  await mkdir(dir, 0o700, true);
  const target = join(dir, name);
  const tmp = `${target}.${process.pid}.tmp`;
  await unlink(tmp).catch(() => undefined);
  const fd = await open(tmp, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
  try {
    await writeAll(fd, Buffer.from(encodeCache(script, key), 'utf8'));
  } finally {
    await close(fd);
  }
  await rename(tmp, target).catch(async (err: unknown) => {
    await unlink(tmp).catch(() => undefined);
    throw err;
  });
}
