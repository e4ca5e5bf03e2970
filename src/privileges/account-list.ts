/**
 * Lists every account the system's NSS sources enumerate, with `getent passwd`
 * (so LDAP, sssd and systemd-userdb accounts come with /etc/passwd's), for
 * `mda recipients export`. Only whole answers: a getent that fails, is killed,
 * or prints a line that is not passwd(5) is an error, never a shorter list
 * (a shorter map would make the MTA refuse real users with 550).
 * Must not: look up single names (accounts.ts does) or change privileges.
 */
import { createRequire } from 'node:module';
import { parsePasswdLine, type Account } from './accounts.js';

/** A listing fails with this: the caller prints it and writes nothing. */
export class AccountListError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AccountListError';
  }
}

/** 256 MiB: a million LDAP accounts at ~100 bytes a line still fit; more is not a passwd database. */
const MAX_OUTPUT = 256 * 1024 * 1024;

/** parsePasswdListing reads `getent passwd` output; throws on any malformed line (its uid is unknown). */
export function parsePasswdListing(text: string): Account[] {
  const out: Account[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '') continue;
    const a = parsePasswdLine(line);
    if (!a) throw new AccountListError(`getent passwd: line ${i + 1} is not a passwd(5) entry: ${JSON.stringify(line.slice(0, 80))}`);
    out.push(a);
  }
  return out;
}

/** listAccounts runs `getent passwd` (no key: enumerate), bounded by `signal`. */
export function listAccounts(signal: AbortSignal): Promise<Account[]> {
  // Not on deliver's path; require, not import(): bin/mda may run bundles through vm.Script
  const { execFile } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
  return new Promise((resolve, reject) => {
    execFile('getent', ['passwd'], { signal, maxBuffer: MAX_OUTPUT, encoding: 'utf8' }, (err, stdout) => {
      if (err) {
        const e = err as NodeJS.ErrnoException & { code?: unknown; killed?: boolean };
        const why =
          e.name === 'AbortError' ? '`getent passwd` took too long'
          : e.code === 'ENOENT' ? 'getent(1) is not installed'
          : typeof e.code === 'number' ? `\`getent passwd\` exited ${e.code}${e.code === 3 ? ' (enumeration not supported)' : ''}`
          : `\`getent passwd\`: ${e.message}`;
        return reject(new AccountListError(`cannot list the system accounts: ${why}`));
      }
      try {
        resolve(parsePasswdListing(stdout));
      } catch (parseErr) {
        reject(parseErr);
      }
    });
  });
}
