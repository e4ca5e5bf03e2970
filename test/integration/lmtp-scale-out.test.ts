/**
 * Scale-out on one machine: two `mda lmtp` servers (each its own socket, spool
 * directory and, where `unshare --uts` works, its own host name, as two back
 * ends sharing NFS storage would have) deliver concurrently into the SAME
 * Maildirs with quota. Every message is stored exactly once, maildirsize
 * equals a fresh count (quota/scan.ts), and no lock or temporary file is left.
 * mda has no setting for the host name in Maildir names (os.hostname() is
 * used, as by Postfix and Dovecot); without unshare both servers share it and
 * names stay unique by pid (P) and counter (Q) only.
 * As root the servers run as `[lmtp] user = "nobody"`; otherwise as the test's uid.
 */
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseMaildirsize } from '../../src/quota/maildirsize.js';
import { scanMaildir } from '../../src/quota/scan.js';
import { lmtpClient, transaction, type LmtpClient } from '../helpers/lmtp-client.js';
import { canSetHostName, startLmtpServer, type LmtpServer } from '../helpers/lmtp-server.js';
import { listDir, tempDir } from '../helpers/run-mda.js';

const isRoot = process.getuid?.() === 0;
const MAIL_UID = isRoot ? 65534 : process.getuid!();
const USERS = ['u1', 'u2', 'u3', 'u4', 'u5'];
const MESSAGES = 400;
const CONNECTIONS = 8;
const HOSTS = canSetHostName() ? ['mx-a.test', 'mx-b.test'] : [undefined, undefined];

let dir: string;
let cleanup: () => void;
const servers: LmtpServer[] = [];
const clients: LmtpClient[] = [];

beforeEach(() => {
  ({ dir, cleanup } = tempDir('mda-lmtp-scale-'));
  chmodSync(dir, 0o755);
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.raw.socket.destroy();
  for (const s of servers.splice(0)) await s.stop('SIGKILL');
  cleanup();
});

/** Message i goes to user i % 5, and every 7th also to the next user (one spool, two copies). */
const recipientsOf = (i: number): string[] => (i % 7 === 0 ? [USERS[i % 5]!, USERS[(i + 1) % 5]!] : [USERS[i % 5]!]);
const messageId = (i: number) => `<scale-${i}@sender.test>`;
const body = (i: number) => `Message-ID: ${messageId(i)}\r\nSubject: scale ${i}\r\n\r\n${'line of text\r\n'.repeat(1 + (i % 40))}`;

/** One connection's share: its messages one transaction at a time; every reply must be 250. */
async function sendAll(sock: string, ids: number[]): Promise<void> {
  const c = await lmtpClient(sock, 60_000);
  clients.push(c);
  expect(await c.reply()).toMatch(/^220 /);
  c.send('LHLO client.test\r\n');
  expect(await c.reply()).toMatch(/^250-/);
  for (const i of ids) {
    const to = recipientsOf(i).map((u) => `${u}@virt.test`);
    c.send(transaction('sender@sender.test', to, body(i)));
    const r = await c.replies(2 + 2 * to.length);
    expect(r, `message ${i}`).toEqual(['250 2.1.0 Ok', ...to.map(() => '250 2.1.5 Ok'), expect.stringMatching(/^354 /), ...to.map((t) => expect.stringMatching(new RegExp(`^250 2\\.0\\.0 <${t}>`)))]);
  }
  c.send('QUIT\r\n');
  expect(await c.reply()).toMatch(/^221 /);
}

describe('two mda lmtp servers share the same Maildirs (scale-out on one machine)', () => {
  it(`${MESSAGES} messages over ${CONNECTIONS} connections split across both servers, to ${USERS.length} users with quota: each stored once, maildirsize exact, no lock left`, { timeout: 110_000 }, async () => {
    const mail = join(dir, 'mail');
    mkdirSync(mail);
    for (const u of USERS) mkdirSync(join(mail, u));
    if (isRoot) for (const p of [mail, ...USERS.map((u) => join(mail, u))]) chownSync(p, MAIL_UID, MAIL_UID);
    const users = USERS.map((u) => `[users."${u}@virt.test"]\nmaildir = "${join(mail, u)}"\n`).join('');
    const socks = ['a', 'b'].map((s) => join(dir, `${s}.sock`));
    for (const [k, s] of ['a', 'b'].entries()) {
      const cfg = join(dir, `${s}.toml`);
      writeFileSync(cfg, `[log]\ntarget = "none"\n[quota]\nstorage = "100M"\nmessages = 100000\n[lmtp]\n${isRoot ? 'user = "nobody"\n' : ''}spool_dir = "${join(mail, `.spool-${s}`)}"\n${users}`);
      servers.push(await startLmtpServer({ listen: `unix:${socks[k]}`, config: cfg, hostName: HOSTS[k] }));
    }

    const shares: number[][] = Array.from({ length: CONNECTIONS }, () => []);
    for (let i = 0; i < MESSAGES; i++) shares[i % CONNECTIONS]!.push(i);
    // Connections 0, 2, 4, 6 to server a; 1, 3, 5, 7 to server b: all eight at once.
    await Promise.all(shares.map((ids, k) => sendAll(socks[k % 2]!, ids)));

    for (const u of USERS) {
      const md = join(mail, u);
      const names = listDir(join(md, 'new'));
      const ids = names.map((n) => /^Message-ID: (.*)$/m.exec(readFileSync(join(md, 'new', n), 'utf8'))?.[1]).sort();
      const want = Array.from({ length: MESSAGES }, (_, i) => i).filter((i) => recipientsOf(i).includes(u)).map(messageId).sort();
      expect(ids, `${u}: every message once`).toEqual(want);
      if (HOSTS[0] !== undefined) {
        // Both servers stored into this Maildir, each naming its files after its own host.
        expect(names.some((n) => n.includes('.mx-a.test,S='))).toBe(true);
        expect(names.some((n) => n.includes('.mx-b.test,S='))).toBe(true);
      }
      const fresh = await scanMaildir(md);
      const recorded = parseMaildirsize(readFileSync(join(md, 'maildirsize')));
      expect('corrupt' in recorded ? recorded : { bytes: recorded.bytes, count: recorded.count }, `${u}: maildirsize`).toEqual({ bytes: fresh.bytes, count: fresh.count });
      expect(fresh.count).toBe(want.length);
      expect(readdirSync(md).filter((n) => n.endsWith('.lock')), `${u}: lock files`).toEqual([]);
      expect(listDir(join(md, 'tmp')), `${u}: tmp/`).toEqual([]);
    }
    for (const s of ['a', 'b']) expect(listDir(join(mail, `.spool-${s}`, 'tmp'))).toEqual([]);
    for (const s of servers) expect(s.output()).toBe('');
  });
});
