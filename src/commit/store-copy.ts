/**
 * The one routine that stores a copy: link() the sealed tmp/ file into a
 * folder's new/ (or cur/ with `:2,<letters>`), then fsync that directory; only
 * then is the copy durable (qmail maildir_child(), Postfix local/maildir.c).
 * link() never replaces an existing file; on EEXIST a fresh name is taken.
 * unstoreCopy is its undo. Must not: decide which folders, quota or outcomes.
 */
import { dirname, join } from 'node:path';
import { fsyncDir, link, unlink } from '../io/fs-async.js';
import type { NameSource } from '../maildir/name-source.js';
import { newName } from '../maildir/names.js';
import { ensureMaildirDirs, type Spool } from '../maildir/spool.js';
import { storedName } from '../sieve/targets.js';

const MAX_NAME_TRIES = 5;

/** storeCopy links the (sealed) spool into folderPath and returns the stored file's path once it is durable. */
export async function storeCopy(spool: Spool, folderPath: string, letters: string, names: NameSource): Promise<string> {
  let base = newName(spool.unique, spool.bytes);
  let created = false;
  for (let i = 0; ; i++) {
    const { sub, name } = storedName(base, letters);
    const target = join(folderPath, sub, name);
    try {
      await link(spool.path, target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && !created) {
        await ensureMaildirDirs(folderPath); // new/ or cur/ went missing: recreate, as for tmp/
        created = true;
        continue;
      }
      if (code === 'EEXIST' && i < MAX_NAME_TRIES) {
        base = newName(names(), spool.bytes);
        continue;
      }
      throw err;
    }
    try {
      await fsyncDir(join(folderPath, sub));
    } catch (err) {
      await unlink(target).catch(() => undefined); // not durable, so not stored: a retry must not duplicate it
      throw err;
    }
    return target;
  }
}

/** unstoreCopy removes a stored copy again (a plan commits all or nothing); best effort, never throws. */
export async function unstoreCopy(path: string): Promise<boolean> {
  try {
    await unlink(path);
    await fsyncDir(dirname(path)).catch(() => undefined);
    return true;
  } catch {
    return false;
  }
}
