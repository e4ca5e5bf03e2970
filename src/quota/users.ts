/**
 * Which Maildirs the `mda quota` commands look at (config `[users.*]`,
 * `--maildir-glob`, `--user`), and handing each one's work (usage: read-only;
 * rebuild: under the quota-recalc lock; maildir-job.ts) to a worker process
 * running as its owner when root runs the command (owner.ts, maildir-worker.ts).
 * Must not: touch a Maildir's contents itself, format or decide exit codes (report.ts).
 */
import { stat } from 'node:fs/promises';
import type { Config } from '../config/schema.js';
import type { Deadline } from '../deadline/deadline.js';
import { expandMaildir } from '../pipeline/recipient.js';
import { lookupAccount } from '../privileges/accounts.js';
import { expandGlob, parseGlob } from './glob.js';
import { quotaFor } from './limits.js';
import type { MailboxResult, MaildirJob } from './maildir-job.js';
import type { Owner, WorkerPool } from './maildir-worker.js';
import type { QuotaLimits } from './maildirsize.js';
import { ownerOf } from './owner.js';

export type { MailboxResult };

export interface Target {
  user: string;
  maildir: string;
  /** Whose quota applies: the user (config or account), or undefined = the global [quota] (glob-only). */
  quotaUser: string | undefined;
  /** The user's system account (config users as root, --user): whose uid the work runs as. */
  account?: Owner;
}

export interface Selection {
  /** Sorted by user, then Maildir; each Maildir at most once. */
  targets: Target[];
  /** One line each: unknown users, globs without a match, unreadable directories. */
  errors: string[];
}

export interface SelectFlags {
  users?: readonly string[];
  globs?: readonly string[];
}

/** Maildirs (and account lookups) handled at once: enough to overlap I/O, few enough for any fd limit. */
export const CONCURRENCY = 16;

