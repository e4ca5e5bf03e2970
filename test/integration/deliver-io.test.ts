/**
 * Deliver-mode I/O hygiene through bin/mda (issue 9 findings 7, 8, 13): the
 * config is read under the deadline (a FIFO as --config is refused, never
 * waited on), nothing but the outcome line reaches stdout/stderr (12 scanners,
 * process warnings), and a broken config is logged to syslog with file:line,
 * one line per delivery. Run `npm run build` first.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeAllFakeScanners, startFakeScanner } from '../helpers/fake-scanner.js';
import { listDir, runMda, tempDir } from '../helpers/run-mda.js';

let t: ReturnType<typeof tempDir>;
beforeEach(() => (t = tempDir('mda-io-')));
afterEach(() => t.cleanup());
afterAll(() => closeAllFakeScanners());

const MSG = 'From: a@example.org\nTo: b@example.test\nMessage-ID: <io-1@example.org>\n\nhi\n';
const env = (extra: NodeJS.ProcessEnv = {}) => ({ PATH: process.env.PATH, HOME: t.dir, USER: process.env.USER ?? 'root', ...extra });

/** A fake /dev/log: a unix datagram socket collecting what mda sends. */
function fakeSyslog(): { path: string; lines: string[]; close(): void } {
  const path = join(t.dir, 'log.sock');
  const unix = createRequire(import.meta.url)('unix-dgram');
  const lines: string[] = [];
  const server = unix.createSocket('unix_dgram', (buf: Buffer) => lines.push(buf.toString()));
  server.bind(path);
  chmodSync(path, 0o666);
  return { path, lines, close: () => server.close() };
}

describe('the config is read under the deadline (issue 9 #7)', () => {
  it('--config naming a FIFO: refused at once with 4.3.5, exit 75, well before the deadline', async () => {
    const fifo = join(t.dir, 'mda.toml');
    execFileSync('mkfifo', [fifo]);
    const r = await runMda(['deliver', '--config', fifo, '--maildir', join(t.dir, 'M'), '--deadline', '3s'], { input: MSG, env: env(), hardTimeoutMs: 10_000 });
    expect(r.code).toBe(75);
    expect(r.output).toMatch(/^4\.3\.5 .*not a regular file\n$/);
    expect(r.elapsedMs).toBeLessThan(3_000);
  });
});

describe('nothing but the outcome line on stdout/stderr (issue 9 #8)', () => {
  it('12 scanners that all time out: exactly one line, the 4.x.x DSN at byte 0', { timeout: 20_000 }, async () => {
    const hang = await startFakeScanner({ dialect: 'spamd', mode: 'hang' });
    const cfg = join(t.dir, 'c.toml');
    let text = '[log]\ntarget = "none"\n';
    for (let i = 0; i < 12; i++) text += `[[scanner]]\ntype = "spamd"\nname = "s${i}"\ntimeout = "500ms"\non_failure = "defer"\nhosts = ["${hang.endpoint}"]\n`;
    writeFileSync(cfg, text);
    const r = await runMda(['deliver', '--config', cfg, '--maildir', join(t.dir, 'M'), '--deadline', '5s'], { input: MSG, env: env() });
    expect(r.code).toBe(75);
    expect(r.output).toMatch(/^4\.\d+\.\d+ [^\n]*\n$/);
    expect(r.output).toMatch(/scan/i);
  });

  it('a process warning goes to the log, not to stderr', async () => {
    const log = join(t.dir, 'mda.log');
    const cfg = join(t.dir, 'c.toml');
    writeFileSync(cfg, `[log]\ntarget = "file:${log}"\n`);
    // Stands in for any warning Node may print (deprecations, leak detectors) during a delivery.
    const warn = join(t.dir, 'warn.cjs');
    writeFileSync(warn, "setTimeout(() => process.emitWarning('test warning from a preload', 'TestWarning'), 30);\n");
    const r = await runMda(['deliver', '--config', cfg, '--maildir', join(t.dir, 'M')], { keepStdinOpen: true, env: env({ NODE_OPTIONS: `--require ${warn}` }),
      onSpawn: (c) => setTimeout(() => c.stdin!.end(MSG), 300) });
    expect(r.code).toBe(0);
    expect(r.output).toBe('');
    expect(readFileSync(log, 'utf8')).toMatch(/mda\[\d+\]: warning: node: TestWarning: test warning from a preload$/m);
    expect(listDir(join(t.dir, 'M', 'new'))).toHaveLength(1);
  });
});

describe('a broken config is logged to syslog (issue 9 #13)', () => {
  it('one syslog line per delivery with file:line, status=deferred and the DSN', async () => {
    const sys = fakeSyslog();
    const cfg = join(t.dir, 'broken.toml');
    writeFileSync(cfg, '[log]\ntarget = "none"\n[delivery]\ndeadline = "forever"\n');
    const r = await runMda(['deliver', '--config', cfg, '--maildir', join(t.dir, 'M')], { input: MSG, env: env({ MDA_SYSLOG_SOCKET: sys.path }) });
    await new Promise((res) => setTimeout(res, 50));
    sys.close();
    expect(r.code).toBe(75);
    expect(r.output).toMatch(/^4\.3\.5 /);
    expect(sys.lines).toHaveLength(1);
    expect(sys.lines[0]).toMatch(/^<20>|^<22>/); // facility mail
    expect(sys.lines[0]).toContain(`${cfg}:4`);
    expect(sys.lines[0]).toMatch(/status=deferred dsn=4\.3\.5/);
  });
});
