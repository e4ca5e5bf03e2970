/**
 * `mda config show [--config FILE] [--defaults|--changed]`: the effective settings as
 * mda.toml text, like `postconf -n` / `doveconf -n`. The text is a config file that
 * `mda config check` accepts and that reads back to the same settings. For people:
 * exits 1 on a bad config (as config check). Must not: deliver, log mail, or write the
 * compiled copy (config check's job).
 */
import { formatConfig } from '../../config/format-toml.js';
import { ConfigError, findConfigPath, loadConfig } from '../../config/load.js';
import { defaultConfig } from '../../config/schema.js';

export const describe = 'Print the effective settings as TOML (same lookup as deliver); --changed: only those not at their defaults';

export interface ConfigShowArgs {
  config?: string;
  /** Only the embedded defaults (no file is read). */
  defaults?: boolean;
  /** Only the settings that differ from the embedded defaults. */
  changed?: boolean;
}

export interface ConfigShowIo {
  out: { write(s: string): unknown };
  err: { write(s: string): unknown };
  env: NodeJS.ProcessEnv;
}

const processIo = (): ConfigShowIo => ({ out: process.stdout, err: process.stderr, env: process.env });

/** configShow prints the settings and returns 0, or lists the config's problems and returns 1. */
export async function configShow(args: ConfigShowArgs, io: ConfigShowIo = processIo()): Promise<number> {
  if (args.defaults) {
    io.out.write(formatConfig(defaultConfig()));
    return 0;
  }
  try {
    const config = loadConfig(findConfigPath(args.config, io.env));
    io.out.write(formatConfig(config, args.changed ? 'changed' : 'all'));
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.err.write(`${err.message}\n`);
    return 1;
  }
}
