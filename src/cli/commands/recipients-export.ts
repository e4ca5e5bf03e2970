/**
 * `mda recipients export [--output FILE] [--config FILE] [--[no-]virtual-only]`:
 * every address mda accepts as `address OK` lines for postmap(1)
 * (relay_recipient_maps on a front MX, local_recipient_maps), on stdout or
 * atomically into FILE (mode 0644). Made for cron: silent with exit 0 on
 * success; otherwise one `mda recipients export: ...` line per problem on
 * stderr, a non-zero exit, and FILE left as it was (a partial map would make
 * Postfix refuse real users).
 * Owns the command's I/O only: the list is recipients/export.ts's decision.
 */
import { ConfigError, findConfigPath, loadConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { Deadline } from '../../deadline/deadline.js';
import { replaceFile } from '../../io/replace-file.js';
import { AccountListError, listAccounts } from '../../privileges/account-list.js';
import type { Account } from '../../privileges/accounts.js';
import { exportRecipients, formatPostmap } from '../../recipients/export.js';
import { recipientRules } from '../../recipients/rules.js';

export const describe = 'Print every address mda accepts as "address OK" lines for postmap (relay_recipient_maps, local_recipient_maps)';

/** sysexits(3), as `mda lmtp` uses them: any non-zero stops `&& postmap` in the cron line. */
export const EX_DATAERR = 65;
export const EX_UNAVAILABLE = 69;
export const EX_CANTCREAT = 73;
export const EX_CONFIG = 78;

/** `getent passwd` against a slow LDAP server: generous, but a cron job must end. */
const LIST_ACCOUNTS_MS = 120_000;
/** The map is read by postmap (root) and, on some setups, by the postfix user: not secret, as passwd is not. */
const MAP_MODE = 0o644;

export interface RecipientsExportArgs {
  output?: string;
  config?: string;
  /** undefined: from the config (`[lmtp] user` set = virtual mode, as the resolver has it). */
  virtualOnly?: boolean;
}

export interface RecipientsExportIo {
  out: { write(s: string, cb?: (err?: Error | null) => void): unknown };
  err: { write(s: string): unknown };
  env: NodeJS.ProcessEnv;
  /** The account enumeration (tests give a fixed list). */
  listAccounts(signal: AbortSignal): Promise<Account[]>;
}

const processIo = (): RecipientsExportIo => ({ out: process.stdout, err: process.stderr, env: process.env, listAccounts });

/** virtualMode: the flag if given, else what the LMTP server does with this config. */
export const virtualMode = (config: Config, flag: boolean | undefined): boolean => flag ?? config.lmtp.user !== '';

export async function recipientsExport(args: RecipientsExportArgs, io: RecipientsExportIo = processIo()): Promise<number> {
  const fail = (code: number, msg: string): number => {
    for (const line of msg.split('\n')) io.err.write(`mda recipients export: ${line}\n`);
    return code;
  };
  if (args.output === '') return fail(EX_CANTCREAT, '--output needs a file name');
  let config: Config;
  try {
    // Run as root, this refuses a config that anyone but root can change (config/load.ts).
    config = loadConfig(findConfigPath(args.config, io.env));
  } catch (err) {
    if (err instanceof ConfigError) return fail(EX_CONFIG, err.message);
    throw err;
  }
  const rules = recipientRules(config, { virtualOnly: virtualMode(config, args.virtualOnly) });

  let accounts: Account[] = [];
  if (!rules.virtualOnly) {
    const deadline = Deadline.start(LIST_ACCOUNTS_MS, { graceMs: 0, onHardStop: () => undefined });
    try {
      accounts = await io.listAccounts(deadline.signal);
    } catch (err) {
      if (err instanceof AccountListError) return fail(EX_UNAVAILABLE, err.message);
      throw err;
    } finally {
      deadline.dispose();
    }
  }

  const { addresses, problems } = exportRecipients(rules, accounts);
  if (problems.length > 0) return fail(EX_DATAERR, problems.join('\n'));
  // An empty map makes Postfix refuse every recipient: a config or NSS mistake, never a result to install.
  if (addresses.length === 0) return fail(EX_DATAERR, `no recipients to export (no [users] entries${rules.virtualOnly ? ', and virtual mode leaves out the system accounts' : ' and no system accounts with uid 1000-65533'}): nothing written`);
  const text = formatPostmap(addresses);

  if (args.output === undefined) {
    const written = await new Promise<Error | null | undefined>((resolve) => io.out.write(text, resolve));
    return written ? fail(EX_CANTCREAT, `cannot write to stdout: ${written.message}`) : 0;
  }
  try {
    await replaceFile(args.output, Buffer.from(text, 'utf8'), MAP_MODE);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return fail(EX_CANTCREAT, `cannot write ${args.output}: ${e.code ?? e.message}${e.code === 'EISDIR' ? ' (it is a directory)' : ''}`);
  }
  return 0;
}
