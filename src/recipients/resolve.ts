/**
 * Who an envelope recipient is, at RCPT time, for every front end that must
 * answer before the message exists (`mda lmtp`, later `mda policy`): a user
 * with their Maildir and uid, unknown (550 5.1.1), or "cannot tell now"
 * (451 4.3.0). Order: `[users."addr"]` by full address (with, then without the
 * extension); then, for a local domain, `[users.NAME]` by the local part before
 * the delimiter; then the system accounts (not in virtual mode). The Maildir
 * and uid come from pipeline/recipient.ts's planRecipient, the same decision
 * `mda deliver` makes, so the copy lands where the RCPT check looked.
 * matchAddress and decideRecipient are pure; resolveAddress adds the account
 * lookup. Must not: read the message, a Maildir or any directory.
 */
import { reject, temp, type Outcome } from '../outcome/outcome.js';
import type { Account, AccountLookup } from '../privileges/accounts.js';
import { findAccount, runningAccount } from '../privileges/accounts.js';
import { planRecipient, type MboxPlace } from '../pipeline/recipient.js';
import { parseRecipientAddress, type RecipientAddress } from './address.js';
import type { RecipientRules } from './rules.js';

export type RcptResolution =
  | {
      kind: 'user';
      /** The `[users]` key as written, or the system account's name: what `mda deliver --user` takes. */
      user: string;
      /** After the delimiter, case kept; '' when none. */
      extension: string;
      matchedBy: 'address' | 'users' | 'account';
      /** The uid the copy is written as (and that must own the Maildir). */
      uid: number;
      /** The account a root server delivers as (per-uid worker); undefined: the server's own uid. */
      switchTo: Account | undefined;
      home: string;
      maildir: string;
      /** Set when the inbox is an mbox (pipeline/recipient.ts). */
      mbox?: MboxPlace;
    }
  | { kind: 'unknown'; why: string }
  | { kind: 'temp'; why: string };

/** A refusal as an Outcome (toLmtpReply's input): unknown → reject unknown-user (5.1.1), temp → temp system (4.3.0). */
export type RcptRefusalOutcome = Extract<Outcome, { kind: 'temp' | 'reject' }>;

export function refusalOutcome(r: Exclude<RcptResolution, { kind: 'user' }>): RcptRefusalOutcome {
  return (r.kind === 'unknown' ? reject('unknown-user', r.why) : temp('system', r.why)) as RcptRefusalOutcome;
}

/** What a lookup needs beyond the address: whose rights deliveries run with, and the account database. */
export interface AccountSource {
  /** The account deliveries run as: the server's own, or `[lmtp] user`'s in virtual mode. */
  running: Account;
  find(name: string): Promise<AccountLookup>;
}

/** The first step: which name to look up, decided from the address and the config alone. */
export type AddressMatch =
  | { kind: 'entry'; key: string; by: 'address' | 'users'; addr: RecipientAddress }
  | { kind: 'account'; name: string; addr: RecipientAddress }
  | { kind: 'unknown'; why: string };

/**
 * matchAddress picks the lookup. `postmaster` gets no special case (RFC 5321
 * §4.5.1 requires accepting it): the LMTP server sits behind Postfix, whose
 * aliases(5) and virtual(5) resolve postmaster before mail gets here; an
 * unresolved one is looked up like any name and may be unknown.
 */
export function matchAddress(address: string, rules: RecipientRules): AddressMatch {
  const addr = parseRecipientAddress(address, rules.delimiters);
  if (typeof addr === 'string') return { kind: 'unknown', why: addr };
  if (addr.domain !== '') {
    // A full-address entry names its domain itself, so it counts whatever [delivery] domains says.
    const full = rules.byAddress.get(`${addr.folded}@${addr.domain}`) ?? (addr.base !== addr.folded ? rules.byAddress.get(`${addr.base}@${addr.domain}`) : undefined);
    if (full !== undefined) return { kind: 'entry', key: full, by: 'address', addr };
    if (rules.domains.size > 0 && !rules.domains.has(addr.domain)) return { kind: 'unknown', why: `${addr.domain} is not a local domain` };
  }
  const named = rules.byName.get(addr.base);
  if (named !== undefined) return { kind: 'entry', key: named, by: 'users', addr };
  if (rules.virtualOnly) return { kind: 'unknown', why: `no [users] entry for ${addr.base}` };
  return { kind: 'account', name: addr.base, addr };
}

/** decideRecipient turns a match plus the account lookup (undefined: not looked up) into the answer. */
export function decideRecipient(m: Exclude<AddressMatch, { kind: 'unknown' }>, found: AccountLookup | undefined, rules: RecipientRules, running: Account): RcptResolution {
  const user = m.kind === 'entry' ? m.key : found?.kind === 'found' ? found.account.name : m.name;
  const plan = planRecipient({
    user,
    account: found?.kind === 'found' ? found.account : undefined,
    lookupFailed: found?.kind === 'uncertain' ? found.why : undefined,
    userConfig: m.kind === 'entry' ? rules.users[m.key] : undefined,
    running,
    // A server has no Postfix environment and no --maildir: exactly what deliverMessage passes.
    envHome: undefined,
    flagMaildir: undefined,
    configMaildir: rules.maildir,
    cwd: '/',
    configMbox: rules.mbox,
    configMboxFolders: rules.mboxFolders,
    stateDir: rules.stateDir,
  });
  if ('kind' in plan) {
    if (plan.kind === 'reject') return { kind: 'unknown', why: plan.detail };
    return { kind: 'temp', why: plan.kind === 'temp' ? plan.detail : plan.kind };
  }
  // Issue 11: never as root. Like Dovecot's first_valid_uid: a deferral the admin fixes with an alias, not a bounce.
  if (plan.uid === 0) return { kind: 'temp', why: `${user} is uid 0: mda does not deliver as root (alias it to a person)` };
  return {
    kind: 'user', user, extension: m.addr.extension, matchedBy: m.kind === 'entry' ? m.by : 'account',
    uid: plan.uid, switchTo: plan.switchTo, home: plan.home, maildir: plan.maildir, ...(plan.mbox && { mbox: plan.mbox }),
  };
}

/**
 * resolveAddress: matchAddress, then the account lookup where one is needed
 * (never in virtual mode), then decideRecipient. Never throws: a lookup that
 * fails or is aborted is 'temp'.
 */
export async function resolveAddress(address: string, rules: RecipientRules, accounts: AccountSource): Promise<RcptResolution> {
  const m = matchAddress(address, rules);
  if (m.kind === 'unknown') return m;
  let found: AccountLookup | undefined;
  if (!rules.virtualOnly) {
    try {
      found = await accounts.find(m.kind === 'entry' ? m.key : m.name);
    } catch (err) {
      return { kind: 'temp', why: `account lookup failed: ${(err as Error).message ?? String(err)}` };
    }
  }
  return decideRecipient(m, found, rules, accounts.running);
}

/** systemAccounts: the passwd/NSS lookup of src/privileges/accounts.ts, bounded by `signal`. */
export function systemAccounts(signal: AbortSignal, running: Account = runningAccount()): AccountSource {
  return { running, find: (name) => findAccount(name, signal) };
}
