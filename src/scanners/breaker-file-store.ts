/**
 * Breaker state on disk for `mda deliver` (one short process per message,
 * running as the recipient's uid): one small file per endpoint key in
 * `<[scanning] state_dir>/breakers-<uid>/`, a directory 0700 of that uid with
 * files 0600, rewritten in place at offset 0. The shared state_dir (1777 like
 * /var/tmp) only holds one such directory per uid, so one uid's deliveries
 * share breakers with each other and with no one else: a local user can open
 * or close breakers for their own mail only.
 * Every entry is checked before it is believed (breaker-trust.ts): the
 * per-uid directory with lstat (never a symlink), each file opened
 * O_NOFOLLOW|O_NONBLOCK and fstat'ed (a FIFO cannot hang us). Anything not
 * this uid's alone reads as a closed breaker and is never written: the mail is
 * scanned. Any I/O problem does the same; nothing here throws or waits on more
 * than one small local file operation.
 * Must not: create the directory for another uid, or follow a symlink below state_dir.
 */
import { chmod as fsChmod, constants, type Stats } from 'node:fs';
import { join } from 'node:path';
import { close, fstat, lstat, mkdir, open, read, stat, write } from '../io/fs-async.js';
import { breakerFileName, CLOSED, decodeBreaker, encodeBreaker, RECORD_BYTES, type BreakerState } from './breaker.js';
import { updateByReadWrite, type BreakerStore } from './breaker-store.js';
import { breakerDirName, ownStateTrusted, sharedDirTrusted } from './breaker-trust.js';

const { O_RDONLY, O_RDWR, O_CREAT, O_NOFOLLOW, O_NONBLOCK } = constants;
const FILE_MODE = 0o600;
const OWN_DIR_MODE = 0o700;
const SHARED_DIR_MODE = 0o1777;

/** fileBreakerStore: the breakers of `uid` (the delivering process's euid) under stateDir. */
export function fileBreakerStore(stateDir: string, uid: number): BreakerStore {
  const dir = join(stateDir, breakerDirName(uid));
  const store: BreakerStore = {
    read: (key) => readBreaker(stateDir, dir, uid, join(dir, breakerFileName(key))),
    write: (key, state) => writeBreaker(stateDir, dir, uid, join(dir, breakerFileName(key)), state),
    // Across processes there is no atomic update without a lock, and a breaker is not worth one.
    update: (key, change) => updateByReadWrite(store, key, change),
  };
  return store;
}

async function readBreaker(stateDir: string, dir: string, uid: number, path: string): Promise<BreakerState> {
  let fd: number | undefined;
  try {
    if (!(await dirsTrusted(stateDir, dir, uid))) return { ...CLOSED };
    fd = await open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    if (!fileTrusted(await fstat(fd), uid)) return { ...CLOSED };
    const buf = Buffer.alloc(RECORD_BYTES);
    const n = await read(fd, buf, 0, RECORD_BYTES, 0);
    return decodeBreaker(buf.toString('latin1', 0, n));
  } catch {
    return { ...CLOSED };
  } finally {
    if (fd !== undefined) await close(fd).catch(() => undefined);
  }
}

async function writeBreaker(stateDir: string, dir: string, uid: number, path: string, state: BreakerState): Promise<void> {
  let fd: number | undefined;
  try {
    if (!(await makeDirs(stateDir, dir, uid))) return;
    fd = await open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK, FILE_MODE);
    if (!fileTrusted(await fstat(fd), uid)) return;
    // One write of the whole record at offset 0; a reader racing it may see a torn
    // record, which decodes as closed: one extra scan attempt, never a wrong skip.
    const rec = Buffer.from(encodeBreaker(state), 'latin1');
    await write(fd, rec, 0, rec.length, 0);
  } catch {
    // disabled: the next delivery simply scans
  } finally {
    if (fd !== undefined) await close(fd).catch(() => undefined);
  }
}

const fileTrusted = (st: Stats, uid: number): boolean => st.isFile() && ownStateTrusted(st, uid);

/**
 * dirsTrusted: state_dir may hold this uid's directory (it is root's or this
 * uid's, sticky when shared), and that directory is a real directory of this
 * uid that nobody else can write. Once both hold, no other user can rename or
 * replace anything on the path below state_dir until we are done.
 */
async function dirsTrusted(stateDir: string, dir: string, uid: number): Promise<boolean> {
  const shared = await stat(stateDir); // the admin's path: it may be a symlink the admin made
  if (!shared.isDirectory() || !sharedDirTrusted(shared, uid)) return false;
  const own = await lstat(dir);
  return own.isDirectory() && ownStateTrusted(own, uid);
}

/** makeDirs creates state_dir (1777) and this uid's directory (0700) when missing, then checks both. */
async function makeDirs(stateDir: string, dir: string, uid: number): Promise<boolean> {
  try {
    return await dirsTrusted(stateDir, dir, uid);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await makeSharedDir(stateDir);
  await mkdir(dir, OWN_DIR_MODE).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err; // a concurrent delivery made it, or someone else did: checked next
  });
  return dirsTrusted(stateDir, dir, uid);
}

/** makeSharedDir creates the shared state directory sticky and world-writable, as /tmp is. */
async function makeSharedDir(stateDir: string): Promise<void> {
  try {
    await mkdir(stateDir, SHARED_DIR_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return; // someone else made it: dirsTrusted judges it
    throw err;
  }
  // The umask (Postfix runs us with 077) would leave it usable only by its creator.
  await new Promise<void>((resolve) => fsChmod(stateDir, SHARED_DIR_MODE, () => resolve()));
}
