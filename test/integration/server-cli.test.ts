/**
 * `mda lmtp` as the built CLI: greeting, LHLO and QUIT, SIGHUP with a bad config
 * (old config kept, file:line logged) and a good one, SIGTERM (exit 0, socket removed,
 * nothing on stdout/stderr), fatal start-up errors, and, as root, the switch to [lmtp] user.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lineClient, type LineClient } from '../helpers/line-client.js';
import { MDA, runMda, tempDir } from '../helpers/run-mda.js';

let dir: string;
let cleanup: () => void;
const children: ChildProcess[] = [];
const clients: LineClient[] = [];

beforeEach(() => ({ dir, cleanup } = tempDir('mda-lmtp-cli-')));
afterEach(() => {
  for (const c of clients.splice(0)) c.socket.destroy();
  for (const ch of children.splice(0)) if (ch.exitCode === null && ch.signalCode === null) ch.kill('SIGKILL');
  cleanup();
});

interface Server {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startServer(args: string[]): Server {
  const child = spawn(process.execPath, [MDA, 'lmtp', ...args], { env: { PATH: process.env.PATH, HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
  return { child, output: () => output, exited };
}

/** Waits (bounded) until the log file contains `text`; returns the log. */
async function logContains(log: string, text: string, waitMs = 15_000): Promise<string> {
  for (let waited = 0; ; waited += 50) {
    const now = existsSync(log) ? readFileSync(log, 'utf8') : '';
    if (now.includes(text)) return now;
    if (waited > waitMs) throw new Error(`log never contained ${JSON.stringify(text)}; log: ${now}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function client(path: string): Promise<LineClient> {
  const c = await lineClient(path);
  clients.push(c);
  return c;
}

describe('mda lmtp (built CLI)', () => {
  it('RFC 2033 §4.1: greets, answers LHLO and 221 to QUIT; SIGHUP with a bad config keeps the old one and logs file:line; SIGTERM exits 0', async () => {
    const cfg = join(dir, 'mda.toml');
    const log = join(dir, 'mda.log');
    const sock = join(dir, 'lmtp.sock');
    writeFileSync(cfg, `[log]\ntarget = "file:${log}"\n[lmtp]\nmax_connections = 1\n`);
    const s = startServer(['--listen', `unix:${sock}`, '--config', cfg]);
    await logContains(log, `listening on unix:${sock}`);

    const a = await client(sock);
    expect(await a.line()).toBe(`220 ${hostname()} LMTP ready`);
    a.send('LHLO client.example\r\n');
    expect(await a.line()).toBe(`250-${hostname()}`);
    const over = await client(sock);
    expect(await over.closed()).toBe('421 4.3.2 Too many connections, try again later\r\n');

    writeFileSync(cfg, `[log]\ntarget = "file:${log}"\n[lmtp]\nmax_connections = 0\n`);
    s.child.kill('SIGHUP');
    const logged = await logContains(log, 'SIGHUP: keeping the old configuration');
    expect(logged).toContain(`${cfg}:4: lmtp.max_connections: must be between 1 and 100000, got 0`);
    const still = await client(sock); // max_connections = 1 still holds
    expect(await still.closed()).toBe('421 4.3.2 Too many connections, try again later\r\n');

    writeFileSync(cfg, `[log]\ntarget = "file:${log}"\n[lmtp]\nmax_connections = 2\n`);
    s.child.kill('SIGHUP');
    await logContains(log, 'SIGHUP: configuration reloaded');
    const second = await client(sock);
    expect(await second.line()).toBe(`220 ${hostname()} LMTP ready`);

    second.send('QUIT\r\n');
    expect(await second.line()).toBe('221 2.0.0 Bye');
    s.child.kill('SIGTERM');
    expect(await a.closed()).toContain('421 4.3.2 Server shutting down');
    expect(await s.exited).toEqual({ code: 0, signal: null });
    expect(s.output()).toBe(''); // logs go to the configured target only
    expect(existsSync(sock)).toBe(false);
    expect(readFileSync(log, 'utf8')).toContain('SIGTERM: stopping');
  });

  it('a regular file at the socket path: exit 69 with the reason on stderr, the file untouched', async () => {
    const path = join(dir, 'not-a-socket');
    writeFileSync(path, 'data');
    writeFileSync(join(dir, 'c.toml'), '[log]\ntarget = "none"\n');
    const r = await runMda(['lmtp', '--listen', `unix:${path}`, '--config', join(dir, 'c.toml')]);
    expect(r.code).toBe(69);
    expect(r.output).toBe(`mda lmtp: unix:${path}: refusing to replace a regular file; remove it or choose another path\n`);
    expect(readFileSync(path, 'utf8')).toBe('data');
  });

  it.each([
    ['a bad --listen address: exit 64', ['--listen', 'localhost'], 64, 'expected unix:/path or HOST:PORT'],
    ['no --listen: exit 64', [], 64, 'listen'],
  ])('%s', async (_name, args, code, text) => {
    const r = await runMda(['lmtp', ...args]);
    expect(r.code).toBe(code);
    expect(r.output).toContain(text);
  });

  it('a bad config at start: exit 78 with file:line', async () => {
    const cfg = join(dir, 'bad.toml');
    writeFileSync(cfg, '[log]\ntarget = "none"\n[lmtp]\nsocket_mode = 660\n');
    const r = await runMda(['lmtp', '--listen', `unix:${join(dir, 's')}`, '--config', cfg]);
    expect(r.code).toBe(78);
    expect(r.output).toContain(`${cfg}:4: lmtp.socket_mode: must be an octal string`);
  });

  const nobody = (() => {
    try {
      return readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('nobody:'))?.split(':');
    } catch {
      return undefined;
    }
  })();
  it.skipIf(process.geteuid?.() !== 0 || !nobody)('as root with [lmtp] user: sockets chowned first, then the whole process runs as that user', async () => {
    const uid = Number(nobody![2]);
    const gid = Number(nobody![3]);
    const cfg = join(dir, 'mda.toml');
    const log = join(dir, 'mda.log');
    const sock = join(dir, 'lmtp.sock');
    writeFileSync(cfg, `[log]\ntarget = "file:${log}"\n[lmtp]\nuser = "nobody"\nsocket_owner = "nobody"\nsocket_mode = "0600"\n`);
    const s = startServer(['--listen', `unix:${sock}`, '--listen', '127.0.0.1:0', '--config', cfg]);
    await logContains(log, 'as nobody (virtual users)');
    const st = statSync(sock);
    expect([st.uid, st.mode & 0o777]).toEqual([uid, 0o600]);
    const status = readFileSync(`/proc/${s.child.pid}/status`, 'utf8');
    expect(/^Uid:\s+(.*)$/m.exec(status)![1]!.split(/\s+/).map(Number)).toEqual([uid, uid, uid, uid]);
    expect(/^Gid:\s+(.*)$/m.exec(status)![1]!.split(/\s+/).map(Number)).toEqual([gid, gid, gid, gid]);
    const c = await client(sock); // root may connect to a 0600 socket it does not own
    expect(await c.line()).toBe(`220 ${hostname()} LMTP ready`);
    s.child.kill('SIGTERM');
    expect(await s.exited).toEqual({ code: 0, signal: null });
  });
});
