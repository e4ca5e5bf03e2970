/**
 * `mda lmtp --metrics HOST:PORT` as the built CLI: one real LMTP session (a
 * delivery and an unknown recipient), then a scrape whose counters say what
 * the replies said; a bad --metrics address is a usage error (64); the metrics
 * listener is opened before the uid switch and closed on every fatal exit (69).
 * The server runs as the test's uid (as root: `[lmtp] user = "nobody"`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lmtpClient, transaction } from '../helpers/lmtp-client.js';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js';
import { MDA, tempDir } from '../helpers/run-mda.js';

const isRoot = process.getuid?.() === 0;

/** Whether `port` on 127.0.0.1 can be bound now (closed again at once). */
const canBind = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () => s.close(() => resolve(true)));
  });

/** Runs `mda lmtp` to its exit (a fatal start-up error), without blocking the test's own listeners. */
const runToExit = (args: string[], home: string): Promise<{ code: number | null; stderr: string }> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [MDA, 'lmtp', ...args], { env: { PATH: process.env.PATH, HOME: home }, stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (code) => resolve({ code, stderr }));
  });
const children: ChildProcess[] = [];
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const ch of children.splice(0)) if (ch.exitCode === null) ch.kill('SIGKILL');
  for (const c of cleanups.splice(0)) c();
});

/** A port free a moment ago on 127.0.0.1 (the server binds it next). */
const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });

function setup(): { dir: string; cfg: string; sock: string } {
  const { dir, cleanup } = tempDir('mda-lmtp-metrics-');
  cleanups.push(cleanup);
  chmodSync(dir, 0o755);
  const mail = join(dir, 'mail');
  mkdirSync(join(mail, 'alice'), { recursive: true });
  if (isRoot) chownSync(mail, 65534, 65534), chownSync(join(mail, 'alice'), 65534, 65534);
  const cfg = join(dir, 'mda.toml');
  const asUser = isRoot ? 'user = "nobody"\n' : '';
  writeFileSync(cfg, `[log]\ntarget = "none"\n[lmtp]\n${asUser}spool_dir = "${join(mail, '.spool')}"\n[users.alice]\nmaildir = "${join(mail, 'alice')}"\n`);
  return { dir, cfg, sock: join(dir, 'lmtp.sock') };
}

/**
 * Starts `mda lmtp --metrics 127.0.0.1:PORT` and connects once it greets: the socket file
 * exists before the metrics listener opens, the greeting comes once everything is up.
 */
async function startGreeted(dir: string, cfg: string, sock: string, port: number) {
  const child = spawn(process.execPath, [MDA, 'lmtp', '--listen', `unix:${sock}`, '--metrics', `127.0.0.1:${port}`, '--config', cfg], {
    env: { PATH: process.env.PATH, HOME: dir },
    stdio: 'ignore',
  });
  children.push(child);
  for (let i = 0; !existsSync(sock); i++) {
    if (i > 300 || child.exitCode !== null) throw new Error(`mda lmtp did not start (exit ${child.exitCode})`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const c = await lmtpClient(sock);
  expect(await c.reply()).toMatch(/^220 /);
  return { child, c };
}

describe('mda lmtp --metrics (built CLI)', () => {
  it('a scrape counts what the replies said: one delivered (class 2), one unknown recipient refused', async () => {
    const { dir, cfg, sock } = setup();
    const port = await freePort();
    const { child, c } = await startGreeted(dir, cfg, sock, port);
    c.send('LHLO client.test\r\n');
    await c.reply();
    c.send(transaction('s@example.org', ['alice@example.com', 'nobody-here@example.com'], 'Subject: m\r\n\r\nx\r\n'));
    const r = await c.replies(5);
    expect(r[2]).toMatch(/^550 5\.1\.1/);
    expect(r[4]).toMatch(/^250 2\.0\.0 <alice@example\.com>/);
    c.raw.socket.destroy();

    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    const families = parsePrometheusText(await res.text());
    expect(sampleValue(families, 'mda_lmtp_deliveries_total', { outcome: 'delivered', dsn_class: '2' })).toBe(1);
    expect(sampleValue(families, 'mda_lmtp_rcpt_refused_total', { reason: 'unknown' })).toBe(1);
    child.kill('SIGTERM');
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
  });

  it('a --metrics address that is not HOST:PORT is a usage error (64), before anything listens', () => {
    const { cfg, sock } = setup();
    const r = spawnSync(process.execPath, [MDA, 'lmtp', '--listen', `unix:${sock}`, '--metrics', 'unix:/tmp/x', '--config', cfg], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/--metrics/);
    expect(existsSync(sock)).toBe(false);
  });

  it('a --metrics port already taken: exit 69 naming --metrics, and the LMTP socket opened before it is closed again', async () => {
    const { dir, cfg, sock } = setup();
    const held = createServer();
    await new Promise<void>((ok) => held.listen(0, '127.0.0.1', () => ok()));
    cleanups.push(() => held.close());
    const port = (held.address() as { port: number }).port;
    const r = await runToExit(['--listen', `unix:${sock}`, '--metrics', `127.0.0.1:${port}`, '--config', cfg], dir);
    expect(r.code).toBe(69);
    expect(r.stderr).toContain(`mda lmtp: --metrics 127.0.0.1:${port}:`);
    expect(existsSync(sock)).toBe(false);
  });

  it.skipIf(!isRoot)('as root with [lmtp] user: a --metrics port below 1024 is opened before the switch and answers, counting the open connection', async () => {
    const { dir, cfg, sock } = setup();
    let port = 0;
    for (let p = 1000; p > 900 && port === 0; p--) if (await canBind(p)) port = p;
    expect(port).toBeGreaterThan(0);
    const { child, c } = await startGreeted(dir, cfg, sock, port);
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    expect(sampleValue(parsePrometheusText(await res.text()), 'mda_lmtp_connections_active', {})).toBe(1); // the greeted client, read from the server at scrape time
    c.raw.socket.destroy();
    child.kill('SIGTERM');
    expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(0);
  });
});
