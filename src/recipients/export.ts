/**
 * `mda recipients export`'s decision: which addresses mda accepts, as
 * `address OK` lines for postmap(1). Candidates come from the `[users]` keys
 * and the system accounts in the person range; a candidate is written only when
 * the RCPT resolver (resolve.ts matchAddress, on the same RecipientRules) would
 * take it to an entry or to one of those accounts, so the map and `mda lmtp` /
 * `mda policy` cannot drift apart: a `[users."carol+x"]` that the delimiter
 * makes unreachable, or an account `Alice` the folded lookup never finds, is
 * left out here because it is unreachable there.
 * Pure: no I/O (the account list is the caller's: privileges/account-list.ts).
 */
import type { Account } from '../privileges/accounts.js';
import { foldLocal } from './address.js';
import { matchAddress } from './resolve.js';
import type { RecipientRules } from './rules.js';

/** The first uid of a person on Debian, Fedora and most distributions (adduser.conf FIRST_UID, login.defs UID_MIN). */
export const FIRST_PERSON_UID = 1000;
/** `nobody` (and everything above, e.g. 4294967294): never a mailbox owner. */
export const NOBODY_UID = 65534;

export interface RecipientExport {
  /** Unique addresses (bare names when `[delivery] domains` is empty), sorted by their UTF-8 bytes. */
  addresses: string[];
  /** Addresses mda accepts that no postmap line can hold: the caller must fail rather than write a map without them. */
  problems: string[];
}

/** personAccount: uid in [1000, 65534), the accounts admins create for people (and mail-only users). */
export const personAccount = (a: Account): boolean => a.uid >= FIRST_PERSON_UID && a.uid < NOBODY_UID;

/**
 * postmapKeyProblem: why `key` cannot be the first field of a postmap(1) source
 * line, or undefined. Whitespace ends the key, a line starting with `#` is a
 * comment, control characters are not text. postmap folds keys to lowercase
 * itself (without -f), as the resolver folds local parts: no case problem.
 */
export function postmapKeyProblem(key: string): string | undefined {
  if (key === '') return 'is empty';
  if (/[\s\x00-\x1f\x7f]/.test(key)) return 'contains a space or a control character';
  if (key.startsWith('#')) return 'starts with "#" (a comment in postmap input)';
  return undefined;
}

/** byteOrder compares as postmap and sort(1) under LC_ALL=C would: by UTF-8 bytes, not UTF-16 units. */
const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/**
 * exportRecipients lists every address the resolver accepts without asking
 * anything but `accounts` (already enumerated; ignored in virtual mode):
 * - `[users."local@domain"]`: that address (local part folded, domain an A-label);
 * - `[users.NAME]` and each person account: `name@domain` for each `[delivery]
 *   domains` entry, or the bare `name` when that list is empty (every domain is
 *   local then, which only a local-part lookup can say: local_recipient_maps).
 */
export function exportRecipients(rules: RecipientRules, accounts: readonly Account[]): RecipientExport {
  const persons = new Set(rules.virtualOnly ? [] : accounts.filter(personAccount).map((a) => a.name));
  // Stored normalized (lowercase A-labels) by config/validate-recipients.ts, as the resolver compares them.
  const domains = [...rules.domains];
  const candidates: string[] = [...rules.byAddress.keys()];
  const named = (name: string): string[] => (domains.length === 0 ? [name] : domains.map((d) => `${name}@${d}`));
  for (const name of rules.byName.keys()) candidates.push(...named(name));
  // Folded, as the resolver folds what it looks up: `Alice` is reachable only if an account `alice` exists.
  for (const name of persons) candidates.push(...named(foldLocal(name)));

  const accepted = new Set<string>();
  const problems: string[] = [];
  for (const address of candidates) {
    if (accepted.has(address)) continue;
    const m = matchAddress(address, rules);
    // The resolver's answer, with the account lookup answered by the enumerated list.
    const resolves = m.kind === 'entry' || (m.kind === 'account' && persons.has(m.name));
    if (!resolves) continue;
    const problem = postmapKeyProblem(address);
    if (problem) problems.push(`${JSON.stringify(address)} ${problem}: it cannot be a postmap key`);
    else accepted.add(address);
  }
  return { addresses: [...accepted].sort(byteOrder), problems };
}

/** formatPostmap: one `address OK` line per address, the input postmap(1) reads. */
export function formatPostmap(addresses: readonly string[]): string {
  return addresses.map((a) => `${a} OK\n`).join('');
}
