/**
 * Memory bounded per transaction whatever the message size: a 200 MB message
 * through the built `mda lmtp` is stored byte-exact (CRLF turned into LF,
 * dot-unstuffed, Return-Path and Delivered-To ahead of it) while the server's
 * peak resident set (VmHWM) stays well under the message's size: a server that held the
 * message (or a line of it) would need 200 MB or more. The < 100 MB goal itself is a
 * benchmark figure (`npm run bench -- lmtp`), not a test bar: an idle server is ~60 MB and
 * the peak ~98 MB, too close to pass or fail for the reason it names. As root the server runs as
 * `[lmtp] user = "nobody"`; otherwise as the test's own uid.
 */
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, createReadStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lmtpClient, type LmtpClient } from '../helpers/lmtp-client.js';
import { startLmtpServer, type LmtpServer } from '../helpers/lmtp-server.js';
import { listDir, tempDir, trackPeakRss } from '../helpers/run-mda.js';

const isRoot = process.getuid?.() === 0;
const MAIL_UID = isRoot ? 65534 : process.getuid!();

let dir: string;
let cleanup: () => void;
const servers: LmtpServer[] = [];
const clients: LmtpClient[] = [];

beforeEach(() => {
  ({ dir, cleanup } = tempDir('mda-lmtp-big-'));
  chmodSync(dir, 0o755);
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.raw.socket.destroy();
  for (const s of servers.splice(0)) await s.stop('SIGKILL');
  cleanup();
});

async function sha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

describe('mda lmtp streams large messages with flat memory', () => {
  it('RFC 2033 §4.2: a 200 MB message is stored byte-exact with the server\'s peak RSS under 150 MB, far below the message', { timeout: 110_000 }, async () => {
    const mail = join(dir, 'mail');
    const md = join(mail, 'alice');
    mkdirSync(md, { recursive: true });
    if (isRoot) for (const p of [mail, md]) chownSync(p, MAIL_UID, MAIL_UID);
    const cfg = join(dir, 'mda.toml');
    const sock = join(dir, 'lmtp.sock');
    writeFileSync(cfg, `[log]\ntarget = "none"\n[delivery]\nmax_message_size = "300M"\n[lmtp]\n${isRoot ? 'user = "nobody"\n' : ''}spool_dir = "${join(mail, '.spool')}"\n[users.alice]\nmaildir = "${md}"\n`);
    const server = await startLmtpServer({ listen: `unix:${sock}`, config: cfg });
    servers.push(server);
    const peak = trackPeakRss(server.child, 20);

    const c = await lmtpClient(sock, 100_000);
    clients.push(c);
    c.send('LHLO big.test\r\nMAIL FROM:<s@example.org> BODY=8BITMIME\r\nRCPT TO:<alice@example.com>\r\nDATA\r\n');
    const r = await c.replies(5);
    expect(r[4]).toMatch(/^354 /);

    // What the Maildir copy must hold: the two fields, then the message with LF line ends, unstuffed.
    const want = createHash('sha256');
    want.update('Return-Path: <s@example.org>\nDelivered-To: alice@example.com\n');
    const head = 'Subject: big\r\n\r\n';
    want.update('Subject: big\n\n');
    // About 1 KiB lines: 8-bit bytes, and a leading dot the client must stuff (".." on the wire, "." stored).
    const text = `.dot ${'0123456789abcdefghijklmnopqrstuvwxyz\xe9\xff'.repeat(26)}`.padEnd(1021, 'z');
    const wireLine = Buffer.from(`.${text}\r\n`, 'latin1');
    const storedLine = Buffer.from(`${text}\n`, 'latin1');
    const block = Buffer.concat(Array.from({ length: 256 }, () => wireLine)); // 256 KiB per write
    const storedBlock = Buffer.concat(Array.from({ length: 256 }, () => storedLine));
    const total = 200 * 1024 * 1024;
    const socket = c.raw.socket;
    socket.write(head);
    for (let sent = 0; sent < total; sent += block.length) {
      want.update(storedBlock);
      if (!socket.write(block)) await new Promise((res) => socket.once('drain', res));
    }
    socket.write('.\r\n');
    expect(await c.reply()).toMatch(/^250 2\.0\.0 <alice@example\.com>/);

    const files = listDir(join(md, 'new'));
    expect(files).toHaveLength(1);
    expect(await sha256(join(md, 'new', files[0]!))).toBe(want.digest('hex'));
    expect(peak()).toBeGreaterThan(0);
    expect(peak(), `peak RSS ${peak()} KiB`).toBeLessThan(150 * 1024);
    expect(server.output()).toBe('');
  });
});
