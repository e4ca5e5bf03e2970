/**
 * `mda config check`: lets an admin validate the config before Postfix uses it,
 * listing every problem with its line. For people, not for Postfix, so it
 * exits 1 on a bad config (not a sysexits code). Must not: deliver or log mail.
 */
import { compiledPath } from '../../config/compiled-cache.js';
import { ConfigError, findConfigPath, loadConfig } from '../../config/load.js';
import { EMBEDDED_SOURCE, SYSTEM_CONFIG_PATH } from '../../config/schema.js';

export const describe = 'Check the config file (same lookup as deliver) and list every problem with its line';

export interface ConfigCheckIo {
  out: { write(s: string): unknown };
  err: { write(s: string): unknown };
  env: NodeJS.ProcessEnv;
}

const processIo = (): ConfigCheckIo => ({ out: process.stdout, err: process.stderr, env: process.env });

/** configCheck returns 0 if the config deliver would use is valid, else 1. */
export async function configCheck(args: { config?: string }, io: ConfigCheckIo = processIo()): Promise<number> {
  const path = findConfigPath(args.config, io.env);
  try {
    // Checking also compiles: deliver then skips the TOML parser while the file is unchanged.
    let compiled: string | undefined;
    const config = loadConfig(path, { compile: (why) => (compiled = why === undefined ? `compiled to ${compiledPath(path!)}` : `not compiled (${why}); deliver parses the file each time`) });
    const note =
      config.source === EMBEDDED_SOURCE
        ? ` (no --config, $MDA_CONFIG or ${SYSTEM_CONFIG_PATH}; deliver will use these)`
        : compiled ? `; ${compiled}` : '';
    io.out.write(`OK: ${config.source}${note}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.err.write(`${err.message}\n`);
    return 1;
  }
}
