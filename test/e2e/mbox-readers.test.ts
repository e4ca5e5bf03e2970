/**
 * Issue 15: what `mda deliver --mbox` writes, the real readers read back. The
 * tricky corpus (test/helpers/mbox-corpus.ts) goes in as Postfix hands it to
 * mailbox_command (From_ line, Return-Path, Delivered-To); mutt (-R, in a pty),
 * Python's mailbox.mbox and Dovecot (doveadm fetch) must each return every
 * message, in order, byte-exact but for the `>From ` quoting (and a final
 * newline where the message had none), with a `From SENDER  asctime` line
 * (MAILER-DAEMON for the null sender).
 *
 * Runs as root (mda delivers as the test account mdatest, as Postfix would as the recipient);
 * skipped with a warning when a reader is missing or not root, except in CI
 * (CI=true) or with MDA_E2E_REQUIRED=1.
 */
import { chmodSync, chownSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMda, tempDir } from '../helpers/run-mda.js';
import { mboxCorpus, postfixInput } from '../helpers/mbox-corpus.js';
import { fromLineRe, mboxoStored, missingReaders, mboxUser, readWithDovecot, readWithMutt, readWithPython, type MboxEntry, type MboxUser } from '../helpers/mbox-readers.js';

const isRoot = process.getuid?.() === 0;
const missing = [...missingReaders(), ...(isRoot ? [] : ['root'])];
const required = process.env.CI === 'true' || process.env.MDA_E2E_REQUIRED === '1';
if (missing.length && !required) console.warn(`\n*** SKIPPED test/e2e/mbox-readers.test.ts: missing ${missing.join(', ')} ***\n`);

const RCPT = 'nobody@example.test';

describe.skipIf(missing.length > 0 && !required)('mbox readers: mutt, Python and Dovecot read back what mda deliver --mbox wrote', () => {
  let U: MboxUser;
  let t: ReturnType<typeof tempDir>;
  let mbox = '';
  const corpus = mboxCorpus(`${Date.now()}-${randomBytes(3).toString('hex')}`);
  /** what each stored message must be: the input without Postfix's From_ line, quoted */
  const expected = corpus.map((m) => {
    const input = postfixInput(m, RCPT);
    return mboxoStored(input.subarray(input.indexOf(0x0a) + 1));
  });
  let fileBefore: Buffer;

  beforeAll(async () => {
    expect(missing, 'mbox reader prerequisites (required here)').toEqual([]);
    U = mboxUser();
    t = tempDir('mda-mbox-readers-');
    chmodSync(t.dir, 0o755);
    const spool = join(t.dir, 'spool');
    mkdirSync(spool);
    chownSync(spool, U.uid, U.gid);
    mbox = join(spool, 'nobody');
    writeFileSync(join(t.dir, 'mda.toml'), '[log]\ntarget = "none"\n[locks]\ntimeout = "10s"\n', { mode: 0o644 });
    for (const m of corpus) {
      const r = await runMda(['deliver', '--config', join(t.dir, 'mda.toml'), '--user', U.name, '--mbox', mbox], {
        input: postfixInput(m, RCPT),
        env: { PATH: process.env.PATH, HOME: spool, USER: 'root' },
      });
      if (r.code !== 0 || r.output !== '') throw new Error(`mda deliver --mbox (${m.name}) exited ${r.code}: ${r.output}`);
    }
    fileBefore = readFileSync(mbox);
  }, 120_000);
  afterAll(() => t?.cleanup());

  it('the mbox file is exactly From_ line + quoted message + empty line per message, owned by the recipient, 0600', () => {
    const st = statSync(mbox);
    expect([st.uid, st.mode & 0o777]).toEqual([U.uid, 0o600]);
    const lines = fileBefore.toString('latin1').split('\n').filter((l) => l.startsWith('From '));
    expect(lines.length).toBe(corpus.length);
    corpus.forEach((m, i) => expect(lines[i]).toMatch(fromLineRe(m.sender || 'MAILER-DAEMON')));
    const want = Buffer.concat(corpus.flatMap((m, i) => [Buffer.from(`${lines[i]}\n`, 'latin1'), expected[i]!, Buffer.from('\n')]));
    expect(fileBefore.toString('latin1')).toBe(want.toString('latin1'));
  });

  /**
   * `headerEnd`: mutt writes a message out as header + empty line + body, so a
   * message without a body (no empty line in it) comes back with one; the same
   * happens to local(8)'s mbox (mboxo cannot tell that empty line from the separator).
   */
  const check = (who: string, entries: MboxEntry[], opts: { withFrom: boolean; headerEnd?: boolean }) => {
    expect(entries.length, `${who}: number of messages`).toBe(corpus.length);
    corpus.forEach((m, i) => {
      const e = entries[i]!;
      if (opts.withFrom) expect(e.fromLine, `${who}: From_ line of ${m.name}`).toMatch(fromLineRe(m.sender || 'MAILER-DAEMON'));
      const want = expected[i]!.toString('latin1');
      expect(e.message.toString('latin1'), `${who}: ${m.name}`).toBe(opts.headerEnd && !want.includes('\n\n') ? `${want}\n` : want);
    });
  };

  it('mutt -R reads every message back', async () => {
    check('mutt', await readWithMutt(mbox, t.dir), { withFrom: true, headerEnd: true });
    expect(readFileSync(mbox).equals(fileBefore), 'mutt -R left the file alone').toBe(true);
  });

  it("Python's mailbox.mbox reads every message back", () => {
    check('python', readWithPython(mbox), { withFrom: true });
  });

  it('Dovecot (doveadm fetch text) reads every message back', () => {
    check('dovecot', readWithDovecot(mbox, t.dir, U), { withFrom: false });
  });
});
