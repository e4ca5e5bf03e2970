/**
 * End to end: a real Postfix (scripts/realstack/up.sh) on 127.0.0.1 runs the
 * built `mda deliver` as its mailbox_command, exactly as in production. Mail
 * goes in by SMTP; the result is read from Postfix's maillog, its queue, the
 * sink that captures bounces, and the test user's Maildir.
 *
 * Needs root (Postfix's master runs as root) and the postfix package
 * (scripts/install-test-deps.sh). Skipped with a warning otherwise, except in
 * CI (CI=true) or with MDA_E2E_REQUIRED=1, where missing prerequisites fail.
 * Build first: `npm test` runs `npm run build`.
 *
 * MDA_BIN=/usr/bin/mda runs that binary instead of a copy of this build (the
 * Debian package's test, test/package/deb.test.ts, runs this file against the
 * installed package); it must be executable by the test user.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  bouncesFor,
  freePort,
  installApp,
  listQueue,
  lookupUser,
  realstackSkipReason,
  runDir,
  startRealstack,
  stopRealstack,
  waitForBounce,
  waitForStatus,
  type Realstack,
  type UnixUser,
} from '../helpers/realstack.js';
import { smtpSend } from '../helpers/smtp-send.js';

const skipReason = realstackSkipReason(['postfix']);
const required = process.env.CI === 'true' || process.env.MDA_E2E_REQUIRED === '1';
if (skipReason && !required) {
  console.warn(`\n*** SKIPPED test/e2e/postfix.test.ts: ${skipReason} ***\n`);
}

// The stack's folder is /tmp/mda-e2e-postfix-<pid> and its SMTP port is picked
// free at start, so other e2e files and other runs on the same machine can run
// at the same time. Set in beforeAll; removed in afterAll unless a test failed.
let DIR = '';
let CONFIG = '';
let MDA_LOG = '';
const MAX_SIZE = 64 * 1024;
const SENDER = 'alice@sender.test';

/** the test config; `maildir` overrides the default "~/Maildir" */
function writeConfig(opts: { maildir?: string; raw?: string } = {}): void {
  const text =
    opts.raw ??
    [
      '# written by test/e2e/postfix.test.ts',
      '[delivery]',
      `maildir = "${opts.maildir ?? '~/Maildir'}"`,
      'deadline = "60s"',
      'max_message_size = "64K"',
      '',
      '[log]',
      `target = "file:${MDA_LOG}"`,
      '',
    ].join('\n');
  fs.writeFileSync(CONFIG, text, { mode: 0o644 });
  fs.chmodSync(CONFIG, 0o644);
}

const token = () => `e2e-${Date.now()}-${randomBytes(4).toString('hex')}`;

