/**
 * One message file in a Maildir's tmp/: created O_EXCL|O_NOFOLLOW (mode 0600)
 * and streamed into, or hard-linked from another recipient's copy; sealed
 * (fsynced and closed) before anything links it into a folder. Storing it is
 * commit/store-copy.ts's; a spool is always discarded at the end, stored or not.
 * Must not: decide outcomes (errors are thrown for outcome/classify.ts) or link into folders.
 */
import { constants as C } from 'node:fs';
import { join } from 'node:path';
import { close, fsync, link, mkdir, open, unlink, writeAll } from '../io/fs-async.js';
import { whileWritingMessage } from '../outcome/classify.js';
import type { NameSource } from './name-source.js';

const MAX_NAME_TRIES = 5;

/** ensureMaildirDirs creates dir/{tmp,new,cur} (0700), as Postfix local(8) does on ENOENT. */
export async function ensureMaildirDirs(dir: string): Promise<void> {
  await mkdir(dir, 0o700, true);
  for (const sub of ['tmp', 'new', 'cur']) {
    await mkdir(join(dir, sub), 0o700).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }
}

/**
 * inFreshName runs make(path) on root/tmp/<fresh name> until it does not meet an
 * existing name (EEXIST: a file or planted symlink, never opened or followed),
 * creating tmp/ (and the Maildir) once if missing.
 */
async function inFreshName<T>(root: string, names: NameSource, make: (path: string) => Promise<T>): Promise<{ unique: string; path: string; made: T }> {
  let created = false;
  for (let i = 0; ; i++) {
    const unique = names();
    const path = join(root, 'tmp', unique);
    try {
      return { unique, path, made: await make(path) };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && !created) {
        await ensureMaildirDirs(root);
        created = true;
      } else if (!(code === 'EEXIST' && i < MAX_NAME_TRIES)) {
        throw err;
      }
    }
  }
}

export class Spool {
  private size: number;
  private fd: number | undefined;
  /** False for a borrowed spool: its file is another spool's, which discards it. */
  private owned = true;
  /** The close that seal() started, if any: discard() waits for it. */
  private closing: Promise<void> | undefined;

  private constructor(
    /** The Maildir whose tmp/ holds the file. */
    readonly root: string,
    /** The file in tmp/ (for scanners and rewriting; read-only for them). */
    readonly path: string,
    /** The unique base name; stored copies are named `<unique>,S=<size>`. */
    readonly unique: string,
    fd: number | undefined,
    size: number,
  ) {
    this.fd = fd;
    this.size = size;
  }

  /** create opens a fresh, empty file in root/tmp/ for writing. */
  static async create(root: string, names: NameSource): Promise<Spool> {
    const { unique, path, made } = await inFreshName(root, names, (p) => open(p, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600));
    return new Spool(root, path, unique, made, 0);
  }

  /**
   * linkFrom makes another name for a sealed spool's file in root/tmp/ (same
   * filesystem, same owner: the caller checked). The bytes are shared, so the
   * new spool is sealed already.
   */
  static async linkFrom(source: Spool, root: string, names: NameSource): Promise<Spool> {
    await source.seal();
    const { unique, path } = await inFreshName(root, names, (p) => link(source.path, p));
    return new Spool(root, path, unique, undefined, source.bytes);
  }

  /**
   * borrow names a sealed spool's own file as root's copy, without a name in
   * root/tmp/: copies then link straight from it into root's folders. Only for
   * a file the recipient's uid owns on root's filesystem (a link from it into
   * root/tmp/ worked lately: maildir-memo.ts). Discarding it leaves the file to
   * its owner; rewriting it makes a new spool in root/tmp/ as usual.
   */
  static async borrow(source: Spool, root: string): Promise<Spool> {
    await source.seal();
    const s = new Spool(root, source.path, source.unique, undefined, source.bytes);
    s.owned = false;
    return s;
  }

  get bytes(): number {
    return this.size;
  }

  /** write appends bytes, checking the byte count as Courier's maildir(5) asks. */
  async write(buf: Buffer): Promise<void> {
    if (this.fd === undefined) throw new Error('spool is sealed');
    try {
      await writeAll(this.fd, buf);
    } catch (err) {
      throw whileWritingMessage(err); // EFBIG here means the message alone is over mailbox_size_limit
    }
    this.size += buf.length;
  }

  /** seal makes the bytes durable (fsync) and starts closing the file; idempotent. Links are made only after it. */
  async seal(): Promise<void> {
    const fd = this.fd;
    if (fd === undefined) return;
    this.fd = undefined;
    try {
      await fsync(fd);
    } catch (err) {
      await close(fd).catch(() => undefined);
      throw err;
    }
    // Durable now: the close need not hold up the links (one thread-pool round trip fewer per
    // message, issue 11's latency); discard() waits for it. After a good fsync a failed close
    // loses nothing (on NFS, too, fsync is what flushes and reports write errors).
    this.closing = close(fd).catch(() => undefined);
  }

  /** discard closes and removes the tmp file; stored copies are other names and stay. Never throws. */
  async discard(): Promise<void> {
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) await close(fd).catch(() => undefined);
    await this.closing;
    if (!this.owned) return;
    // A failed unlink only leaves a tmp/ file that readers delete after 36 hours (maildir(5)).
    await unlink(this.path).catch(() => undefined);
  }
}
