/**
 * Issue 15: 8 concurrent `mda deliver --mbox` senders and Dovecot expunging
 * from the same mbox at the same time (`doveadm expunge`, which rewrites the
 * file in place under Dovecot's dotlock + fcntl locks, and writes its
 * X-IMAPbase/X-UID headers). Afterwards Python's mailbox.mbox, mutt and Dovecot
 * must each see every message that was delivered (exit 0) or seeded and not
 * expunged exactly once, none of the expunged ones, and every message whole:
 * its body byte-exact (quoted) and its header as sent, apart from the fields
 * Dovecot adds to an mbox it rewrites.
 *
 * The expunges are spread over the run by progress (one after every few
 * deliveries), not by time. Runs as root (mda and Dovecot as mdatest); skipped
 * with a warning when a reader is missing or not root, except in CI (CI=true)
 * or with MDA_E2E_REQUIRED=1.
 */
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMda, tempDir, type MdaResult } from '../helpers/run-mda.js';
import { DOVEADM, dovecotConfig, mboxoStored, messageId, missingReaders, mboxUser, readWithDovecot, readWithMutt, readWithPython, type MboxEntry, type MboxUser } from '../helpers/mbox-readers.js';

const isRoot = process.getuid?.() === 0;
const missing = [...missingReaders(), ...(isRoot ? [] : ['root'])];
const required = process.env.CI === 'true' || process.env.MDA_E2E_REQUIRED === '1';
if (missing.length && !required) console.warn(`\n*** SKIPPED test/e2e/mbox-concurrency.test.ts: missing ${missing.join(', ')} ***\n`);

const SENDERS = 8;
const PER_SENDER = Number(process.env.MDA_MBOX_CONCURRENCY_PER_SENDER || 6);
const SEEDS = 16;
/** Header fields Dovecot writes into an mbox it rewrites (and hides from its own readers). */
const DOVECOT_FIELDS = /^(X-IMAPbase|X-UID|Status|X-Status|X-Keywords|Content-Length):/i;

/** A message of about `kb` KiB whose body has `From ` lines to quote and ends with END <id>. */
function makeMessage(id: string, kb: number): Buffer {
  const lines = [`From: sender-${id} <s@sender.test>`, 'To: nobody@example.test', `Subject: concurrency ${id}`, `Message-ID: <${id}@sender.test>`, ''];
  for (let i = 0; lines.join('\n').length < kb * 1024; i++) lines.push(i % 7 === 0 ? `From line ${i} of ${id}` : `line ${i} of ${id} ${'.'.repeat(60)}`);
  lines.push(`END ${id}`, '');
  return Buffer.from(lines.join('\n'));
}
/** The message as Postfix hands it to mailbox_command. */
const withEnvelope = (m: Buffer) => Buffer.concat([Buffer.from('From s@sender.test  Sun Nov 22 00:00:01 2026\nReturn-Path: <s@sender.test>\nDelivered-To: nobody@example.test\n'), m]);
const stored = (m: Buffer) => { const e = withEnvelope(m); return mboxoStored(e.subarray(e.indexOf(0x0a) + 1)); };

/** head (without Dovecot's fields) and body of a stored message */
function parts(message: Buffer): { head: string; body: string } {
  const text = message.toString('latin1');
  const end = text.indexOf('\n\n');
  const head = end < 0 ? text : text.slice(0, end + 1);
  return { head: head.split('\n').filter((l) => !DOVECOT_FIELDS.test(l)).join('\n'), body: end < 0 ? '' : text.slice(end + 2) };
}

