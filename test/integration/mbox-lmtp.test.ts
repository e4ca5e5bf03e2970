/**
 * `mda lmtp` delivering to mbox files: the same session as `mda deliver`, so
 * [users.NAME] mbox (and [delivery] mbox) decide the inbox there too. As root
 * the server runs as nobody (virtual users) over a tree that uid owns; the
 * message is spooled under [sieve] state_dir before the append.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lmtpClient, transaction, type LmtpClient } from '../helpers/lmtp-client.js';
import { startLmtpServer, type LmtpServer } from '../helpers/lmtp-server.js';
import { listDir, tempDir } from '../helpers/run-mda.js';

const isRoot = process.getuid?.() === 0;
const MAIL_UID = isRoot ? 65534 : process.getuid!();

let dir: string;
let cleanup: () => void;
const servers: LmtpServer[] = [];
const clients: LmtpClient[] = [];

beforeEach(() => {
  ({ dir, cleanup } = tempDir('mda-mbox-lmtp-'));
  chmodSync(dir, 0o755);
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.raw.socket.destroy();
  for (const s of servers.splice(0)) await s.stop('SIGKILL');
  cleanup();
});

async function startServer(extra: string[] = []): Promise<string> {
  const mail = join(dir, 'mail');
  mkdirSync(mail);
  if (isRoot) chownSync(mail, MAIL_UID, MAIL_UID);
  const cfg = join(dir, 'mda.toml');
  const sock = join(dir, 'lmtp.sock');
  writeFileSync(cfg, [
    '[log]', 'target = "none"',
    '[lmtp]', ...(isRoot ? ['user = "nobody"'] : []), `spool_dir = "${join(mail, '.spool')}"`,
    '[sieve]', `state_dir = "${mail}/%u/.mda"`,
    '[users.alice]', `mbox = "${mail}/alice.mbox"`, `maildir = "${mail}/%u/Maildir"`,
    '[users.bob]', `maildir = "${mail}/%u/Maildir"`,
    ...extra,
  ].join('\n') + '\n');
  servers.push(await startLmtpServer({ listen: `unix:${sock}`, config: cfg, env: { PATH: process.env.PATH, HOME: dir } }));
  return sock;
}

describe('mda lmtp with an mbox inbox', () => {
  it('alice (mbox) gets an mboxo entry with Return-Path and >From quoting; bob (Maildir) a Maildir file; one 250 each', async () => {
    const sock = await startServer();
    const c = await lmtpClient(sock);
    clients.push(c);
    expect(await c.reply()).toMatch(/^220 /);
    c.send('LHLO client.test\r\n');
    expect(await c.reply()).toMatch(/^250-/);
    c.send(transaction('sender@example.org', ['alice@example.com', 'bob@example.com'], 'Subject: via lmtp\r\n\r\nFrom the body\r\nend\r\n'));
    const r = await c.replies(6);
    expect(r[4], r.join("|")).toMatch(/^250 2\.0\.0 <alice@example\.com>/);
    expect(r[5]).toMatch(/^250 2\.0\.0 <bob@example\.com>/);
    const mbox = join(dir, 'mail', 'alice.mbox');
    const text = readFileSync(mbox, 'latin1');
    expect(text).toMatch(/^From sender@example\.org {2}\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\nReturn-Path: <sender@example\.org>\n/);
    expect(text.endsWith('Subject: via lmtp\n\n>From the body\nend\n\n')).toBe(true);
    expect(statSync(mbox).uid).toBe(MAIL_UID);
    expect(statSync(mbox).mode & 0o777).toBe(0o600);
    expect(listDir(join(dir, 'mail', 'alice', 'Maildir', 'new'))).toEqual([]);
    expect(listDir(join(dir, 'mail', 'bob', 'Maildir', 'new'))).toHaveLength(1);
    expect(existsSync(`${mbox}.lock`)).toBe(false);
  });

  it('RFC 1870 SIZE and the storage quota: an mbox at its limit is refused at RCPT by its file size (552 5.2.2), before DATA', async () => {
    const mail = join(dir, 'mail');
    const sock = await startServer(['[quota]', 'storage = "2000"']);
    const mbox = join(mail, 'alice.mbox');
    writeFileSync(mbox, `From x@y  Sat Nov 21 23:21:04 2026\nSubject: old\n\n${'o'.repeat(1950)}\n\n`);
    if (isRoot) chownSync(mbox, MAIL_UID, MAIL_UID);
    const c = await lmtpClient(sock);
    clients.push(c);
    expect(await c.reply()).toMatch(/^220 /);
    c.send('LHLO client.test\r\nMAIL FROM:<s@example.org> SIZE=100\r\nRCPT TO:<alice@example.com>\r\nRCPT TO:<bob@example.com>\r\n');
    const r = await c.replies(4);
    expect(r[2]).toMatch(/^552 5\.2\.2 /);
    expect(r[3]).toMatch(/^250 /); // bob's Maildir has no such file: accepted
    expect(statSync(mbox).size).toBeGreaterThanOrEqual(2000);
  });
});
