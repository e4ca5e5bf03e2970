/**
 * The durable Maildir write: a message is streamed into a new file in tmp/
 * (O_EXCL, no symlink following, mode 0600), then on commit fsynced, linked
 * into new/ under its final name and new/ fsynced: only then is it delivered
 * (qmail maildir_child(), Postfix local/maildir.c). Any failure unlinks the tmp file.
 * Must not: decide outcomes (errors are thrown for outcome/classify.ts).
 */
import { constants as C } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { close, fsync, link, mkdir, open, unlink, withFd, writeAll } from '../io/fs-async.js';
import { whileWritingMessage } from '../outcome/classify.js';
import { newName, uniqueName } from './names.js';

const HOST = hostname();
let seq = 0;
const MAX_NAME_TRIES = 5;

function nextName(): string {
  seq += 1;
  // Date.now(): ms resolution is enough, P and Q make the name unique (and `performance` costs a module load)
  return uniqueName({ nowMs: Date.now(), pid: process.pid, seq, host: HOST });
}

/** ensureMaildirDirs creates dir/{tmp,new,cur} (0700), as Postfix local(8) does on ENOENT. */
export async function ensureMaildirDirs(dir: string): Promise<void> {
  await mkdir(dir, 0o700, true);
  for (const sub of ['tmp', 'new', 'cur']) {
    await mkdir(join(dir, sub), 0o700).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }
}

/** fsyncDir makes a directory entry (the new/ link) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  await withFd(await open(dir, C.O_RDONLY | C.O_DIRECTORY), fsync);
}

export class Spool {
  private size = 0;
  private closed = false;

  private constructor(
    private readonly root: string,
    private readonly tmpPath: string,
    private readonly unique: string,
    private readonly fd: number,
    private readonly names: () => string,
  ) {}

  /**
   * create opens a fresh file in root/tmp/ (names: the unique-name source, replaceable in tests). O_EXCL|O_NOFOLLOW: a file or
   * symlink planted under that name is never opened or followed; we pick
   * another name instead.
   */
  static async create(root: string, names: () => string = nextName): Promise<Spool> {
    let created = false;
    for (let i = 0; ; i++) {
      const unique = names();
      const tmpPath = join(root, 'tmp', unique);
      try {
        const fd = await open(tmpPath, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
        return new Spool(root, tmpPath, unique, fd, names);
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

  get bytes(): number {
    return this.size;
  }

  /** The file in tmp/ (for scanners and rewriting; read-only for them). */
  get path(): string {
    return this.tmpPath;
  }

  /** write appends bytes, checking the byte count as Courier's maildir(5) asks. */
  async write(buf: Buffer): Promise<void> {
    try {
      await writeAll(this.fd, buf);
    } catch (err) {
      throw whileWritingMessage(err); // EFBIG here means the message alone is over mailbox_size_limit
    }
    this.size += buf.length;
  }

  /**
   * commit makes the message durable in <root>/<folderDir>/new/ and returns
   * the path. link() never replaces an existing file; on EEXIST a new name is taken.
   */
  async commit(folderDir: string): Promise<string> {
    await fsync(this.fd);
    this.closed = true;
    await close(this.fd);
    const newDir = join(this.root, folderDir, 'new');
    let target = join(newDir, newName(this.unique, this.size));
    let created = false;
    for (let i = 0; ; i++) {
      try {
        await link(this.tmpPath, target);
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' && !created) {
          await ensureMaildirDirs(join(this.root, folderDir)); // new/ went missing: recreate, as for tmp/
          created = true;
        } else if (code === 'EEXIST' && i < MAX_NAME_TRIES) {
          target = join(newDir, newName(this.names(), this.size));
        } else {
          throw err;
        }
      }
    }
    try {
      await fsyncDir(newDir);
    } catch (err) {
      // Not durable, so not delivered: remove the link so a retry cannot duplicate it.
      await unlink(target).catch(() => undefined);
      throw err;
    }
    // The message is delivered; a failed unlink only leaves a tmp/ file that
    // readers delete after 36 hours (maildir(5)).
    await unlink(this.tmpPath).catch(() => undefined);
    return target;
  }

  /** discard removes the tmp file; used on every failure path. */
  async discard(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      await close(this.fd).catch(() => undefined);
    }
    await unlink(this.tmpPath).catch(() => undefined);
  }
}