describe.skipIf(missing.length > 0 && !required)('mbox: 8 concurrent mda deliveries and a concurrent Dovecot expunge', () => {
  let U: MboxUser;
  let t: ReturnType<typeof tempDir>;
  let spool = '';
  let mbox = '';
  let conf = '';
  let dovecotHome = '';
  const tag = `${Date.now()}-${randomBytes(3).toString('hex')}`;
  const seeds = Array.from({ length: SEEDS }, (_, i) => ({ id: `seed-${i}.${tag}`, data: makeMessage(`seed-${i}.${tag}`, 4 + (i % 5) * 8) }));
  const expunge = new Set(seeds.filter((_, i) => i % 2 === 0).map((s) => s.id));
  const sent = new Map<string, Buffer>(seeds.map((s) => [s.id, s.data]));

  beforeAll(() => {
    expect(missing, 'prerequisites (required here)').toEqual([]);
    U = mboxUser();
    t = tempDir('mda-mbox-concurrency-');
    chmodSync(t.dir, 0o755);
    spool = join(t.dir, 'spool');
    dovecotHome = join(t.dir, 'dovecot');
    mkdirSync(spool);
    mkdirSync(join(dovecotHome, 'mail'), { recursive: true });
    for (const d of [spool, dovecotHome, join(dovecotHome, 'mail')]) chownSync(d, U.uid, U.gid);
    mbox = join(spool, 'nobody');
    // the seeds, written as mboxo by hand (From_ line, quoted message, empty line)
    writeFileSync(mbox, Buffer.concat(seeds.flatMap((s) => [Buffer.from('From s@sender.test  Sun Nov 22 00:00:00 2026\n'), stored(s.data), Buffer.from('\n')])), { mode: 0o600 });
    chownSync(mbox, U.uid, U.gid);
    conf = dovecotConfig(dovecotHome, mbox, U);
    writeFileSync(join(t.dir, 'mda.toml'), '[log]\ntarget = "none"\n[locks]\ntimeout = "60s"\n', { mode: 0o644 });
  });
  afterAll(() => t?.cleanup());

  it('no message lost, none interleaved, the expunged ones gone', async () => {
    let delivered = 0;
    const results: { id: string; r: MdaResult }[] = [];
    const sender = async (w: number) => {
      for (let j = 0; j < PER_SENDER; j++) {
        const id = `w${w}-${j}.${tag}`;
        const data = makeMessage(id, 8 + ((w * 7 + j * 13) % 9) * 16); // 8..136 KiB
        sent.set(id, data);
        const r = await runMda(['deliver', '--config', join(t.dir, 'mda.toml'), '--user', U.name, '--mbox', mbox], {
          input: withEnvelope(data), env: { PATH: '/usr/bin:/bin', HOME: spool, USER: 'root' }, hardTimeoutMs: 120_000,
        });
        results.push({ id, r });
        delivered++;
      }
    };
    const expunger = async () => {
      const total = SENDERS * PER_SENDER;
      let k = 0;
      for (const id of expunge) {
        // spread over the run: the k-th expunge once k/|expunge| of the deliveries are done
        while (delivered < Math.floor((k * total) / (expunge.size + 1)) && results.length < total) await new Promise((r) => setTimeout(r, 20));
        k++;
        const code = await new Promise<{ code: number | null; err: string }>((resolve) => {
          const c = spawn(DOVEADM!, ['-c', conf, 'expunge', 'mailbox', 'INBOX', 'header', 'Message-ID', `<${id}@sender.test>`], {
            env: { PATH: '/usr/bin:/bin', USER: U.name, HOME: dovecotHome }, stdio: ['ignore', 'ignore', 'pipe'],
          });
          let err = '';
          c.stderr!.on('data', (d) => (err += d));
          c.on('close', (code) => resolve({ code, err }));
        });
        expect(code.code, `doveadm expunge ${id}: ${code.err}`).toBe(0);
      }
    };
    await Promise.all([...Array.from({ length: SENDERS }, (_, w) => sender(w)), expunger()]);

    const failed = results.filter((x) => x.r.code !== 0 || x.r.output !== '');
    expect(failed.map((x) => `${x.id}: ${x.r.code} ${x.r.output}`), 'every delivery exited 0 silently').toEqual([]);
    const want = [...sent.keys()].filter((id) => !expunge.has(id)).sort();

    const verify = (who: string, entries: MboxEntry[]) => {
      const ids = entries.map((e) => messageId(e.message).replace(/^<|@sender\.test>$/g, ''));
      expect([...ids].sort(), `${who}: every Message-ID exactly once, the expunged ones gone`).toEqual(want);
      entries.forEach((e, i) => {
        const exp = parts(stored(sent.get(ids[i]!)!));
        const got = parts(e.message);
        expect(got.body, `${who}: body of ${ids[i]} whole`).toBe(exp.body);
        expect(got.head, `${who}: header of ${ids[i]}`).toBe(exp.head);
      });
    };
    verify('python', readWithPython(mbox));
    verify('mutt', await readWithMutt(mbox, t.dir));
    verify('dovecot', readWithDovecot(mbox, t.dir, U));
  }, 300_000);
});
