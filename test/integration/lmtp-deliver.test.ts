/**
 * `mda lmtp` delivering, as the built CLI on a unix socket: replies per
 * recipient after the dot (RFC 2033 §4.2), byte-exact stored copies sharing
 * one inode, Delivered-To for a single recipient, refusals at RCPT (unknown
 * user, over quota), pipelining, the size limit, and a client that vanishes
 * mid-DATA. As root the server runs as `[lmtp] user = "nobody"` (virtual
 * users mode) over a tree that uid owns; otherwise as the test's own uid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lmtpClient, transaction, type LmtpClient } from '../helpers/lmtp-client.js';
import { chownTree as chownTreeTo, listDir, MDA, tempDir } from '../helpers/run-mda.js';

const isRoot = process.getuid?.() === 0;
const MAIL_UID = isRoot ? 65534 : process.getuid!();

let dir: string;
let cleanup: () => void;
const children: ChildProcess[] = [];
const clients: LmtpClient[] = [];

beforeEach(() => {
  ({ dir, cleanup } = tempDir('mda-lmtp-deliver-'));
  chmodSync(dir, 0o755); // nobody must reach the tree below
});
afterEach(() => {
  for (const c of clients.splice(0)) c.raw.socket.destroy();
  for (const ch of children.splice(0)) if (ch.exitCode === null && ch.signalCode === null) ch.kill('SIGKILL');
  cleanup();
});

const mail = (u: string) => join(dir, 'mail', u);
const spoolDir = () => join(dir, 'mail', '.spool');

const chownTree = (path: string): void => chownTreeTo(path, MAIL_UID, MAIL_UID);

/** startServer writes the config and starts `mda lmtp`; resolves once it answers. */
async function startServer(extra = '', opts: { users?: string[]; systemUsers?: boolean; path?: string; log?: string } = {}): Promise<{ sock: string; child: ChildProcess; output: () => string }> {
  mkdirSync(join(dir, 'mail'), { recursive: true });
  if (!opts.systemUsers) chownTree(join(dir, 'mail'));
  const cfg = join(dir, 'mda.toml');
  const sock = join(dir, 'lmtp.sock');
  const users = (opts.users ?? ['alice', 'bob', 'carol', 'dave']).map((u) => `[users.${u}]\nmaildir = "${mail(u)}"\n`).join('');
  const asUser = isRoot && !opts.systemUsers ? 'user = "nobody"\n' : '';
  writeFileSync(cfg, `[log]\ntarget = "${opts.log ?? 'none'}"\n[lmtp]\n${asUser}spool_dir = "${spoolDir()}"\n${extra}\n${users}`);
  const child = spawn(process.execPath, [MDA, 'lmtp', '--listen', `unix:${sock}`, '--config', cfg], { env: { PATH: opts.path ?? process.env.PATH, HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  for (let i = 0; !existsSync(sock); i++) {
    if (i > 300 || child.exitCode !== null) throw new Error(`mda lmtp did not start: ${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { sock, child, output: () => output };
}

async function connect(sock: string): Promise<LmtpClient> {
  const c = await lmtpClient(sock);
  clients.push(c);
  expect(await c.reply()).toMatch(/^220 /);
  c.send('LHLO client.test\r\n');
  expect(await c.reply()).toMatch(/^250-/);
  return c;
}

const messages = (u: string) => listDir(join(mail(u), 'new')).map((n) => join(mail(u), 'new', n));

const BODY = 'Subject: lmtp test\r\nDelivered-To: someone-else@example.org\r\n\r\n.leading dot\r\nline two\r\n';
const STORED = 'Subject: lmtp test\nDelivered-To: someone-else@example.org\n\n.leading dot\nline two\n';

describe('mda lmtp delivers (built CLI)', () => {
  it('RFC 2033 §4.2: two recipients get one 250 each after the dot; copies are byte-exact (LF, dot-unstuffed, Return-Path) and share one inode', async () => {
    const { sock } = await startServer();
    const c = await connect(sock);
    c.send(transaction('sender@example.org', ['alice@example.com', 'bob@example.com'], BODY));
    const r = await c.replies(6);
    expect(r.slice(0, 4)).toEqual(['250 2.1.0 Ok', '250 2.1.5 Ok', '250 2.1.5 Ok', expect.stringMatching(/^354 /)]);
    expect(r[4]).toMatch(/^250 2\.0\.0 <alice@example\.com>/);
    expect(r[5]).toMatch(/^250 2\.0\.0 <bob@example\.com>/);
    const [a, b] = [messages('alice'), messages('bob')];
    expect([a.length, b.length]).toEqual([1, 1]);
    const want = `Return-Path: <sender@example.org>\n${STORED}`;
    expect(readFileSync(a[0]!, 'utf8')).toBe(want);
    expect(readFileSync(b[0]!, 'utf8')).toBe(want);
    expect(statSync(a[0]!).ino).toBe(statSync(b[0]!).ino);
    expect(statSync(a[0]!).uid).toBe(MAIL_UID);
    expect(listDir(join(spoolDir(), 'tmp'))).toEqual([]); // spool discarded
  });

  it("each recipient's log line names the Message-ID (msgid=, as deliver's line), so an admin can find it by the ID Postfix logs", async () => {
    const { sock, output } = await startServer('', { log: 'stderr' });
    const c = await connect(sock);
    c.send(transaction('s@example.org', ['alice@example.com'], 'Message-ID: <lmtp-log-1@example.org>\r\nSubject: x\r\n\r\ny\r\n'));
    expect((await c.replies(4))[3]).toMatch(/^250 /);
    for (let i = 0; i < 100 && !output().includes('to=<alice@example.com>'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(output()).toMatch(/^mda: lmtp \d+: from=<s@example\.org> to=<alice@example\.com> user=alice msgid=<lmtp-log-1@example\.org>: delivered to INBOX$/m);
  });

  it('the recipient resolved at RCPT is the one delivered to: no second account lookup (getent) per copy', async () => {
    // A getent on PATH that records each call: a [users] entry is never a system account here,
    // so any lookup of it would reach NSS through getent.
    const bin = join(dir, 'bin');
    const calls = join(dir, 'getent.calls');
    mkdirSync(bin);
    writeFileSync(calls, '', { mode: 0o666 });
    chmodSync(calls, 0o666);
    writeFileSync(join(bin, 'getent'), `#!/bin/sh\necho "$*" >> ${calls}\nexec /usr/bin/getent "$@"\n`, { mode: 0o755 });
    const { sock } = await startServer('', { path: `${bin}:${process.env.PATH}` });
    const c = await connect(sock);
    c.send(transaction('s@example.org', ['alice@example.com', 'bob@example.com'], 'Subject: x\r\n\r\ny\r\n'));
    const r = await c.replies(6);
    expect(r.slice(4)).toEqual([expect.stringMatching(/^250 /), expect.stringMatching(/^250 /)]);
    expect([messages('alice').length, messages('bob').length]).toEqual([1, 1]);
    expect(readFileSync(calls, 'utf8').split('\n').filter((l) => /alice|bob/.test(l))).toEqual([]);
  });

  it('a single recipient gets Return-Path then Delivered-To (as Dovecot LMTP adds them)', async () => {
    const { sock } = await startServer();
    const c = await connect(sock);
    c.send(transaction('', ['alice+lists@example.com'], 'Subject: one\r\n\r\nbody\r\n'));
    const r = await c.replies(4);
    expect(r[3]).toMatch(/^250 2\.0\.0 <alice\+lists@example\.com>/);
    expect(readFileSync(messages('alice')[0]!, 'utf8')).toBe('Return-Path: <>\nDelivered-To: alice+lists@example.com\nSubject: one\n\nbody\n');
  });

  it('loop detection: a message already carrying Delivered-To for the recipient is refused with 5.4.6, the other recipient delivered', async () => {
    const { sock } = await startServer();
    const c = await connect(sock);
    c.send(transaction('s@example.org', ['alice@example.com', 'bob@example.com'], 'Delivered-To: bob@example.com\r\nSubject: loop\r\n\r\nx\r\n'));
    const r = await c.replies(6);
    expect(r[4]).toMatch(/^250 2\.0\.0 <alice@example\.com>/);
    expect(r[5]).toMatch(/^5\d\d 5\.4\.6 /);
    expect(messages('bob')).toEqual([]);
  });

  it('RFC 3463 X.1.1: an unknown user is refused at RCPT with 550 5.1.1; DATA with no valid recipient is 503 (RFC 2033 §4.2)', async () => {
    const { sock } = await startServer();
    const c = await connect(sock);
    c.send('MAIL FROM:<s@example.org>\r\nRCPT TO:<nosuchuser@example.com>\r\nDATA\r\n');
    const r = await c.replies(3);
    expect(r[1]).toMatch(/^550 5\.1\.1 /);
    expect(r[2]).toMatch(/^503 /);
  });

  it.each([
    ['defer', /^452 4\.2\.2 /],
    ['bounce', /^552 5\.2\.2 /],
  ])('RFC 1870 / RFC 3463 X.2.2: over quota with SIZE and over_quota = "%s" is refused at RCPT', async (policy, want) => {
    for (const sub of ['tmp', 'new', 'cur']) mkdirSync(join(mail('dave'), sub), { recursive: true });
    writeFileSync(join(mail('dave'), 'maildirsize'), '10000S\n9500 4\n');
    const { sock } = await startServer(`[quota]\nstorage = "10000"\nover_quota = "${policy}"\n`);
    const c = await connect(sock);
    c.send('MAIL FROM:<s@example.org> SIZE=1000\r\nRCPT TO:<dave@example.com>\r\nRCPT TO:<alice@example.com>\r\n');
    const r = await c.replies(3);
    expect(r[1]).toMatch(want);
    expect(r[2]).toBe('250 2.1.5 Ok');
  });

  it('RFC 2920 pipelining: two transactions in one write get all their replies in order', async () => {
    const { sock } = await startServer();
    const c = await connect(sock);
    c.send(transaction('s@example.org', ['alice@example.com'], 'Subject: first\r\n\r\n1\r\n') + transaction('s@example.org', ['bob@example.com'], 'Subject: second\r\n\r\n2\r\n') + 'QUIT\r\n');
    const r = await c.replies(9);
    expect(r[3]).toMatch(/^250 2\.0\.0 <alice@example\.com>/);
    expect(r[7]).toMatch(/^250 2\.0\.0 <bob@example\.com>/);
    expect(r[8]).toMatch(/^221 /);
    expect(readFileSync(messages('alice')[0]!, 'utf8')).toContain('Subject: first\n\n1\n');
    expect(readFileSync(messages('bob')[0]!, 'utf8')).toContain('Subject: second\n\n2\n');
  });

  it('RFC 2033 §4.2: three recipients, the second failing at commit (unsafe Maildir): 250, 4xx, 250 in RCPT order', async () => {
    for (const sub of ['tmp', 'new', 'cur']) mkdirSync(join(mail('carol'), sub), { recursive: true });
    const { sock } = await startServer();
    chmodSync(mail('carol'), 0o777); // world-writable: mda refuses it and defers
    const c = await connect(sock);
    c.send(transaction('s@example.org', ['alice@example.com', 'carol@example.com', 'bob@example.com'], 'Subject: three\r\n\r\nx\r\n'));
    const r = await c.replies(8);
    expect(r[5]).toMatch(/^250 2\.0\.0 <alice@example\.com>/);
    expect(r[6]).toMatch(/^4\d\d 4\.\d+\.\d+ <carol@example\.com>/);
    expect(r[7]).toMatch(/^250 2\.0\.0 <bob@example\.com>/);
    expect(messages('carol')).toEqual([]);
    expect([messages('alice').length, messages('bob').length]).toEqual([1, 1]);
  });

  it('RFC 1870 / RFC 3463 X.3.4: a message over max_message_size gets 552 5.3.4 per recipient after the dot, nothing stored', async () => {
    const { sock } = await startServer('[delivery]\nmax_message_size = "2K"\n');
    const c = await connect(sock);
    c.send(transaction('s@example.org', ['alice@example.com', 'bob@example.com'], `Subject: big\r\n\r\n${'y'.repeat(5000)}\r\n`) + 'NOOP\r\n');
    const r = await c.replies(7);
    expect(r[4]).toMatch(/^552 5\.3\.4 /);
    expect(r[5]).toMatch(/^552 5\.3\.4 /);
    expect(r[6]).toMatch(/^250 /); // in sync: the NOOP after the dot is a command
    expect([messages('alice'), messages('bob')]).toEqual([[], []]);
    expect(listDir(join(spoolDir(), 'tmp'))).toEqual([]);
  });

  it('a client gone mid-DATA: nothing stored, no spool file left, the next client is served', async () => {
    const { sock } = await startServer();
    const c = await connect(sock);
    c.send(`MAIL FROM:<s@example.org>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\nSubject: cut\r\n\r\n${'z'.repeat(100_000)}\r\n`);
    await c.replies(3);
    c.raw.socket.destroy();
    const next = await connect(sock);
    next.send(transaction('s@example.org', ['bob@example.com'], 'Subject: after\r\n\r\nok\r\n'));
    const r = await next.replies(4);
    expect(r[3]).toMatch(/^250 2\.0\.0 <bob@example\.com>/);
    for (let i = 0; listDir(join(spoolDir(), 'tmp')).length > 0 && i < 100; i++) await new Promise((res) => setTimeout(res, 50));
    expect(listDir(join(spoolDir(), 'tmp'))).toEqual([]);
    expect(messages('alice')).toEqual([]);
    expect(listDir(join(mail('alice'), 'tmp'))).toEqual([]);
  });
});

/** System accounts (uid, primary gid) to deliver to as root. */
const SYSTEM_USERS = ['daemon', 'bin', 'nobody'].map((name) => {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  const f = line?.split(':') ?? [];
  return { name, uid: Number(f[2]), gid: Number(f[3]) };
});

describe.skipIf(!isRoot || SYSTEM_USERS.some((u) => !Number.isInteger(u.uid)))('mda lmtp as root without [lmtp] user (system users mode)', () => {
  it('each recipient is committed by its own uid (per-uid workers of the CLI): 250 each, files owned by that uid', async () => {
    mkdirSync(join(dir, 'mail'), { recursive: true, mode: 0o755 });
    for (const u of SYSTEM_USERS) {
      mkdirSync(mail(u.name), { mode: 0o700 });
      chownSync(mail(u.name), u.uid, u.gid);
    }
    const { sock } = await startServer('', { users: SYSTEM_USERS.map((u) => u.name), systemUsers: true });
    const c = await connect(sock);
    const to = SYSTEM_USERS.map((u) => `${u.name}@example.com`);
    c.send(transaction('s@example.org', to, 'Subject: system\r\n\r\nx\r\n') + transaction('s@example.org', [to[0]!], 'Subject: single\r\n\r\ny\r\n'));
    const r = await c.replies(2 + to.length + to.length + 4);
    expect(r.slice(2 + to.length, 2 + 2 * to.length)).toEqual(to.map((t) => expect.stringMatching(new RegExp(`^250 2\\.0\\.0 <${t}>`))));
    expect(r.at(-1)).toMatch(/^250 2\.0\.0 <daemon@example\.com>/);
    for (const u of SYSTEM_USERS) {
      const files = messages(u.name);
      expect(files).toHaveLength(u.name === 'daemon' ? 2 : 1);
      for (const f of files) expect([statSync(f).uid, statSync(f).gid]).toEqual([u.uid, u.gid]);
    }
    expect(listDir(join(spoolDir(), 'tmp'))).toEqual([]);
  });
});
