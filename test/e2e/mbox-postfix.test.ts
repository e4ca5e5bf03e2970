/**
 * Issue 15, reference bytes: Postfix's own local(8) writes mboxo, so the same
 * tricky messages (test/helpers/mbox-corpus.ts) go through one private Postfix
 * (scripts/realstack/up.sh) twice: first with mailbox_command unset (local(8)
 * appends to mail_spool_directory/USER itself), then with mailbox_command =
 * `mda deliver` and `[delivery] mbox = ".../%u"`. The two files must be equal
 * byte for byte except the dates of the From_ lines and the Received fields
 * (other queue ids and times): the same From_ sender (MAILER-DAEMON for <>),
 * the same Return-Path / X-Original-To / Delivered-To, the same `>From `
 * quoting, the same empty line after each message.
 *
 * Needs root and postfix; skipped with a warning otherwise, except in CI
 * (CI=true) or with MDA_E2E_REQUIRED=1.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  installApp,
  lookupUser,
  realstackSkipReason,
  runDir,
  startRealstack,
  stopRealstack,
  waitForStatus,
  type Realstack,
} from '../helpers/realstack.js';
import { smtpSend } from '../helpers/smtp-send.js';
import { mboxCorpus } from '../helpers/mbox-corpus.js';
import { fromLineRe } from '../helpers/mbox-readers.js';

const skipReason = realstackSkipReason(['postfix']);
const required = process.env.CI === 'true' || process.env.MDA_E2E_REQUIRED === '1';
if (skipReason && !required) console.warn(`\n*** SKIPPED test/e2e/mbox-postfix.test.ts: ${skipReason} ***\n`);

const SBIN = (name: string) => ['/usr/sbin', '/usr/bin', '/sbin'].map((d) => path.join(d, name)).find((p) => fs.existsSync(p)) ?? name;
const ASCTIME = /^From (\S+) {2}(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \w{3} [ 1-3]\d \d\d:\d\d:\d\d \d{4}$/gm;

/** normalize - the parts that must differ between two deliveries: From_ dates, Received fields (queue id, time). */
function normalize(mbox: string): string {
  return mbox.replace(ASCTIME, 'From $1  <date>').replace(/^Received: .*(\n[ \t].*)*/gm, 'Received: <trace>');
}

describe.skipIf(skipReason !== null && !required)('mbox bytes: mda deliver writes what Postfix local(8) writes', () => {
  let DIR = '';
  let stack: Realstack;
  let failed = false;
  const tag = `${Date.now()}-${randomBytes(3).toString('hex')}`;
  const corpus = mboxCorpus(tag);

  const postconf = (...args: string[]) => execFileSync(SBIN('postconf'), ['-c', stack.postfixConfig, ...args], { encoding: 'utf8' });
  const reloads = () => (fs.existsSync(stack.maillog) ? fs.readFileSync(stack.maillog, 'utf8').match(/postfix\/master\[\d+\]: reload/g)?.length ?? 0 : 0);
  /** reload Postfix with new settings and wait (bounded) until the master logged it */
  async function reloadWith(...settings: string[]): Promise<void> {
    const before = reloads();
    postconf('-e', ...settings);
    execFileSync(SBIN('postfix'), ['-c', stack.postfixConfig, 'reload'], { stdio: 'ignore' });
    for (let i = 0; reloads() === before; i++) {
      if (i > 300) throw new Error('Postfix did not log its reload');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  /** send the corpus one message at a time (so both files have the same order); the status texts */
  async function sendAll(): Promise<string[]> {
    const texts: string[] = [];
    for (const m of corpus) {
      const { queueId } = await smtpSend({ port: stack.smtpPort, from: m.sender, to: `${stack.mdaUser}@${stack.domain}`, data: m.data });
      const st = await waitForStatus(stack, queueId, { timeoutMs: 60_000 });
      expect(st.status, `${m.name}: ${st.line}`).toBe('sent');
      texts.push(st.text);
    }
    return texts;
  }

  let localMbox = '';
  let mdaMbox = '';
  let mdaCommand = '';
  beforeAll(async () => {
    if (skipReason) throw new Error(`e2e prerequisites missing (required here): ${skipReason}`);
    DIR = runDir('/tmp/mda-e2e-mbox-postfix');
    fs.mkdirSync(DIR, { recursive: true });
    fs.chmodSync(DIR, 0o755);
    const mda = process.env.MDA_BIN || installApp(path.join(DIR, 'app'));
    // the spools: sticky and world-writable as /var/mail was before group mail, so both writers can create USER's file
    for (const d of ['local-spool', 'mda-spool', 'mda-log']) {
      fs.mkdirSync(path.join(DIR, d));
      fs.chmodSync(path.join(DIR, d), 0o1777);
    }
    const config = path.join(DIR, 'mda.toml');
    fs.writeFileSync(config, [
      '[delivery]', `mbox = "${path.join(DIR, 'mda-spool')}/%u"`, 'deadline = "60s"',
      '[log]', `target = "file:${path.join(DIR, 'mda-log/mda.log')}"`, '',
    ].join('\n'), { mode: 0o644 });
    mdaCommand = `${mda} deliver --config ${config}`;
    stack = startRealstack({ dir: DIR, smtpPort: await freePort(), services: ['postfix'], mdaCommand, commandTimeLimit: '100s' });
    localMbox = path.join(DIR, 'local-spool', stack.mdaUser);
    mdaMbox = path.join(DIR, 'mda-spool', stack.mdaUser);
  });

  afterAll(() => {
    if (DIR) stopRealstack(DIR, { purge: !failed && stack !== undefined });
    if (failed || !stack) console.error(`[mbox-postfix e2e] state kept in ${DIR}`);
  });

  it('local(8) and mda deliver the corpus to mboxes that differ only in dates and trace fields', async () => {
    failed = true;
    // 1. Postfix's own mbox delivery: no mailbox_command
    await reloadWith('mailbox_command =', `mail_spool_directory = ${path.join(DIR, 'local-spool')}`);
    const localTexts = await sendAll();
    for (const t of localTexts) expect(t).toMatch(/^delivered to mailbox/);
    // 2. the same messages through mda
    await reloadWith(`mailbox_command = ${mdaCommand}`);
    const mdaTexts = await sendAll();
    for (const t of mdaTexts) expect(t).toMatch(/^delivered to command/);

    const local = fs.readFileSync(localMbox).toString('latin1');
    const ours = fs.readFileSync(mdaMbox).toString('latin1');
    const user = lookupUser(stack.mdaUser);
    const st = fs.statSync(mdaMbox);
    expect([st.uid, st.mode & 0o777], 'the mbox mda created: owned by the recipient, mode 0600').toEqual([user.uid, 0o600]);
    // every From_ line is `From SENDER  asctime`, in corpus order, MAILER-DAEMON for <>
    const senders = (s: string) => [...s.matchAll(ASCTIME)].map((m) => m[1]);
    const want = corpus.map((m) => m.sender || 'MAILER-DAEMON');
    expect(senders(local), 'local(8) From_ lines').toEqual(want);
    expect(senders(ours), 'mda From_ lines').toEqual(want);
    for (const line of ours.split('\n').filter((l) => l.startsWith('From '))) expect(line).toMatch(fromLineRe(line.split(' ')[1]!));
    expect(normalize(ours)).toBe(normalize(local));
    failed = false;
  }, 240_000);
});
