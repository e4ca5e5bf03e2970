/**
 * `mda lmtp` runs with one libuv thread-pool thread unless the admin sets
 * UV_THREADPOOL_SIZE (bin/mda: issue 11's one-connection p99). Counted as the
 * running server's threads: a server told UV_THREADPOOL_SIZE=4 (libuv's own
 * default) has exactly three more than one left to mda's default.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lmtpClient, transaction } from '../helpers/lmtp-client.js';
import { startLmtpServer, type LmtpServer } from '../helpers/lmtp-server.js';
import { tempDir } from '../helpers/run-mda.js';

/** nobody's uid (and a gid): `[lmtp] user = "nobody"` as root must own the directory it writes. */
const NOBODY = 65534;
const servers: LmtpServer[] = [];
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop('SIGKILL');
  for (const c of cleanups.splice(0)) c();
});

/** Starts a server, delivers one message through it (so the pool is running), returns its thread count. */
async function threadsOfServer(env: NodeJS.ProcessEnv): Promise<number> {
  const { dir, cleanup } = tempDir('mda-lmtp-pool-');
  cleanups.push(cleanup);
  const cfg = join(dir, 'mda.toml');
  const sock = join(dir, 'lmtp.sock');
  // root reads its config only from root's directories; the mail goes where nobody may write
  const data = join(dir, 'data');
  mkdirSync(data);
  if (process.getuid?.() === 0) (chmodSync(dir, 0o755), chownSync(data, NOBODY, NOBODY));
  writeFileSync(cfg, `[log]\ntarget = "none"\n[lmtp]\n${process.getuid?.() === 0 ? 'user = "nobody"\n' : ''}spool_dir = "${join(data, 'spool')}"\n[users.alice]\nmaildir = "${join(data, 'alice')}"\n`);
  const server = await startLmtpServer({ listen: `unix:${sock}`, config: cfg, env: { PATH: process.env.PATH, HOME: dir, ...env } });
  servers.push(server);
  const c = await lmtpClient(sock);
  await c.reply();
  c.send('LHLO t\r\n' + transaction('s@example.org', ['alice@example.com'], 'Subject: pool\r\n\r\nx\r\n'));
  const r = await c.replies(5);
  expect(r[4]).toMatch(/^250 /);
  c.raw.socket.destroy();
  return readdirSync(`/proc/${server.child.pid}/task`).length;
}

describe.skipIf(!existsSync('/proc/self/task'))('mda lmtp thread pool', () => {
  it('one libuv thread by default; UV_THREADPOOL_SIZE, when set, wins', async () => {
    const byDefault = await threadsOfServer({});
    const four = await threadsOfServer({ UV_THREADPOOL_SIZE: '4' });
    expect(four - byDefault).toBe(3);
  });
});
