/**
 * A folder's dovecot-keywords on disk: the letters of a message's keywords,
 * adding the new ones to the file first. Dovecot relies on its uidlist lock,
 * not on one of its own, for this file (maildir-keywords.c: "everything here
 * depends on uidlist file being locked"), so a new keyword is written while
 * holding `dovecot-uidlist.lock` (kind 'dovecot-uidlist'), the file re-read
 * under it, replaced atomically with a growing mtime (Dovecot re-reads only
 * when the mtime changes), and the lock released at once. Keywords already in
 * the file need no lock: the file only ever changes by rename.
 * The file is the user's: O_NONBLOCK, no symlink, at most 64 KiB; one that
 * cannot be read costs the keywords (logged), never the message.
 * Must not: link messages, or hold the lock for anything but this file.
 */
import { join } from 'node:path';
import type { Stats } from 'node:fs';
import { close } from '../io/fs-async.js';
import { replaceFile } from '../io/replace-file.js';
import { openUserFile, readFd } from '../io/user-file.js';
import { withLocks, type LockOptions } from '../locks/acquire.js';
import type { LockRequest } from '../locks/plan.js';
import type { Logger } from '../log/logger.js';
import { assignLetters, formatKeywords, KEYWORDS_FILE, parseKeywords, type KeywordTable } from './dovecot-keywords.js';

/** Far above 26 lines of 50-character keywords; a larger file is not Dovecot's. */
const MAX_FILE_BYTES = 64 * 1024;

/** Dovecot's lock of one folder (its control files live in the folder's directory by default). */
export const dovecotUidlistLock = (folderPath: string): LockRequest => ({ kind: 'dovecot-uidlist', path: join(folderPath, 'dovecot-uidlist.lock') });

interface Read {
  table: KeywordTable;
  st?: Stats;
}

async function readTable(path: string): Promise<Read> {
  let opened;
  try {
    opened = await openUserFile(path, { noFollow: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { table: parseKeywords('') };
    throw err;
  }
  const { fd, st } = opened;
  try {
    if (st.size > MAX_FILE_BYTES) throw new Error(`${path}: too large (${st.size} bytes, limit ${MAX_FILE_BYTES})`);
    return { table: parseKeywords((await readFd(fd, st.size)).toString('utf8')), st };
  } finally {
    await close(fd).catch(() => undefined);
  }
}

const copy = (t: KeywordTable): KeywordTable => ({ slots: [...t.slots], byName: new Map(t.byName) });

export interface KeywordsInput {
  /** The folder's directory (the Maildir itself for INBOX). */
  folderPath: string;
  /** For logs. */
  mailbox: string;
  keywords: readonly string[];
  lockOptions: LockOptions;
  logger: Logger;
  /** Add nothing (no lock): unknown keywords are dropped. */
  readOnly?: boolean;
}

/**
 * keywordLetters: the sorted letters of the keywords in this folder. Lock
 * trouble (a busy lock, the deadline) and a failed rewrite throw: the
 * delivery defers with nothing stored. A file that cannot be read drops the keywords.
 */
export async function keywordLetters(i: KeywordsInput): Promise<string> {
  if (!i.keywords.length) return '';
  const path = join(i.folderPath, KEYWORDS_FILE);
  const dropped = (names: readonly string[], why: string) => {
    if (names.length) i.logger.info(`keywords not stored for ${i.mailbox} (${why}): ${names.join(' ')}`);
  };
  // An unreadable file costs the keywords (logged), never the message.
  const read = (): Promise<Read | undefined> =>
    readTable(path).catch((err: unknown) => void i.logger.warn(`keywords not stored for ${i.mailbox}: ${(err as Error).message}`));
  const first = await read();
  if (!first) return '';
  // Would anything be added? Decided on a copy, so the answer without a write stays read-only.
  if (i.readOnly || !assignLetters(copy(first.table), i.keywords).added.length) {
    const r = assignLetters(first.table, i.keywords, true);
    dropped(r.dropped, i.readOnly ? 'not in its dovecot-keywords' : 'not valid IMAP keywords, or all 26 letters taken');
    return r.letters;
  }
  return withLocks([dovecotUidlistLock(i.folderPath)], i.lockOptions, async () => {
    // Dovecot may have added keywords since the first read: decide on what is there now.
    const now = await read();
    if (!now) return '';
    const r = assignLetters(now.table, i.keywords);
    if (r.added.length) {
      const mode = now.st ? now.st.mode & 0o666 : 0o600;
      await replaceFile(path, Buffer.from(formatKeywords(now.table), 'utf8'), mode, { mtimeAboveS: now.st ? Math.floor(now.st.mtimeMs / 1000) : undefined });
    }
    dropped(r.dropped, 'not valid IMAP keywords, or all 26 letters taken');
    return r.letters;
  });
}
