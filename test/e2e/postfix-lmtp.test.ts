/**
 * End to end: a real Postfix (scripts/realstack/up.sh) hands local mail to the
 * built `mda lmtp` with `mailbox_transport = lmtp:inet:127.0.0.1:PORT`, the
 * server started as root without `[lmtp] user` (system users: each copy is
 * committed by the recipient's uid). Checks what Postfix's lmtp(8) client
 * makes of mda's replies: a delivery (status=sent, the copy byte-exact with
 * Return-Path and Delivered-To, owned by the user), and a mailbox over quota
 * with over_quota = "defer": refused at RCPT (452 4.2.2), deferred by Postfix,
 * delivered by its retry once space is freed.
 *
 * Needs root and the postfix package; skipped with a warning otherwise, except
 * in CI (CI=true) or with MDA_E2E_REQUIRED=1. Build first (`npm run build`).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deliveryStatuses,
  freePort,
  installApp,
  listQueue,
  lookupUser,
  realstackSkipReason,
  runDir,
  startRealstack,
  stopRealstack,
  waitForStatus,
  type Realstack,
  type UnixUser,
} from '../helpers/realstack.js';
import { smtpSend } from '../helpers/smtp-send.js';

const skipReason = realstackSkipReason(['postfix']);
const required = process.env.CI === 'true' || process.env.MDA_E2E_REQUIRED === '1';
if (skipReason && !required) console.warn(`\n*** SKIPPED test/e2e/postfix-lmtp.test.ts: ${skipReason} ***\n`);

const SENDER = 'alice@sender.test';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function message(tok: string): string {
  return [`From: Alice <${SENDER}>`, `Subject: lmtp ${tok}`, `Message-ID: <${tok}@sender.test>`, '', `Hello ${tok}.`, '.a dot line', ''].join('\n');
}

async function waitForPort(port: number, server: ChildProcess, output: () => string): Promise<void> {
  for (let i = 0; ; i++) {
    const ok = await new Promise<boolean>((res) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => (s.destroy(), res(true)));
      s.on('error', () => res(false));
    });
    if (ok) return;
    if (i > 200 || server.exitCode !== null) throw new Error(`mda lmtp did not start: ${output()}`);
    await sleep(50);
  }
}

describe.skipIf(skipReason !== null && !required)('mda lmtp as Postfix mailbox_transport (real Postfix)', () => {
  let dir = '';
  let stack: Realstack;
  let user: UnixUser;
  let maildir: string;
  let server: ChildProcess | undefined;
  let serverOutput = '';

  beforeAll(async () => {
    if (skipReason) throw new Error(`e2e prerequisites missing (required here): ${skipReason}`);
    dir = runDir('/tmp/mda-e2e-lmtp');
    fs.mkdirSync(dir, { recursive: true });
    fs.chmodSync(dir, 0o755);
    const mda = installApp(path.join(dir, 'app'));
    const port = await freePort();
    stack = startRealstack({ dir, smtpPort: await freePort(), services: ['postfix'], env: { REALSTACK_MAILBOX_TRANSPORT: `lmtp:inet:127.0.0.1:${port}` } });
    user = lookupUser(stack.mdaUser);
    // A Maildir of this test's own (not ~/Maildir, which other e2e files use).
    maildir = path.join(dir, 'maildir');
    fs.mkdirSync(maildir, { mode: 0o700 });
    fs.chownSync(maildir, user.uid, user.gid);
    const config = path.join(dir, 'mda.toml');
    fs.writeFileSync(config, [
      '[delivery]', 'deadline = "60s"', '[quota]', 'over_quota = "defer"',
      '[log]', `target = "file:${path.join(dir, 'mda.log')}"`,
      '[lmtp]', `spool_dir = "${path.join(dir, 'spool')}"`,
      `[users.${user.name}]`, `maildir = "${maildir}"`, '',
    ].join('\n'));
    server = spawn(process.execPath, [mda, 'lmtp', '--listen', `127.0.0.1:${port}`, '--config', config], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH } });
    server.stdout!.on('data', (d) => (serverOutput += d));
    server.stderr!.on('data', (d) => (serverOutput += d));
    await waitForPort(port, server, () => serverOutput);
  });

  afterAll(() => {
    if (server && server.exitCode === null) server.kill('SIGTERM');
    if (dir) stopRealstack(dir, { purge: true });
  });

  const rcpt = () => `${stack.mdaUser}@${stack.domain}`;
  const stored = (tok: string) =>
    (fs.existsSync(path.join(maildir, 'new')) ? fs.readdirSync(path.join(maildir, 'new')) : [])
      .map((n) => path.join(maildir, 'new', n))
      .filter((f) => fs.readFileSync(f, 'latin1').includes(tok));

  it('RFC 2033 §4.2: delivered (status=sent via LMTP), stored byte-exact behind Return-Path and Delivered-To, owned by the user', async () => {
    const tok = `e2e-${randomBytes(4).toString('hex')}`;
    const { queueId } = await smtpSend({ port: stack.smtpPort, from: SENDER, to: rcpt(), data: message(tok) });
    const st = await waitForStatus(stack, queueId);
    expect(st.status, st.line).toBe('sent');
    expect(st.relay).toContain('127.0.0.1');
    const files = stored(tok);
    expect(files).toHaveLength(1);
    const text = fs.readFileSync(files[0]!, 'utf8');
    // Postfix's smtpd added its Received: field; mda adds only the first two lines and changes nothing else.
    expect(text.startsWith(`Return-Path: <${SENDER}>\nDelivered-To: ${rcpt()}\nReceived: from `)).toBe(true);
    expect(text.endsWith(`\n${message(tok)}`)).toBe(true);
    expect(text).not.toContain('\r');
    expect(fs.statSync(files[0]!).uid).toBe(user.uid);
    expect(serverOutput).toBe('');
  });

  it('RFC 3463 X.2.2: a full mailbox with over_quota = "defer" is refused at RCPT (452 4.2.2), deferred, and delivered by the retry once space is freed', async () => {
    const sizeFile = path.join(maildir, 'maildirsize');
    fs.writeFileSync(sizeFile, '1000S\n1000 1\n'); // maildirmake -q style header: the mailbox is full
    fs.chownSync(sizeFile, user.uid, user.gid);
    const tok = `e2e-${randomBytes(4).toString('hex')}`;
    const { queueId } = await smtpSend({ port: stack.smtpPort, from: SENDER, to: rcpt(), data: message(tok) });
    const first = await waitForStatus(stack, queueId);
    expect(first.status, first.line).toBe('deferred');
    expect(first.dsn).toBe('4.2.2');
    expect(stored(tok)).toEqual([]);

    fs.writeFileSync(sizeFile, '100000000S\n1000 1\n');
    execFileSync('postqueue', ['-c', stack.postfixConfig, '-f']);
    for (let i = 0; !deliveryStatuses(stack, queueId).some((s) => s.status === 'sent'); i++) {
      if (i > 300) throw new Error(`not delivered after the flush; queue:\n${listQueue(stack)}`);
      await sleep(100);
    }
    expect(stored(tok)).toHaveLength(1);
  });
});
