/**
 * End to end: a real Postfix (scripts/realstack/up.sh) hands local mail to the
 * built `mda lmtp` over a unix socket, the documented system-users setup:
 * `mailbox_transport = lmtp:unix:private/mda` (relative to the instance's queue
 * directory, where Postfix's lmtp(8) client runs; unchrooted in this instance's
 * master.cf), the server started as root without `[lmtp] user` and listening
 * on `<queue_directory>/private/mda` with `[lmtp] socket_owner = "postfix"`,
 * `socket_mode = "0600"`. Two system users (created here with useradd, homes
 * under the run dir, removed afterwards) with `[delivery] maildir =
 * "~/Maildir"`: a message to one is stored in that user's Maildir, owned by
 * that user; a message to both gives each one copy, each owned by its user.
 *
 * Needs root, useradd and the postfix package; skipped with a warning
 * otherwise, except in CI (CI=true) or with MDA_E2E_REQUIRED=1. Build first
 * (`npm run build`).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lmtpClient } from '../helpers/lmtp-client.js';
import { startLmtpServer, type LmtpServer } from '../helpers/lmtp-server.js';
import {
  deliveryStatuses,
  freePort,
  installApp,
  lookupUser,
  maillogLines,
  realstackSkipReason,
  runDir,
  startRealstack,
  stopRealstack,
  type Realstack,
  type UnixUser,
} from '../helpers/realstack.js';
import { smtpSend } from '../helpers/smtp-send.js';

const hasUseradd = spawnSync('sh', ['-c', 'command -v useradd && command -v userdel'], { stdio: 'ignore' }).status === 0;
const skipReason = realstackSkipReason(['postfix']) ?? (hasUseradd ? null : 'useradd/userdel missing');
const required = process.env.CI === 'true' || process.env.MDA_E2E_REQUIRED === '1';
if (skipReason && !required) console.warn(`\n*** SKIPPED test/e2e/postfix-lmtp-unix.test.ts: ${skipReason} ***\n`);

const SENDER = 'alice@sender.test';
const NAMES = ['mdalu1', 'mdalu2'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function message(tok: string): string {
  return [`From: Alice <${SENDER}>`, `Subject: lmtp unix ${tok}`, `Message-ID: <${tok}@sender.test>`, '', `Hello ${tok}.`, ''].join('\n');
}

function removeUser(name: string): void {
  spawnSync('userdel', [name], { stdio: 'ignore' });
  spawnSync('groupdel', [name], { stdio: 'ignore' });
}

const toOf = (line: string) => /: to=<([^>]*)>/.exec(line)?.[1] ?? '';

describe.skipIf(skipReason !== null && !required)('mda lmtp on a unix socket in Postfix\'s private/ as mailbox_transport (real Postfix, system users)', () => {
  let dir = '';
  let stack: Realstack;
  let server: LmtpServer | undefined;
  let sock = '';
  const users: UnixUser[] = [];

  const maildirNew = (u: UnixUser) => path.join(u.home, 'Maildir', 'new');
  const stored = (u: UnixUser, tok: string) =>
    (fs.existsSync(maildirNew(u)) ? fs.readdirSync(maildirNew(u)) : []).map((n) => path.join(maildirNew(u), n)).filter((f) => fs.readFileSync(f, 'latin1').includes(tok));
  const rcpt = (u: UnixUser) => `${u.name}@${stack.domain}`;

  /** Wait (bounded) until each recipient of queueId has a status= line; returns them by recipient. */
  async function statuses(queueId: string, to: string[]): Promise<Map<string, string>> {
    for (let i = 0; ; i++) {
      const got = new Map(deliveryStatuses(stack, queueId).map((s) => [toOf(s.line), s.line]));
      if (to.every((t) => got.has(t))) return got;
      if (i > 300) throw new Error(`no status for every recipient of ${queueId}:\n${maillogLines(stack, queueId)}\nmda: ${server?.output()}`);
      await sleep(100);
    }
  }

  beforeAll(async () => {
    if (skipReason) throw new Error(`e2e prerequisites missing (required here): ${skipReason}`);
    dir = runDir('/tmp/mda-e2e-lmtp-unix');
    fs.mkdirSync(dir, { recursive: true });
    fs.chmodSync(dir, 0o755);
    const mda = installApp(path.join(dir, 'app'));
    stack = startRealstack({ dir, smtpPort: await freePort(), services: ['postfix'], env: { REALSTACK_MAILBOX_TRANSPORT: 'lmtp:unix:private/mda' } });
    const queueDir = execFileSync('postconf', ['-c', stack.postfixConfig, '-h', 'queue_directory'], { encoding: 'utf8' }).trim();
    sock = path.join(queueDir, 'private', 'mda');

    fs.mkdirSync(path.join(dir, 'home'), { mode: 0o755 });
    for (const name of NAMES) {
      removeUser(name); // a run killed before afterAll
      const home = path.join(dir, 'home', name);
      execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', home, '--shell', '/usr/sbin/nologin', name], { stdio: 'ignore' });
      fs.mkdirSync(home, { mode: 0o700 });
      const u = lookupUser(name);
      fs.chownSync(home, u.uid, u.gid);
      users.push(u);
    }
    const config = path.join(dir, 'mda.toml');
    fs.writeFileSync(config, [
      '[delivery]', 'deadline = "30s"', 'maildir = "~/Maildir"',
      '[log]', `target = "file:${path.join(dir, 'mda.log')}"`,
      '[lmtp]', `spool_dir = "${path.join(dir, 'spool')}"`, 'socket_owner = "postfix"', 'socket_mode = "0600"', '',
    ].join('\n'), { mode: 0o600 });
    server = await startLmtpServer({ listen: `unix:${sock}`, config, mda });
    // The socket answers from bind(2) on; chmod/chown (and the protocol) come after it: a greeting says all is done.
    const probe = await lmtpClient(sock, 30_000);
    expect(await probe.reply()).toMatch(/^220 /);
    probe.raw.socket.destroy();
  });

  afterAll(async () => {
    await server?.stop('SIGKILL');
    if (dir) stopRealstack(dir, { purge: true });
    for (const name of NAMES) removeUser(name);
  });

  it('the socket in private/ is Postfix\'s (socket_owner = "postfix", mode 0600)', () => {
    const st = fs.lstatSync(sock);
    expect(st.isSocket()).toBe(true);
    expect([st.uid, st.mode & 0o777]).toEqual([lookupUser('postfix').uid, 0o600]);
  });

  it('RFC 2033 §4.2: a message to a system user is delivered (status=sent via lmtp:unix) into ~/Maildir, owned by that user', async () => {
    const [u] = users as [UnixUser];
    const tok = `unix-${randomBytes(4).toString('hex')}`;
    const { queueId } = await smtpSend({ port: stack.smtpPort, from: SENDER, to: rcpt(u), data: message(tok), timeoutMs: 30_000 });
    const line = (await statuses(queueId, [rcpt(u)])).get(rcpt(u))!;
    expect(line).toMatch(/ status=sent /);
    expect(line).toMatch(/relay=[^,]*private\/mda/);
    const files = stored(u, tok);
    expect(files).toHaveLength(1);
    const text = fs.readFileSync(files[0]!, 'utf8');
    expect(text.startsWith(`Return-Path: <${SENDER}>\nDelivered-To: ${rcpt(u)}\n`)).toBe(true);
    expect(text.endsWith(`\n${message(tok)}`)).toBe(true);
    for (const p of [files[0]!, maildirNew(u), path.dirname(maildirNew(u))]) expect([fs.statSync(p).uid, fs.statSync(p).gid], p).toEqual([u.uid, u.gid]);
  });

  it('RFC 2033 §4.2: a message to two system users at once: each gets one copy, owned by that user', async () => {
    const tok = `unix-${randomBytes(4).toString('hex')}`;
    const to = users.map(rcpt);
    const { queueId } = await smtpSend({ port: stack.smtpPort, from: SENDER, to, data: message(tok), timeoutMs: 30_000 });
    const got = await statuses(queueId, to);
    for (const t of to) expect(got.get(t)).toMatch(/ status=sent /);
    for (const u of users) {
      const files = stored(u, tok);
      expect(files, u.name).toHaveLength(1);
      expect([fs.statSync(files[0]!).uid, fs.statSync(files[0]!).gid]).toEqual([u.uid, u.gid]);
      expect(fs.readFileSync(files[0]!, 'utf8').endsWith(`\n${message(tok)}`)).toBe(true);
    }
    expect(fs.readdirSync(path.join(dir, 'spool', 'tmp'))).toEqual([]);
  });
}, 60_000);
