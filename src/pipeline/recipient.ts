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

/** Where an mbox user's mail goes (see commit/execute-mbox-plan.ts). */
export interface MboxPlace {
  /** The inbox mbox file. */
  inbox: string;
  /** Directory of mbox files for Sieve fileinto; undefined = Maildir++ folders of folderMaildir. */
  folders: string | undefined;
  /** The user's Maildir, for fileinto when folders is undefined. */
  folderMaildir: string;
}

export interface Recipient {
  user: string;
  /** Account to become before touching any path (only when running as root). */
  switchTo: Account | undefined;
  /** The uid that will own the Maildir. */
  uid: number;
  home: string;
  /**
   * The Maildir; for an mbox user, the private Maildir-shaped area where the message is
   * spooled before its append (<[sieve] state_dir>/mbox-spool), never shown to a reader.
   */
  maildir: string;
  /** Set when the inbox is an mbox: --mbox, [users.NAME] mbox, or [delivery] mbox. */
  mbox?: MboxPlace;
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
  /** --mbox, [delivery] mbox ('' = none), [delivery] mbox_folders ('' = none), [sieve] state_dir. */
  flagMbox?: string;
  configMbox?: string;
  configMboxFolders?: string;
  stateDir?: string;
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
  const mboxTemplate = i.flagMbox ?? userConfig?.mbox ?? (i.configMbox || undefined);
  if (mboxTemplate === undefined) return { user, switchTo, uid, home, maildir };
  // A Maildir of the user's own (--maildir, [users.NAME] maildir) keeps fileinto in Maildir++ folders.
  const ownMaildir = i.flagMaildir !== undefined || userConfig?.maildir !== undefined;
  const mbox: MboxPlace = {
    inbox: expandMaildir(mboxTemplate, user, home, i.flagMbox !== undefined ? i.cwd : home),
    folders: !ownMaildir && i.configMboxFolders ? expandMaildir(i.configMboxFolders, user, home, home) : undefined,
    folderMaildir: maildir,
  };
  const spoolRoot = expandMaildir(join(i.stateDir || '~/.mda', 'mbox-spool'), user, home, home);
  return { user, switchTo, uid, home, maildir: spoolRoot, mbox };
}

export async function resolveRecipient(
  flags: { user?: string; maildir?: string; mbox?: string },
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
    // Postfix's cwd is its queue directory; ask for it only when a relative --maildir or --mbox needs it
    cwd: [flags.maildir, flags.mbox].some((p) => p && !isAbsolute(p) && !p.startsWith('~')) ? process.cwd() : '/',
    flagMbox: flags.mbox,
    configMbox: config.delivery.mbox,
    configMboxFolders: config.delivery.mboxFolders,
    stateDir: config.sieve.stateDir,
  });
}
