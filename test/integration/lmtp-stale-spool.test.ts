/**
 * Stale spool files: a server killed mid-DATA (SIGKILL: no chance to clean up)
 * leaves its transaction's file in `[lmtp] spool_dir`/tmp; the next start
 * removes such files once they are an hour old, and keeps younger ones (another
 * server of the same uid may share the directory and own them). As root the
 * server runs as `[lmtp] user = "nobody"`; otherwise as the test's own uid.
 */
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lmtpClient, type LmtpClient } from '../helpers/lmtp-client.js';
import { startLmtpServer, type LmtpServer } from '../helpers/lmtp-server.js';
import { listDir, tempDir } from '../helpers/run-mda.js';

const isRoot = process.getuid?.() === 0;
const MAIL_UID = isRoot ? 65534 : process.getuid!();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dir: string;
let cleanup: () => void;
const servers: LmtpServer[] = [];
const clients: LmtpClient[] = [];

beforeEach(() => {
  ({ dir, cleanup } = tempDir('mda-lmtp-stale-'));
  chmodSync(dir, 0o755);
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.raw.socket.destroy();
  for (const s of servers.splice(0)) await s.stop('SIGKILL');
  cleanup();
});

describe('mda lmtp removes stale spool files at start-up', () => {
  it('a file left by a server killed mid-DATA is removed by the next start once an hour old; a younger one is kept', async () => {
    const mail = join(dir, 'mail');
    const spool = join(mail, '.spool');
    const sock = join(dir, 'lmtp.sock');
    const log = join(dir, 'mda.log');
    mkdirSync(join(mail, 'alice'), { recursive: true });
    if (isRoot) for (const p of [mail, join(mail, 'alice')]) chownSync(p, MAIL_UID, MAIL_UID);
    const cfg = join(dir, 'mda.toml');
    writeFileSync(cfg, `[log]\ntarget = "file:${log}"\n[lmtp]\n${isRoot ? 'user = "nobody"\n' : ''}spool_dir = "${spool}"\n[users.alice]\nmaildir = "${join(mail, 'alice')}"\n`);
    if (isRoot) writeFileSync(log, ''), chownSync(log, MAIL_UID, MAIL_UID);

    const first = await startLmtpServer({ listen: `unix:${sock}`, config: cfg });
    servers.push(first);
    const c = await lmtpClient(sock);
    clients.push(c);
    c.send('LHLO t\r\nMAIL FROM:<s@example.org>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\nSubject: cut\r\n\r\n' + 'x'.repeat(50_000) + '\r\n');
    const r = await c.replies(5);
    expect(r[4]).toMatch(/^354 /);
    for (let i = 0; listDir(join(spool, 'tmp')).length === 0; i++) {
      if (i > 200) throw new Error('no spool file appeared');
      await sleep(25);
    }
    // The crash: no SIGTERM, no discard of the open transaction.
    expect(await first.stop('SIGKILL')).toBe(null);
    const left = listDir(join(spool, 'tmp'));
    expect(left).toHaveLength(1);
    const crashed = join(spool, 'tmp', left[0]!);
    const twoHoursAgo = Date.now() / 1000 - 7200;
    utimesSync(crashed, twoHoursAgo, twoHoursAgo);
    // A live transaction's file of another server sharing the directory (written a minute ago).
    const young = join(spool, 'tmp', '1700000000.M1P1Q1.other-server');
    writeFileSync(young, 'Return-Path: <x@example.org>\n');
    if (isRoot) chownSync(young, MAIL_UID, MAIL_UID);
    const aMinuteAgo = Date.now() / 1000 - 60;
    utimesSync(young, aMinuteAgo, aMinuteAgo);

    const second = await startLmtpServer({ listen: `unix:${sock}`, config: cfg });
    servers.push(second);
    // The socket is bound before the sweep: wait for the second "listening on", logged after it.
    const listening = () => readFileSync(log, 'utf8').split('listening on').length - 1;
    for (let i = 0; listening() < 2; i++) {
      if (i > 400) throw new Error(`the second server never logged "listening on": ${readFileSync(log, 'utf8')}`);
      await sleep(25);
    }
    expect(readdirSync(join(spool, 'tmp'))).toEqual(['1700000000.M1P1Q1.other-server']);
    expect(readFileSync(log, 'utf8')).toMatch(/removed 1 stale spool file\(s\) from .*\.spool\/tmp/);
    expect(listDir(join(mail, 'alice', 'new'))).toEqual([]); // nothing of the cut message was delivered
    expect(await second.stop()).toBe(0);
  });
});
