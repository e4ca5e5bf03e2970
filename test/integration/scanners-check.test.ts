/**
 * `mda scanners check` through the built binary: a real filter scanner, a
 * spamd on a refused port (bound, then closed), a fake spamd that answers
 * PONG, one that never answers (the ping's budget ends it), and breaker state
 * read from the shared store. Needs a built dist/ (`npm run build`).
 */
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { circuitText, exitStatus, formatRows, type CheckRow } from '../../src/cli/commands/scanners-check.js';
import type { ScannerConfig } from '../../src/config/schema.js';
import { breakerFileName, encodeBreaker } from '../../src/scanners/breaker.js';
import { fileBreakerStore } from '../../src/scanners/breaker-file-store.js';
import { breakerKey } from '../../src/scanners/run-scanners.js';
import { runCli, tempDir } from '../helpers/run-mda.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

const check = (args: string[]): Promise<Run> => runCli(['scanners', 'check', ...args]);

/** listen starts a TCP server on a free loopback port. */
async function listen(onConn: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(onConn);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as { port: number }).port };
}

let t: ReturnType<typeof tempDir>;
let stateDir: string;
let refusedPort: number;
let pong: { server: Server; port: number };
let silent: { server: Server; port: number };
const held: Socket[] = [];
let n = 0;

beforeAll(async () => {
  t = tempDir('mda-scanners-check-');
  stateDir = join(t.dir, 'state');
  // A port that refuses: bind it, then close it.
  const probe = await listen(() => undefined);
  refusedPort = probe.port;
  await new Promise((r) => probe.server.close(r));
  // A fake spamd that answers PING with PONG.
  pong = await listen((s) => {
    let got = '';
    s.on('data', (d) => {
      got += d;
      if (got.includes('\r\n\r\n')) s.end('SPAMD/1.5 0 PONG\r\n');
    });
    s.on('error', () => undefined);
  });
  // One that accepts and never answers.
  silent = await listen((s) => {
    held.push(s);
    s.on('error', () => undefined);
  });
});

afterAll(async () => {
  for (const s of held) s.destroy();
  await Promise.all([pong, silent].map(({ server }) => new Promise((r) => server.close(r))));
  t.cleanup();
});

function config(body: string): string {
  const path = join(t.dir, `mda-${++n}.toml`);
  writeFileSync(path, `[log]\ntarget = "none"\n[scanning]\nstate_dir = "${stateDir}"\n${body}`);
  return path;
}

function filterScript(): string {
  const path = join(t.dir, 'filter.sh');
  writeFileSync(path, '#!/bin/sh\nexec cat\n');
  chmodSync(path, 0o755);
  return path;
}

/** rowOf finds the table line for a scanner name and endpoint. */
const rowOf = (out: string, name: string, endpoint: string): string | undefined =>
  out.split('\n').find((l) => l.startsWith(`${name} `) && l.includes(` ${endpoint} `));

