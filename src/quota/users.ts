/**
 * Which Maildirs the `mda quota` commands look at (config `[users.*]`,
 * `--maildir-glob`, `--user`), and the per-Maildir I/O: usage from a trusted
 * maildirsize or a read-only count (report: runs as root from cron, so it
 * writes nothing), or a rebuild via recalculate under the quota-recalc lock.
 * Must not: format or decide exit codes (report.ts), or take any lock but quota-recalc.
 */
import { constants as C } from 'node:fs';
import { lstat, open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Deadline } from '../deadline/deadline.js';
import { withLocks } from '../locks/acquire.js';
import type { LockHolder } from '../locks/holder.js';
import { lockOptions, recalcLock } from '../locks/maildir-locks.js';
import { expandMaildir } from '../pipeline/recipient.js';
import { lookupAccount } from '../privileges/accounts.js';
import { expandGlob } from './glob.js';
import { quotaFor } from './limits.js';
import { limitsInForce, recalcReason, type QuotaLimits, type Usage } from './maildirsize.js';
import { scanMaildir } from './scan.js';
import { readMaildirsize, recalculate } from './store.js';

export interface Target {
  user: string;
  maildir: string;
  /** Whose quota applies: the user (config or account), or undefined = the global [quota] (glob-only). */
  quotaUser: string | undefined;
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
    // Only `~` (or a relative path) needs the home directory, and so an account.
    if (template.startsWith('/')) return { user, maildir: expandMaildir(template, user, '/', '/'), quotaUser: user };
    const account = await lookupAccount(user, deadline.signal).catch((err: unknown) => firstLine(err));
    if (typeof account === 'string') return `${user}: cannot look up the account: ${account}`;
    if (!account) return `${user}: no system account, so the home directory in maildir "${template}" is unknown`;
    return { user, maildir: expandMaildir(template, user, account.home, account.home), quotaUser: user };
  });
  for (const r of fromConfig) {
    if (typeof r === 'string') errors.push(r);
    else if (r) add(r);
  }

  const globbed = new Set<string>();
  for (const pattern of flags.globs ?? []) {
    const g = await expandGlob(pattern, cwd);
    errors.push(...g.errors);
    if (g.matches.length === 0 && g.errors.length === 0) errors.push(`--maildir-glob ${pattern} matched no directory`);
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
    return { user, maildir: expandMaildir(config.delivery.maildir, user, account.home, account.home), quotaUser: user };
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

/** limits: the quota in force for that Maildir (mda's, else its maildirsize header: limitsInForce). */
export type MailboxResult = { usage: Usage; limits?: QuotaLimits } | { missing: true } | { error: string };

export interface MailboxContext {
  config: Config;
  deadline: Deadline;
  /** The run's record of held locks, released by its exit hook. */
  locks?: LockHolder;
}

/**
 * usageOf: the Maildir's usage from a maildirsize that can be trusted, else a
 * count of the folders. Never writes (no maildirsize, no lock, nothing in tmp/):
 * only `mda quota recalc` rewrites files.
 */
export async function usageOf(t: Target, ctx: MailboxContext): Promise<MailboxResult> {
  // No stat up front: with a fresh maildirsize (the usual case) reading it is all the I/O there is.
  return guarded(t, async () => {
    const head = await readMaildirsize(t.maildir);
    const { limits } = limitsInForce(limitsFor(ctx.config, t), head?.header?.limits);
    const reason = recalcReason(head?.parsed, { fileSize: head?.size ?? 0, mtimeMs: head?.mtimeMs ?? 0, nowMs: Date.now(), limits });
    const p = head?.parsed;
    if (reason === undefined && p && !('corrupt' in p)) return { usage: { bytes: p.bytes, count: p.count }, limits };
    const scan = await scanMaildir(t.maildir, { ignore: ignoreOf(ctx.config, t) });
    return { usage: { bytes: scan.bytes, count: scan.count }, limits };
  });
}

/**
 * rebuild recalculates maildirsize from the folders under the lock; a missing
 * Maildir is an error here. A header mda did not set (no mda quota for the
 * user) is kept verbatim: Maildir++ makes it the quota.
 */
export async function rebuild(t: Target, ctx: MailboxContext): Promise<MailboxResult> {
  const r = await guarded(t, async () =>
    underRecalcLock(t.maildir, ctx, async () => {
      const head = await readMaildirsize(t.maildir);
      const inForce = limitsInForce(limitsFor(ctx.config, t), head?.header?.limits);
      const definition = inForce.from === 'maildirsize' && head?.header ? head.header.line : inForce.limits;
      return { usage: await recalculate(t.maildir, definition, { ignore: ignoreOf(ctx.config, t) }), limits: inForce.limits };
    }),
  );
  return 'missing' in r ? { error: `Maildir ${t.maildir} does not exist` } : r;
}

const ignoreOf = (config: Config, t: Target): Set<string> => new Set(quotaFor(config, t.quotaUser).ignoreFolders);

/**
 * guarded turns any failure into an error line. Only when something failed is
 * the Maildir stat()ed, to tell "missing" (ENOENT on the Maildir itself, not
 * deeper in) and "not a directory" from real errors.
 */
async function guarded(t: Target, fn: () => Promise<MailboxResult>): Promise<MailboxResult> {
  try {
    return await fn();
  } catch (err) {
    const st = await stat(t.maildir).catch((e: unknown) => e as NodeJS.ErrnoException);
    if ('code' in st && st.code === 'ENOENT') return { missing: true };
    if ('isDirectory' in st && !st.isDirectory()) return { error: `${t.maildir} is not a directory` };
    return { error: firstLine(err) };
  }
}

const firstLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0]!;

interface Owner {
  uid: number;
  gid: number;
}

const isRoot = (): boolean => process.geteuid?.() === 0;

/**
 * underRecalcLock runs fn holding `maildirsize.lock`. As root it first checks
 * that tmp/ is a real directory of the Maildir's owner (the rebuilt file is
 * written there), and afterwards gives maildirsize to that owner: a root-owned
 * 0600 maildirsize would make every later delivery for the user fail to read it.
 */
async function underRecalcLock<T>(maildir: string, ctx: MailboxContext, fn: () => Promise<T>): Promise<T> {
  return withLocks([recalcLock(maildir)], lockOptions(ctx.config, ctx.deadline, ctx.locks), async () => {
    if (!isRoot()) return fn();
    const st = await stat(maildir);
    const owner: Owner = { uid: st.uid, gid: st.gid };
    const tmp = await lstat(join(maildir, 'tmp'));
    if (!tmp.isDirectory() || tmp.uid !== owner.uid) {
      throw new Error(`${join(maildir, 'tmp')} is not a directory owned by uid ${owner.uid}; not writing maildirsize as root`);
    }
    const result = await fn();
    await giveTo(join(maildir, 'maildirsize'), owner);
    return result;
  });
}

/**
 * giveTo chowns the maildirsize root just wrote, through a descriptor and only
 * if it is still that file: a regular file, ours, with one link, so a user who
 * swapped in a symlink or a hard link to another file gains nothing.
 */
async function giveTo(path: string, owner: Owner): Promise<void> {
  if (owner.uid === 0) return;
  const fh = await open(path, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
  try {
    const st = await fh.stat();
    if (st.isFile() && st.nlink === 1 && st.uid === 0) await fh.chown(owner.uid, owner.gid);
  } finally {
    await fh.close();
  }
}

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
