/**
 * A server's copies link straight from its spool once a link into that Maildir
 * has worked (maildir/maildir-memo.ts, issue 11's one-connection goal): nothing
 * passes through tmp/, the stored file is the spool's inode. When the Maildir
 * later sits on another filesystem (EXDEV), that one delivery is deferred,
 * never stored twice or lost, and the next one is a plain copy again.
 * In-process, through the delivery core (pipeline/deliver-message.ts), on the
 * real filesystem: the spool on this test's filesystem, the moved Maildir on
 * /dev/shm (tmpfs) where one exists.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/schema.js';
import { Deadline } from '../../src/deadline/deadline.js';
import { createLogger } from '../../src/log/logger.js';
import { MaildirMemo } from '../../src/maildir/maildir-memo.js';
import { createNameSource } from '../../src/maildir/name-source.js';
import { Spool } from '../../src/maildir/spool.js';
import { deliverMessage } from '../../src/pipeline/deliver-message.js';
import { openSession } from '../../src/session/session.js';

const uid = process.getuid!();
const names = createNameSource();
let base: string;
let shm: string | undefined;

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'mda-memo-'));
  mkdirSync(join(base, 'spool', 'tmp'), { recursive: true });
  shm = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/mda-memo-') : undefined;
});
afterEach(() => {
  rmSync(base, { recursive: true, force: true });
  if (shm) rmSync(shm, { recursive: true, force: true });
});

/** One message spooled in base/spool/tmp and delivered to `user`'s Maildir at base/mail/user, as an LMTP transaction does. */
async function deliverOne(memo: MaildirMemo | undefined, user: string, text = `Subject: ${user}\n\nbody\n`) {
  const config = defaultConfig();
  const deadline = Deadline.start(10_000, { graceMs: 1_000, onHardStop: () => undefined });
  const s = openSession({ config, deadline, logger: createLogger({ kind: 'none' }), names, maildirs: memo });
  const spool = await Spool.create(join(base, 'spool'), names);
  await spool.write(Buffer.from(text));
  await spool.seal();
  const maildir = join(base, 'mail', user);
  const resolved = { user, switchTo: undefined, uid, home: base, maildir };
  try {
    const [r] = await deliverMessage(s, { spool, header: Buffer.from(text.split('\n\n')[0]!) }, [
      { user, envelope: { sender: 's@example.org', recipient: `${user}@example.net`, originalRecipient: `${user}@example.net`, extension: '' }, resolved },
    ]);
    return { outcome: r!.outcome, spoolIno: statSync(spool.path).ino, maildir };
  } finally {
    await spool.discard();
    deadline.dispose();
  }
}

const files = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

describe('copies linked straight from a server spool (MaildirMemo)', () => {
  it('after one link into a Maildir has worked, the next copy is the spool inode itself and tmp/ is never used', async () => {
    const memo = new MaildirMemo();
    const first = await deliverOne(memo, 'ann');
    expect(first.outcome.kind).toBe('delivered');
    expect(memo.linkProven(join(base, 'spool', 'tmp'), first.maildir)).toBe(true);

    // tmp/ made unusable (a plain file): a copy that still went through tmp/ would fail with ENOTDIR.
    rmSync(join(first.maildir, 'tmp'), { recursive: true });
    writeFileSync(join(first.maildir, 'tmp'), '');
    const second = await deliverOne(memo, 'ann');
    expect(second.outcome).toMatchObject({ kind: 'delivered' });
    const stored = (second.outcome as { file: string }).file;
    expect(statSync(stored).ino).toBe(second.spoolIno);
    expect(files(join(first.maildir, 'new'))).toHaveLength(2);
  });

  it('without a memo (mda deliver) nothing is assumed: every copy is proven by its own link into tmp/', async () => {
    await deliverOne(undefined, 'bob');
    const r = await deliverOne(undefined, 'bob');
    expect(r.outcome.kind).toBe('delivered');
    expect(files(join(r.maildir, 'new'))).toHaveLength(2);
    expect(files(join(r.maildir, 'tmp'))).toEqual([]);
  });

  it.runIf(existsSync('/dev/shm'))('a Maildir moved to another filesystem since: that copy is deferred (stored nowhere), the next one is a copy', async () => {
    const memo = new MaildirMemo();
    const first = await deliverOne(memo, 'cat');
    expect(first.outcome.kind).toBe('delivered');
    // The admin moves the Maildir to another filesystem and leaves a symlink (the server keeps running).
    const moved = join(shm!, 'cat');
    mkdirSync(moved, { mode: 0o700 });
    for (const sub of ['tmp', 'new', 'cur']) mkdirSync(join(moved, sub), { mode: 0o700 });
    renameSync(first.maildir, join(base, 'old-cat'));
    symlinkSync(moved, first.maildir);

    const second = await deliverOne(memo, 'cat');
    expect(second.outcome).toMatchObject({ kind: 'temp' }); // 4xx: the client retries; never a bounce
    expect(files(join(moved, 'new'))).toEqual([]);
    expect(memo.linkProven(join(base, 'spool', 'tmp'), first.maildir)).toBe(false);

    const third = await deliverOne(memo, 'cat');
    expect(third.outcome.kind).toBe('delivered');
    expect(files(join(moved, 'new'))).toHaveLength(1);
    expect(statSync((third.outcome as { file: string }).file).ino).not.toBe(third.spoolIno);
    expect(files(join(moved, 'tmp'))).toEqual([]);
  });
});