function message(tok: string, subject: string, body: string): string {
  return [
    `From: Alice <${SENDER}>`,
    'To: mdatest@example.test',
    `Subject: ${subject} ${tok}`,
    'Date: Sun, 22 Nov 2026 00:00:00 +0000',
    `Message-ID: <${tok}@sender.test>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    body,
  ].join('\n');
}

/** files in DIR/{new,tmp,cur} of a Maildir whose content contains needle */
function findInMaildir(maildir: string, needle: string, sub: 'new' | 'tmp' | 'cur' = 'new'): string[] {
  const d = path.join(maildir, sub);
  let names: string[];
  try {
    names = fs.readdirSync(d);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names.map((n) => path.join(d, n)).filter((f) => fs.readFileSync(f, 'latin1').includes(needle));
}

function tail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return `(no ${file})`;
  }
}

const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

describe.skipIf(skipReason !== null && !required)('mda as Postfix mailbox_command (real Postfix)', () => {
  let stack: Realstack;
  let user: UnixUser;
  let userMaildir: string;

  beforeAll(async () => {
    if (skipReason) throw new Error(`e2e prerequisites missing (required here): ${skipReason}`);
    const t0 = Date.now();
    DIR = runDir('/tmp/mda-e2e-postfix'); // also cleans up after killed earlier runs
    CONFIG = path.join(DIR, 'mda.toml');
    const logDir = path.join(DIR, 'mda-log');
    MDA_LOG = path.join(logDir, 'mda.log');
    fs.mkdirSync(DIR, { recursive: true });
    fs.chmodSync(DIR, 0o755);
    const mda = process.env.MDA_BIN || installApp(path.join(DIR, 'app'));
    writeConfig();
    stack = startRealstack({
      dir: DIR,
      smtpPort: await freePort(),
      services: ['postfix'],
      mdaCommand: `${mda} deliver --config ${CONFIG}`,
      commandTimeLimit: '100s',
    });
    user = lookupUser(stack.mdaUser);
    userMaildir = path.join(user.home, 'Maildir');
    // the log file mda writes as the test user
    fs.mkdirSync(logDir, { recursive: true });
    fs.chownSync(logDir, user.uid, user.gid);
    fs.chmodSync(logDir, 0o755);
    console.info(`[postfix e2e] stack up in ${Date.now() - t0} ms on port ${stack.smtpPort} (${DIR}), mda: ${mda}`);
  });

  let failed = false;
  afterAll(() => {
    // keep the folder (logs, queue, config) for a look when something failed
    if (!stack) failed = true; // beforeAll failed part-way
    if (DIR) stopRealstack(DIR, { purge: !failed });
    if (failed && DIR) console.error(`[postfix e2e] state kept in ${DIR}`);
  });

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') {
      failed = true;
      console.error(`[postfix e2e] mda log (${MDA_LOG}):\n${tail(MDA_LOG)}\n[postfix e2e] maillog:\n${tail(stack?.maillog ?? '')}`);
    }
    if (CONFIG) writeConfig(); // each test starts from the good config
  });

  const rcpt = () => `${stack.mdaUser}@${stack.domain}`;

  it('delivers a message to ~/Maildir/new byte-exact, owned by the user, mode 0600', async () => {
    const tok = token();
    const body = [
      `Hello ${tok}.`,
      'From here on, a body line starting with "From " must not be quoted.',
      '.a line starting with a dot (dot-stuffed on the wire)',
      '..two dots',
      '>From stays as it is',
      'ünïcödé ✓',
      '',
      'last line',
      '',
    ].join('\n');
    const sent = message(tok, 'e2e normal', body);
    const { queueId } = await smtpSend({ port: stack.smtpPort, from: SENDER, to: rcpt(), data: sent });
    expect(queueId).not.toBe('');

    const st = await waitForStatus(stack, queueId);
    expect(st.status, st.line).toBe('sent');
    expect(st.dsn).toBe('2.0.0');
    expect(st.text).toContain('delivered to command:');

    const files = findInMaildir(userMaildir, tok);
    expect(files, `a file with ${tok} in ${userMaildir}/new`).toHaveLength(1);
    const file = files[0]!;
    const s = fs.statSync(file);
    expect(s.uid).toBe(user.uid);
    expect(s.mode & 0o777).toBe(0o600);
    expect(findInMaildir(userMaildir, tok, 'tmp'), 'nothing left in tmp/').toEqual([]);

    const stored = fs.readFileSync(file);
    const storedText = stored.toString('latin1');
    const sentBytes = Buffer.from(sent, 'utf8');
    // no mbox From_ line; the envelope headers Postfix prepends are kept
    expect(storedText.startsWith('From ')).toBe(false);
    expect(storedText).not.toMatch(/^From \S+ {2}/m);
    expect(storedText).toMatch(new RegExp(`^Return-Path: <${SENDER}>$`, 'm'));
    expect(storedText).toMatch(new RegExp(`^Delivered-To: ${rcpt()}$`, 'm'));
    expect(storedText).toContain(`Subject: e2e normal ${tok}`);
    expect(storedText).toContain(`Hello ${tok}.`);
    // byte-exact: what was sent, preceded only by the header fields Postfix adds
    expect(stored.subarray(stored.length - sentBytes.length).equals(sentBytes), 'stored file ends with the exact message sent').toBe(true);
    const added = stored.subarray(0, stored.length - sentBytes.length).toString('latin1');
    const names = added
      .split('\n')
      .filter((l) => l !== '' && !/^[ \t]/.test(l))
      .map((l) => l.slice(0, l.indexOf(':')));
    expect(names, `header fields before the message:\n${added}`).toEqual([
      'Return-Path',
      'X-Original-To',
      'Delivered-To',
      'Received',
    ]);
    fs.rmSync(file);
  });

  it("README's grep by Message-ID finds Postfix's lines (cleanup, qmgr, local's status=sent) and mda's delivery line", async () => {
    const tok = token();
    const { queueId } = await smtpSend({ port: stack.smtpPort, from: SENDER, to: rcpt(), data: message(tok, 'e2e grep', `body ${tok}\n`) });
    expect((await waitForStatus(stack, queueId)).status).toBe('sent');
    // The commands of README "Logging" (there: /var/log/mail.log, mda's lines in it through syslog).
    const script = [
      'id="$1"; shift',
      'grep -hF -- "$id" "$@"',
      'for q in $(grep -hF -- ": message-id=$id" "$@" | sed -E \'s/.* ([0-9A-Za-z]+): message-id=.*/\\1/\' | sort -u); do',
      '  grep -hF -- " $q: " "$@"',
      'done',
    ].join('\n');
    let found = '';
    for (let i = 0; i < 50 && !(/msgid=.* status=delivered/.test(found) && found.includes(`${queueId}: removed`)); i++) {
      // grep exits 1 until the last line it looks for is written: keep what it printed and look again.
      try {
        found = execFileSync('bash', ['-c', script, 'grep-by-id', `<${tok}@sender.test>`, stack.maillog, MDA_LOG], { encoding: 'utf8' });
      } catch (err) {
        found = String((err as { stdout?: string }).stdout ?? '');
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const lines = found.trimEnd().split('\n');
    expect(lines.some((l) => l.includes(`postfix/cleanup`) && l.includes(`${queueId}: message-id=<${tok}@sender.test>`)), found).toBe(true);
    expect(lines.some((l) => /postfix\/local\[\d+\]: /.test(l) && l.includes(`${queueId}: to=<${rcpt()}>`) && l.includes('status=sent (delivered to command:')), found).toBe(true);
    expect(lines.some((l) => l.includes(`${queueId}: removed`)), found).toBe(true);
    expect(lines.some((l) => new RegExp(`mda\\[\\d+\\]: user=\\S+ from=<${SENDER}> to=<${rcpt()}> msgid=<${tok}@sender\\.test> .*status=delivered dsn=2\\.0\\.0`).test(l)), found).toBe(true);
  });

  it('defers (does not bounce) when the config is invalid: exit 75 with 4.3.5', async () => {
    writeConfig({ raw: '[delivery\nthis is = = not toml\n' });
    const tok = token();
    const { queueId } = await smtpSend({
      port: stack.smtpPort,
      from: SENDER,
      to: rcpt(),
      data: message(tok, 'e2e bad config', `body ${tok}\n`),
    });
    const st = await waitForStatus(stack, queueId);
    expect(st.status, st.line).toBe('deferred');
    expect(st.dsn, st.line).toBe('4.3.5');
    // the defer reason is mda's own text, which postqueue shows too
    expect(st.text).not.toMatch(/^temporary failure/);
    const queue = listQueue(stack);
    expect(queue).toContain(queueId);
    const reason = squash(st.text).slice(0, 30);
    expect(reason.length).toBeGreaterThan(0);
    expect(squash(queue), `postqueue -p:\n${queue}`).toContain(reason);
    // still no bounce a moment later, and nothing delivered
    await new Promise((r) => setTimeout(r, 1000));
    expect(bouncesFor(stack, queueId)).toEqual([]);
    expect(findInMaildir(userMaildir, tok)).toEqual([]);
  });

  it('defers (does not bounce) when the Maildir cannot be written', async () => {
    // a Maildir under a root-owned folder: the test user may not create it
    const locked = path.join(DIR, 'locked');
    fs.rmSync(locked, { recursive: true, force: true });
    fs.mkdirSync(locked, { mode: 0o755 });
    fs.chmodSync(locked, 0o755);
    writeConfig({ maildir: path.join(locked, 'Maildir') });
    const tok = token();
    const { queueId } = await smtpSend({
      port: stack.smtpPort,
      from: SENDER,
      to: rcpt(),
      data: message(tok, 'e2e unwritable', `body ${tok}\n`),
    });
    const st = await waitForStatus(stack, queueId);
    expect(st.status, st.line).toBe('deferred');
    expect(st.dsn, st.line).toMatch(/^4\.\d+\.\d+$/);
    expect(listQueue(stack)).toContain(queueId);
    await new Promise((r) => setTimeout(r, 1000));
    expect(bouncesFor(stack, queueId)).toEqual([]);
    expect(fs.readdirSync(locked)).toEqual([]);
  });

  it('bounces a message over max_message_size with 5.2.3', async () => {
    const tok = token();
    const line = `${'x'.repeat(76)}\n`;
    const body = `big ${tok}\n${line.repeat(Math.ceil((MAX_SIZE * 1.5) / line.length))}`;
    const { queueId } = await smtpSend({
      port: stack.smtpPort,
      from: SENDER,
      to: rcpt(),
      data: message(tok, 'e2e too big', body),
    });
    const st = await waitForStatus(stack, queueId);
    expect(st.status, st.line).toBe('bounced');
    expect(st.dsn, st.line).toBe('5.2.3');
    const bounce = await waitForBounce(stack, queueId);
    expect(bounce).toMatch(/^Status: 5\.2\.3\s*$/m);
    expect(bounce).toMatch(/^Action: failed\s*$/m);
    expect(bounce).toMatch(new RegExp(`^Final-Recipient: rfc822; ${rcpt()}\\s*$`, 'm'));
    expect(findInMaildir(userMaildir, tok)).toEqual([]);
  });
});
