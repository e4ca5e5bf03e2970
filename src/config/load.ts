/**
 * Finds and reads the config file: the only config code that does I/O. Thin on
 * purpose; the rules live in validate.ts. Postfix starts mda once per message,
 * so the TOML parser is loaded only when a file is actually read.
 * Must not: decide exit codes or print anything (callers do).
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, type Stats } from 'node:fs';
import { createRequire } from 'node:module';
import { readCompiled, writeCompiled } from './compiled-cache.js';
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
  if (flag !== undefined) return flag;
  // An empty variable is how shells and Postfix's export_environment say "unset".
  if (env['MDA_CONFIG']) return env['MDA_CONFIG'];
  return existsSync(SYSTEM_CONFIG_PATH) ? SYSTEM_CONFIG_PATH : undefined;
}

/**
 * loadConfig reads, parses and validates `path`, or returns the defaults when
 * it is undefined. A fresh compiled copy (compiled-cache.ts) stands in for the
 * parse; `compile` also writes one (for `mda config check`).
 */
export function loadConfig(path: string | undefined, opts: { compile?: (why: string | undefined) => void } = {}): Config {
  if (path === undefined) return defaultConfig();
  const fileIssue = (message: string, line = 0): ConfigError =>
    new ConfigError([{ file: path, line, key: '', message }]);

  let text: string;
  let st: Stats;
  let fd: number | undefined;
  try {
    // Check and read through one descriptor, so the file checked is the file read.
    fd = openSync(path, 'r');
    st = fstatSync(fd);
    if (!st.isFile()) throw fileIssue('not a regular file');
    if (st.mode & 0o002) {
      const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
      throw fileIssue(`refusing a world-writable config file (mode ${mode}): anyone could redirect mail; chmod o-w it`);
    }
    const compiled = opts.compile ? undefined : readCompiled(path, st);
    if (compiled) return compiled;
    text = readFileSync(fd, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw fileIssue(`cannot read config file: ${(err as Error).message}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }

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
    throw fileIssue(`TOML syntax error at column ${err.column}: ${reason}`, err.line);
  }

  const result = validateConfig(raw, path, text);
  if ('errors' in result) throw new ConfigError(result.errors);
  opts.compile?.(writeCompiled(path, st, result.config));
  return result.config;
}

/** loadToml loads smol-toml on first use (its CJS build, via require) to keep startup fast. */
function loadToml(): typeof import('smol-toml') {
  return createRequire(import.meta.url)('smol-toml') as typeof import('smol-toml');
}