/** selectTargets lists the Maildirs to visit: config users, then glob matches, then --user accounts. */
export async function selectTargets(config: Config, flags: SelectFlags, deadline: Deadline, cwd: string): Promise<Selection> {
  const only = flags.users && flags.users.length > 0 ? new Set(flags.users) : undefined;
  const wanted = (user: string): boolean => !only || only.has(user);
  const errors: string[] = [];
  const byMaildir = new Map<string, Target>();
  const add = (t: Target): void => {
    if (!byMaildir.has(t.maildir)) byMaildir.set(t.maildir, t);
  };

  const configured = Object.keys(config.users).filter(wanted);
  const fromConfig = await mapLimited(configured, CONCURRENCY, deadline.signal, async (user) => {
    const template = config.users[user]?.maildir ?? config.delivery.maildir;
    // Only `~` (or a relative path) needs the home directory, and so an account; root also needs
    // it to work as the user (deliveries as root switch to it); a virtual user has none: the Maildir's owner.
    if (template.startsWith('/') && !isRoot()) return { user, maildir: expandMaildir(template, user, '/', '/'), quotaUser: user };
    const account = await lookupAccount(user, deadline.signal).catch((err: unknown) => firstLine(err));
    if (typeof account === 'string') return `${user}: cannot look up the account: ${account}`;
    if (template.startsWith('/')) return { user, maildir: expandMaildir(template, user, '/', '/'), quotaUser: user, account: idsOf(account) };
    if (!account) return `${user}: no system account, so the home directory in maildir "${template}" is unknown`;
    return { user, maildir: expandMaildir(template, user, account.home, account.home), quotaUser: user, account: idsOf(account) };
  });
  for (const r of fromConfig) {
    if (typeof r === 'string') errors.push(r);
    else if (r) add(r);
  }

  const globbed = new Set<string>();
  for (const pattern of flags.globs ?? []) {
    const g = await expandGlob(pattern, cwd);
    errors.push(...g.errors);
    // No Maildir under an existing mail root is a server with no users yet: an empty report, which
    // cron must not mail. A missing root is likelier a typo in the crontab: worth a line.
    if (g.matches.length === 0 && g.errors.length === 0 && !(await isDirectory(parseGlob(pattern, cwd).base))) {
      errors.push(`--maildir-glob ${pattern} matched no directory (${parseGlob(pattern, cwd).base} does not exist)`);
    }
    for (const m of g.matches) {
      globbed.add(m.user);
      if (wanted(m.user)) add({ user: m.user, maildir: m.path, quotaUser: undefined });
    }
  }

  // A named user with neither a [users.NAME] entry nor a glob match: the system account's Maildir.
  const rest = [...(only ?? [])].filter((u) => !Object.hasOwn(config.users, u) && !globbed.has(u));
  const fromAccounts = await mapLimited(rest, CONCURRENCY, deadline.signal, async (user) => {
    const account = await lookupAccount(user, deadline.signal).catch((err: unknown) => firstLine(err));
    if (typeof account === 'string') return `${user}: cannot look up the account: ${account}`;
    if (!account) return `${user}: no such user (no [users.${user}] in ${config.source}, no system account, no --maildir-glob match)`;
    return { user, maildir: expandMaildir(config.delivery.maildir, user, account.home, account.home), quotaUser: user, account: idsOf(account) };
  });
  for (const r of fromAccounts) {
    if (typeof r === 'string') errors.push(r);
    else if (r) add(r);
  }

  const targets = [...byMaildir.values()].sort((a, b) => cmp(a.user, b.user) || cmp(a.maildir, b.maildir));
  return { targets, errors };
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export const limitsFor = (config: Config, t: Target): QuotaLimits => quotaFor(config, t.quotaUser).limits;

const idsOf = (a: Owner | undefined): Owner | undefined => (a ? { uid: a.uid, gid: a.gid } : undefined);
const isRoot = (): boolean => process.geteuid?.() === 0;

export interface MailboxContext {
  config: Config;
  pool: WorkerPool;
  /** Each Maildir's time (--user-timeout): a worker still running then is ended and its user is an error line. */
  budgetMs: number;
}

/**
 * visitMaildir runs one Maildir's job ('usage' for report: writes nothing;
 * 'rebuild' for recalc) in a worker: as root, with the owner's uid and gid.
 */
export async function visitMaildir(t: Target, op: MaildirJob['op'], ctx: MailboxContext): Promise<MailboxResult> {
  let owner: Owner | undefined;
  if (isRoot()) {
    const o = await ownerOf(t.maildir, t.account);
    if (!('uid' in o)) return o;
    owner = o;
  }
  const job: MaildirJob = {
    op,
    maildir: t.maildir,
    limits: limitsFor(ctx.config, t),
    ignore: quotaFor(ctx.config, t.quotaUser).ignoreFolders,
    locks: { timeoutMs: ctx.config.locks.timeoutMs, staleMs: ctx.config.locks.staleMs },
    expectUid: owner?.uid,
    budgetMs: ctx.budgetMs,
  };
  return ctx.pool.run(job, owner, ctx.budgetMs);
}

const firstLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0]!;

/**
 * mapLimited runs fn over items with at most `limit` in flight, results in item
 * order; after the signal aborts no new item starts (its slot stays undefined).
 * onDone sees each finished index, in completion order.
 */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal,
  fn: (item: T) => Promise<R>,
  onDone?: (index: number, result: R) => void,
): Promise<(R | undefined)[]> {
  const out: (R | undefined)[] = new Array<R | undefined>(items.length).fill(undefined);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && !signal.aborted) {
      const i = next++;
      out[i] = await fn(items[i]!);
      onDone?.(i, out[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** isDirectory: false for a missing path or anything that is not a directory (symlinks followed, as the glob does). */
async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (st) => st.isDirectory(),
    () => false, // unreadable or missing: the caller reports the glob as matching nothing
  );
}
