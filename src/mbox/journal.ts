/**
 * The append journal on disk (format and rule: journal-rule.ts). Written and
 * fsynced before an mbox append, removed after the mbox's fsync; read by the
 * next delivery to that mbox, under the same locks, to cut a SIGKILLed
 * append's partial tail. It lives beside the mbox as `.NAME.mda-journal` when
 * that directory is ours to write, else in the user's state directory
 * ([sieve] state_dir, e.g. ~/.mda/mbox-journal/), named after the mbox's path.
 * A journal is input anyone able to write its directory could plant: opened
 * without following symlinks or blocking, at most JOURNAL_MAX bytes, and only
 * one owned by the delivering uid is believed.
 * Must not: take locks (the caller holds the mbox's) or decide what a journal means.
 */
import { constants as C } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { close, fstat, fsync, fsyncDir, ftruncate, mkdir, open, read, unlink, withFd, writeAll } from '../io/fs-async.js';
import { OutcomeError, temp } from '../outcome/outcome.js';
import { decodeJournal, encodeJournal, JOURNAL_MAX, type Journal } from './journal-rule.js';

/** journalPath: beside the mbox when `besideOk`, else in stateDir (the mbox path encoded as one file name). */
export function journalPath(mbox: string, besideOk: boolean, stateDir: string): string {
  if (besideOk) return join(dirname(mbox), `.${basename(mbox)}.mda-journal`);
  return join(stateDir, 'mbox-journal', encodeURIComponent(mbox));
}

/** readJournal: the journal at path if it is one of ours, else undefined (missing, foreign, malformed). */
export async function readJournal(path: string, uid: number): Promise<Journal | undefined> {
  let fd: number;
  try {
    fd = await open(path, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
  } catch {
    return undefined;
  }
  return withFd(fd, async () => {
    const st = await fstat(fd);
    if (!st.isFile() || st.uid !== uid || st.size > JOURNAL_MAX) return undefined;
    const buf = Buffer.alloc(JOURNAL_MAX + 1);
    const n = await read(fd, buf, 0, buf.length, 0);
    return decodeJournal(buf.subarray(0, n));
  }).catch(() => undefined);
}

/** writeJournal records j durably (fsync) before the append starts. */
export async function writeJournal(path: string, j: Journal, uid: number): Promise<void> {
  await mkdir(dirname(path), 0o700, true).catch(() => undefined); // the state dir case; beside the mbox it exists
  // Never through a symlink (O_NOFOLLOW) or into a FIFO (O_NONBLOCK); and no O_TRUNC before the file is
  // known to be our own plain file with one name: a planted hard link must not get another file cut.
  const fd = await open(path, C.O_WRONLY | C.O_CREAT | C.O_NOFOLLOW | C.O_NONBLOCK, 0o600);
  try {
    const st = await fstat(fd);
    if (!st.isFile() || st.nlink !== 1 || st.uid !== uid) throw new OutcomeError(temp('unsafe-mailbox', `${path} is not a plain file of uid ${uid}: remove it`));
    await ftruncate(fd, 0);
    await writeAll(fd, encodeJournal(j));
    await fsync(fd);
  } finally {
    await close(fd).catch(() => undefined);
  }
  // A SIGKILL leaves the kernel's state, so the journal's name survives it unsynced; a power cut
  // does not, and the append's unsynced tail may then be on disk without the journal that cuts it.
  await fsyncDir(dirname(path));
}

/** removeJournal: the append is durable (or undone); never throws. */
export async function removeJournal(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}