describe('mda scanners check', () => {
  it('a healthy filter: exit 0, aligned table with state, latency and circuit', async () => {
    const script = filterScript();
    const r = await check(['--config', config(`[[scanner]]\ntype = "filter"\ncommand = ["${script}"]\n`)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [header, row] = r.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^NAME\s+TYPE\s+ENDPOINT\s+STATE\s+LATENCY\s+CIRCUIT\s+DETAIL$/);
    expect(row).toMatch(new RegExp(`^filter\\s+filter\\s+${script}\\s+ok\\s+\\d+ms\\s+closed\\s+executable ${script}$`));
    // Aligned: every column starts at the same offset on both lines.
    for (const col of ['TYPE', 'ENDPOINT', 'STATE', 'LATENCY', 'CIRCUIT', 'DETAIL']) {
      const at = header!.indexOf(col);
      expect(row![at - 1]).toBe(' ');
      expect(row![at]).not.toBe(' ');
    }
  });

  it('a spamd on a refused port is down: exit 1, even with a healthy filter', async () => {
    const r = await check([
      '--config',
      config(`[[scanner]]\ntype = "filter"\ncommand = ["cat"]\n[[scanner]]\ntype = "spamd"\nhosts = ["127.0.0.1:${refusedPort}"]\n`),
    ]);
    expect(r.code).toBe(1);
    expect(rowOf(r.stdout, 'filter', 'cat')).toMatch(/\sok\s.*executable \/(usr\/)?bin\/cat$/);
    expect(rowOf(r.stdout, 'spamd', `127.0.0.1:${refusedPort}`)).toMatch(/\sdown\s+\d+ms\s+closed\s+.*refused/);
  });

  it('one healthy host is enough: each host gets its own row', async () => {
    const r = await check([
      '--config',
      config(`[[scanner]]\ntype = "spamd"\nname = "sa"\nhosts = ["127.0.0.1:${refusedPort}", "127.0.0.1:${pong.port}"]\n`),
    ]);
    expect(r.code).toBe(0);
    expect(rowOf(r.stdout, 'sa', `127.0.0.1:${refusedPort}`)).toMatch(/\sdown\s/);
    expect(rowOf(r.stdout, 'sa', `127.0.0.1:${pong.port}`)).toMatch(/\sok\s.*PONG/);
  });

  it("a host that never answers is down once the scanner's timeout is over", async () => {
    const r = await check(['--config', config(`[[scanner]]\ntype = "spamd"\ntimeout = "300ms"\nhosts = ["127.0.0.1:${silent.port}"]\n`)]);
    expect(r.code).toBe(1);
    expect(rowOf(r.stdout, 'spamd', `127.0.0.1:${silent.port}`)).toMatch(/\sdown\s+\d+ms\s+closed\s+.*took longer than 300ms/);
    expect(r.elapsedMs).toBeLessThan(5_000);
  });

  it('a filter whose command is missing is down', async () => {
    const r = await check(['--config', config(`[[scanner]]\ntype = "filter"\ncommand = ["/nonexistent/filter"]\n`)]);
    expect(r.code).toBe(1);
    expect(rowOf(r.stdout, 'filter', '/nonexistent/filter')).toMatch(/\sdown\s.*no such file/);
  });

  it("shows the invoking uid's breaker: open until HH:MM:SS, probe", async () => {
    const until = Date.now() + 60_000;
    const breakers = fileBreakerStore(stateDir, process.geteuid!());
    await breakers.write(breakerKey('blocked', 'cat'), { failures: 5, openUntilMs: until, lastLogMs: 0 });
    await breakers.write(breakerKey('cooled', 'cat'), { failures: 5, openUntilMs: Date.now() - 1_000, lastLogMs: 0 });
    const r = await check([
      '--config',
      config(`[[scanner]]\ntype = "filter"\nname = "blocked"\ncommand = ["cat"]\n[[scanner]]\ntype = "filter"\nname = "cooled"\ncommand = ["cat"]\n`),
    ]);
    expect(r.code).toBe(0); // the check pings anyway: the breaker is shown, not obeyed
    const hhmmss = new Date(until).toTimeString().slice(0, 8);
    expect(rowOf(r.stdout, 'blocked', 'cat')).toContain(`open until ${hhmmss}`);
    expect(rowOf(r.stdout, 'cooled', 'cat')).toMatch(/\sprobe\s/);
  });

  it.skipIf(process.getuid?.() !== 0)("--user shows that user's breakers (as root); an unknown user is exit 2", async () => {
    const until = Date.now() + 60_000;
    const uid = 2; // bin
    const dir = join(stateDir, `breakers-${uid}`);
    mkdirSync(stateDir, { recursive: true });
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, uid, uid);
    const file = join(dir, breakerFileName(breakerKey('theirs', 'cat')));
    writeFileSync(file, encodeBreaker({ failures: 5, openUntilMs: until, lastLogMs: 0 }), { mode: 0o600 });
    chownSync(file, uid, uid);
    const cfg = config(`[[scanner]]\ntype = "filter"\nname = "theirs"\ncommand = ["cat"]\n`);
    const hhmmss = new Date(until).toTimeString().slice(0, 8);
    expect(rowOf((await check(['--config', cfg, '--user', 'bin'])).stdout, 'theirs', 'cat')).toContain(`open until ${hhmmss}`);
    expect(rowOf((await check(['--config', cfg])).stdout, 'theirs', 'cat')).toMatch(/\sclosed\s/); // root's own: none
    const r = await check(['--config', cfg, '--user', 'no-such-user-mda']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no such user: no-such-user-mda');
  });

  it('a config error: exit 2, every problem with file:line: key', async () => {
    const path = config(`[[scanner]]\ntype = "spamd"\nhosts = ["nohost"]\n[[scanner]]\ntype = "filter"\ntimeout = "1ms"\n`);
    const r = await check(['--config', path]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${path}:7: scanner[0].hosts: "nohost": a port is required`);
    expect(r.stderr).toContain(`${path}:8: scanner[1]`);
  });

  it('no scanners configured: says so, exit 0', async () => {
    const r = await check(['--config', config('')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^no scanners configured in /);
  });
});

describe('scanners check: table and status', () => {
  const row = (over: Partial<CheckRow>): CheckRow => ({
    name: 'spamd', type: 'spamd', endpoint: 'h:1', ok: true, latencyMs: 1.4, circuit: 'closed', detail: 'PONG', ...over,
  });
  const scanner = (name: string): ScannerConfig => ({ name }) as ScannerConfig;

  it.each<[string, string[], CheckRow[], number]>([
    ['all ok → 0', ['a', 'b'], [row({ name: 'a' }), row({ name: 'b' })], 0],
    ['one of two hosts ok → 0', ['a'], [row({ name: 'a', ok: false }), row({ name: 'a' })], 0],
    ['a scanner with every host down → 1', ['a', 'b'], [row({ name: 'a' }), row({ name: 'b', ok: false })], 1],
    ['a scanner without rows → 1', ['a', 'b'], [row({ name: 'a' })], 1],
  ])('%s', (_name, names, rows, code) => {
    expect(exitStatus(names.map(scanner), rows)).toBe(code);
  });

  it('pads columns, keeps control characters out of the table', () => {
    expect(formatRows([row({}), row({ name: 'clamd-long', ok: false, latencyMs: 1234.6, detail: 'line1\nline2\r' })])).toBe(
      [
        'NAME        TYPE   ENDPOINT  STATE  LATENCY  CIRCUIT  DETAIL',
        'spamd       spamd  h:1       ok     1ms      closed   PONG',
        'clamd-long  spamd  h:1       down   1235ms   closed   line1 line2',
        '',
      ].join('\n'),
    );
  });

  it.each<[string, number, string | RegExp]>([
    ['closed', 0, 'closed'],
    ['open', Date.now() + 60_000, /^open until \d\d:\d\d:\d\d$/],
    ['probe', Date.now() - 1, 'probe'],
  ])('circuit %s', (_name, openUntilMs, text) => {
    const s = circuitText({ failures: 5, openUntilMs, lastLogMs: 0 }, Date.now());
    if (typeof text === 'string') expect(s).toBe(text);
    else expect(s).toMatch(text);
  });
});
