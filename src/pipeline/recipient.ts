/**
 * Decides who a delivery is for and where it goes: the user name, the account
 * to switch to when running as root, and the Maildir path. planRecipient is the
 * pure decision (table-tested); resolveRecipient adds the account lookup. Only a
 * definite "no such user" is rejected (5.1.1); an uncertain lookup defers.
 * Must not: switch privileges or touch the Maildir.
 */
import { isAbsolute, join, resolve } from 'node:path';
import type { Config, UserConfig } from '../config/schema.js';
import { reject, temp, type Outcome } from '../outcome/outcome.js';
import { findAccount, runningAccount, type Account } from '../privileges/accounts.js';

export interface Recipient {
  user: string;
  /** Account to become before touching any path (only when running as root). */
  switchTo: Account | undefined;
  /** The uid that will own the Maildir. */
  uid: number;
  home: string;
  maildir: string;
}

export interface RecipientInput {
  user: string;
  account: Account | undefined;
  /** Set when the lookup could not tell "no such user" from "lookup failed" (account is then undefined). */
  lookupFailed?: string;
  userConfig: UserConfig | undefined;
  running: Account;
  envHome: string | undefined;
  flagMaildir: string | undefined;
  configMaildir: string;
  cwd: string;
}

/** expandMaildir: `~` = home, `%u` = user; a relative config path is under home. */
export function expandMaildir(template: string, user: string, home: string, base: string): string {
  let p = template.replace(/%u/g, user);
  if (p === '~') p = home;
  else if (p.startsWith('~/')) p = join(home, p.slice(2));
  return resolve(base, p); // absolute stays absolute; also normalizes '//' and a trailing '/'
}

export function planRecipient(i: RecipientInput): Recipient | Outcome {
  const { user, account, userConfig, running } = i;
  // Bounce only on a definite "no such user". As root the account is needed to switch to;
  // as another uid, a [users.NAME] entry declares a virtual user and needs none.
  if (!account && i.lookupFailed !== undefined && (!userConfig || running.uid === 0)) {
    return temp('system', `cannot tell whether user ${user} exists: ${i.lookupFailed}`);
  }
  if (!account && !userConfig) return reject('unknown-user', `no such user: ${user}`);
  let switchTo: Account | undefined;
  let home: string;
  if (running.uid === 0) {
    if (!account) {
      return temp('config', `user ${user} has no system account; run mda as the mailbox owner, not as root`);
    }
    switchTo = account.uid === 0 ? undefined : account;
    home = account.home;
  } else {
    if (account && account.uid !== running.uid && !userConfig) {
      return temp('system', `cannot deliver for ${user} (uid ${account.uid}) while running as uid ${running.uid}`);
    }
    home = i.envHome || (account?.uid === running.uid ? account.home : running.home);
  }
  const uid = switchTo?.uid ?? running.uid;
  const maildir = i.flagMaildir !== undefined
    ? expandMaildir(i.flagMaildir, user, home, i.cwd)
    : expandMaildir(userConfig?.maildir ?? i.configMaildir, user, home, home);
  return { user, switchTo, uid, home, maildir };
}

export async function resolveRecipient(
  flags: { user?: string; maildir?: string },
  config: Config,
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
): Promise<Recipient | Outcome> {
  const running = runningAccount();
  const user = flags.user ?? env.USER ?? running.name;
  const userConfig = Object.hasOwn(config.users, user) ? config.users[user] : undefined;
  const found = await findAccount(user, signal);
  return planRecipient({
    user,
    account: found.kind === 'found' ? found.account : undefined,
    lookupFailed: found.kind === 'uncertain' ? found.why : undefined,
    userConfig,
    running,
    envHome: env.HOME,
    flagMaildir: flags.maildir,
    configMaildir: config.delivery.maildir,
    // Postfix's cwd is its queue directory; ask for it only when a relative --maildir needs it
    cwd: flags.maildir && !isAbsolute(flags.maildir) && !flags.maildir.startsWith('~') ? process.cwd() : '/',
  });
}
