/**
 * Stores a message where a Sieve plan says: the one tmp/ spool file is fsynced and hard-linked into
 * every target (new/, or cur/ with `:2,<letters>`), each directory fsynced; quota is checked for all
 * copies under the commit lock, one maildirsize line per copy; a missing folder is created if allowed.
 * Must not: send mail, touch Sieve state (sieve-post.ts), or unlink the spool.
 */
import { constants as C } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Deadline } from '../deadline/deadline.js';
import { fsync, link, open, stat, unlink, withFd } from '../io/fs-async.js';
import type { Logger } from '../log/logger.js';
import { prepareMailbox } from '../maildir/mailbox.js';
import { newName, uniqueName } from '../maildir/names.js';
import { ensureMaildirDirs, fsyncDir, type Spool } from '../maildir/spool.js';
import { delivered, type Outcome } from '../outcome/outcome.js';
import { commitWithQuota } from '../quota/commit-check.js';
import type { UserQuota } from '../quota/limits.js';
import { maildirInfo, storedName, type StoreTarget } from '../sieve/targets.js';
import { commitLock, lockOptions, recalcLock } from './commit.js';

export interface SieveStoreInput {
  maildir: string;
  spool: Spool;
  targets: StoreTarget[];
  uid: number;
  quota: UserQuota;
  config: Config;
  deadline: Deadline;
  logger: Logger;
}

export interface StoredCopy {
  mailbox: string;
  path: string;
}

export type StoreResult = { outcome: Outcome; stored: StoredCopy[] };

const MAX_NAME_TRIES = 5;

/** storeCopies stores the message in every target (at least one); throws when not even the first copy could be stored. */
export async function storeCopies(c: SieveStoreInput): Promise<StoreResult> {
  const targets = await resolveFolders(c);
  // Every copy counts against the quota (Maildir++ counts files, and each link is one): src/quota/commit-check.ts.
  return commitWithQuota(
    { maildir: c.maildir, quota: c.quota, bytes: c.spool.bytes, copies: targets.length, deadline: c.deadline, lockOptions: lockOptions(c.config, c.deadline), logger: c.logger, commitLock: commitLock(c.maildir), recalcLock: recalcLock(c.maildir) },
    async () => {
      const stored = await linkAll(c, targets);
      return { value: { outcome: delivered(stored.map((s) => s.mailbox).join(','), stored[0]!.path), stored }, stored: stored.length };
    },
    async (refused) => ({ outcome: refused, stored: [] }),
  );
}

/**
 * Makes every target folder ready: existing ones are checked (owner), missing
 * ones created when autocreate_folders or :create allows, else that copy goes
 * to INBOX (RFC 5490 §3.2: fileinto a missing mailbox without :create fails;
 * Pigeonhole then falls back to the implicit keep).
 */
async function resolveFolders(c: SieveStoreInput): Promise<StoreTarget[]> {
  const out = new Map<string, StoreTarget>();
  const add = (t: StoreTarget) => {
    const seen = out.get(t.dir);
    if (seen) seen.flags = [...new Set([...seen.flags, ...t.flags])];
    else out.set(t.dir, t);
  };
  for (const t of c.targets) {
    if (t.dir !== '' && !t.create && !c.config.delivery.autocreateFolders && !(await exists(join(c.maildir, t.dir)))) {
      c.logger.warn(`sieve: folder ${JSON.stringify(t.mailbox)} does not exist and autocreate_folders is off: storing in INBOX instead`);
      add({ mailbox: 'INBOX', dir: '', flags: t.flags, create: true });
      continue;
    }
    await c.deadline.race(prepareMailbox(c.maildir, t.dir, c.uid));
    add({ ...t });
  }
  return [...out.values()];
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Links the spool file into every target; a failure after the first stored copy is logged, not thrown. */
async function linkAll(c: SieveStoreInput, targets: StoreTarget[]): Promise<StoredCopy[]> {
  const tmp = c.spool.path;
  // fsync through a descriptor of our own: it flushes the file's data whichever descriptor wrote it.
  await withFd(await open(tmp, C.O_RDONLY | C.O_NOFOLLOW), fsync);
  const stored: StoredCopy[] = [];
  for (const t of targets) {
    const { letters, dropped } = maildirInfo(t.flags);
    if (dropped.length) c.logger.info(`sieve: flags without a Maildir letter not stored for ${t.mailbox}: ${dropped.join(' ')}`);
    try {
      stored.push({ mailbox: t.mailbox, path: await linkOne(c, tmp, t.dir, letters) });
    } catch (err) {
      if (stored.length === 0) throw err; // nothing delivered yet: the caller defers or falls back
      c.logger.warn(`sieve: could not store a copy in ${t.mailbox}: ${(err as Error).message}`);
    }
  }
  return stored;
}

async function linkOne(c: SieveStoreInput, tmp: string, dir: string, letters: string): Promise<string> {
  const folder = join(c.maildir, dir);
  let base = newName(basename(tmp), c.spool.bytes);
  let created = false;
  for (let i = 0; ; i++) {
    const { sub, name } = storedName(base, letters);
    const target = join(folder, sub, name);
    try {
      await link(tmp, target); // never replaces an existing file
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && !created) {
        await ensureMaildirDirs(folder);
        created = true;
        continue;
      }
      if (code === 'EEXIST' && i < MAX_NAME_TRIES) {
        base = newName(uniqueName({ nowMs: Date.now(), pid: process.pid, seq: 100_000 + i, host: hostname() }), c.spool.bytes);
        continue;
      }
      throw err;
    }
    try {
      await fsyncDir(join(folder, sub));
    } catch (err) {
      await unlink(target).catch(() => undefined); // not durable, so not stored
      throw err;
    }
    return target;
  }
}
