/**
 * The recipient rules a server compiles once per config (load and SIGHUP
 * reload): the delimiter, the local domains and an index of `[users]` keys by
 * their folded form, so a lookup per RCPT is a few Map reads whatever the
 * number of users (an unknown-user flood must not scan the table).
 * Owns how a [users] key is matched; resolve.ts decides what a match means.
 * Pure: no I/O.
 */
import type { Config, UserConfig } from '../config/schema.js';
import { foldLocal, normalizeDomain } from './address.js';

export interface RecipientRules {
  delimiters: string;
  /** Normalized local domains; empty = every domain is local. */
  domains: ReadonlySet<string>;
  /** Folded `local@domain` of each `[users."addr"]` key → the key as written. */
  byAddress: ReadonlyMap<string, string>;
  /** Folded name of each `[users.NAME]` key (no "@") → the key as written. */
  byName: ReadonlyMap<string, string>;
  users: Readonly<Record<string, UserConfig>>;
  /** `[delivery] maildir`, for entries without their own. */
  maildir: string;
  /** `[delivery] mbox` and `mbox_folders` ('' = none), `[sieve] state_dir` (the mbox spool's parent). */
  mbox: string;
  mboxFolders: string;
  stateDir: string;
  /** `[lmtp] user` is set: only [users] entries are recipients, system accounts are never looked up. */
  virtualOnly: boolean;
}

/**
 * recipientRules compiles the lookup tables. Two keys that fold to the same
 * name ("Alice" and "alice"): the first in the file wins, as in a Postfix
 * lookup table where only one entry can match.
 */
export function recipientRules(config: Config, opts: { virtualOnly: boolean }): RecipientRules {
  const byAddress = new Map<string, string>();
  const byName = new Map<string, string>();
  for (const key of Object.keys(config.users)) {
    const at = key.lastIndexOf('@');
    if (at < 0) {
      const k = foldLocal(key);
      if (!byName.has(k)) byName.set(k, key);
      continue;
    }
    const domain = normalizeDomain(key.slice(at + 1));
    if (at === 0 || domain === undefined || domain === '') continue; // "@x" or "a@": no address can name it
    const k = `${foldLocal(key.slice(0, at))}@${domain}`;
    if (!byAddress.has(k)) byAddress.set(k, key);
  }
  return {
    delimiters: config.recipients.delimiter,
    domains: new Set(config.recipients.domains),
    byAddress,
    byName,
    users: config.users,
    maildir: config.delivery.maildir,
    mbox: config.delivery.mbox,
    mboxFolders: config.delivery.mboxFolders,
    stateDir: config.sieve.stateDir,
    virtualOnly: opts.virtualOnly,
  };
}
