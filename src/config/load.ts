/**
 * Finds and reads the config file: the only config code that does I/O. Thin on
 * purpose; the rules live in validate.ts. Postfix starts mda once per message,
 * so the TOML parser is loaded only when a file is actually read.
 * Must not: decide exit codes or print anything (callers do).
 */
import { closeSync, constants as C, existsSync, fstatSync, openSync, readFileSync, type Stats } from 'node:fs';
import { createRequire } from 'node:module';
import { close, fstat, open } from '../io/fs-async.js';
import { checkRootTrusted, checkRootTrustedSync, runningAsRoot, UntrustedFileError } from '../io/trusted-path.js';
import { readFd } from '../io/user-file.js';
import { readCompiled, readCompiledAsync, writeCompiled } from './compiled-cache.js';
import { defaultConfig, SYSTEM_CONFIG_PATH, type Config } from './schema.js';
import { formatIssue, validateConfig, type ConfigIssue } from './validate.js';

/** A config that cannot be used; `message` has one `file:line: key: message` per issue. */
export class ConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
  }
}

/**
 * findConfigPath picks the config file: --config, else $MDA_CONFIG, else
 * /etc/mda/mda.toml if it exists; undefined means "use the embedded defaults".
 * An explicitly named file is never skipped: if it is missing, loading fails
 * loudly rather than quietly delivering with defaults.
 */
export function findConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  return explicitConfigPath(flag, env) ?? (existsSync(SYSTEM_CONFIG_PATH) ? SYSTEM_CONFIG_PATH : undefined);
}

/** explicitConfigPath: --config, else $MDA_CONFIG, else undefined (loadConfigAsync then tries /etc/mda/mda.toml). */
export function explicitConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (flag !== undefined) return flag;
  // An empty variable is how shells and Postfix's export_environment say "unset".
  return env['MDA_CONFIG'] || undefined;
}

/*
 * Run as root (deliver --user, the quota cron jobs, config check), a config names files root
 * appends to and scripts root's deliveries run: it must be root's alone, with every directory
 * above it (io/trusted-path.ts), or whoever can write it chooses what root writes (issue 10 #3).
 */

/**
 * loadConfig reads, parses and validates `path`, or returns the defaults when
 * it is undefined. A fresh compiled copy (compiled-cache.ts) stands in for the
 * parse; `compile` also writes one (for `mda config check`). Synchronous: for
 * admin commands; deliver uses loadConfigAsync, under its deadline.
 */
export function loadConfig(path: string | undefined, opts: { compile?: (why: string | undefined) => void } = {}): Config {
  if (path === undefined) return defaultConfig();
  let text: string;
  let st: Stats;
  let fd: number | undefined;
  try {
    // Check and read through one descriptor, so the file checked is the file read.
    fd = openSync(path, OPEN_FLAGS);
    st = fstatSync(fd);
    checkConfigFile(path, st);
    if (runningAsRoot()) checkRootTrustedSync(path, st); // before the compiled copy: a refused file's copy is refused too
    const compiled = opts.compile ? undefined : readCompiled(path, st);
    if (compiled) return compiled;
    text = readFileSync(fd, 'utf8');
  } catch (err) {
    throw asConfigError(path, err);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const config = parseConfig(path, text);
  opts.compile?.(writeCompiled(path, st, config));
  return config;
}

/**
 * loadConfigAsync is loadConfig for deliver: every call goes through the
 * thread pool (fs-async), so the one deadline and SIGTERM bound it; a
 * synchronous read of a stuck file would hold the process past both, until
 * Postfix's command_time_limit (a bounce). `path` undefined = /etc/mda/mda.toml
 * if it exists, else the defaults.
 */
export async function loadConfigAsync(path: string | undefined): Promise<Config> {
  const file = path ?? SYSTEM_CONFIG_PATH;
  let fd: number;
  try {
    fd = await open(file, OPEN_FLAGS);
  } catch (err) {
    if (path === undefined && (err as NodeJS.ErrnoException).code === 'ENOENT') return defaultConfig();
    throw asConfigError(file, err);
  }
  let text: string;
  try {
    const st = await fstat(fd);
    checkConfigFile(file, st);
    if (runningAsRoot()) await checkRootTrusted(file, st); // as in loadConfig
    const compiled = await readCompiledAsync(file, st);
    if (compiled) return compiled;
    text = (await readFd(fd, st.size)).toString('utf8');
  } catch (err) {
    throw asConfigError(file, err);
  } finally {
    await close(fd).catch(() => undefined);
  }
  return parseConfig(file, text);
}

/** O_NONBLOCK: a FIFO named as the config must be refused at once (fstat), not waited on. */
const OPEN_FLAGS = C.O_RDONLY | C.O_NONBLOCK;

const fileIssue = (path: string, message: string, line = 0): ConfigError => new ConfigError([{ file: path, line, key: '', message }]);

const asConfigError = (path: string, err: unknown): ConfigError =>
  err instanceof ConfigError ? err
  : err instanceof UntrustedFileError ? fileIssue(path, err.message)
  : fileIssue(path, `cannot read config file: ${(err as Error).message}`);

function checkConfigFile(path: string, st: Stats): void {
  if (!st.isFile()) throw fileIssue(path, 'not a regular file');
  if (st.mode & 0o002) {
    const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
    throw fileIssue(path, `refusing a world-writable config file (mode ${mode}): anyone could redirect mail; chmod o-w it`);
  }
}

/** parseConfig parses and validates the text of `path`. */
function parseConfig(path: string, text: string): Config {
  let raw: unknown;
  const toml = loadToml();
  try {
    // BigInt integers keep huge values exact, so validate.ts can name the key
    // that is too large instead of smol-toml failing with a bare syntax error.
    raw = toml.parse(text, { integersAsBigInt: true });
  } catch (err) {
    if (!(err instanceof toml.TomlError)) throw err;
    // smol-toml's message repeats the offending lines; the first line is the reason.
    const reason = err.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
    throw fileIssue(path, `TOML syntax error at column ${err.column}: ${reason}`, err.line);
  }
  const result = validateConfig(raw, path, text);
  if ('errors' in result) throw new ConfigError(result.errors);
  return result.config;
}

/** loadToml loads smol-toml on first use (its CJS build, via require) to keep startup fast. */
function loadToml(): typeof import('smol-toml') {
  return createRequire(import.meta.url)('smol-toml') as typeof import('smol-toml');
}
