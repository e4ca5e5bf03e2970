import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { runMda, tempDir } from '../helpers/run-mda.js';

let t: ReturnType<typeof tempDir>;
beforeEach(() => (t = tempDir()));
afterEach(() => t.cleanup());

const FROM_ = 'From alice@sender.test  Sat Nov 21 23:21:04 2026\n';
const MSG = FROM_ + 'Return-Path: <alice@sender.test>\nDelivered-To: bob@example.test\nMessage-ID: <log-1@x>\n\nhi\n';

describe('log targets', () => {
  it('file: one line per delivery with user, sender, message-id, size, folder, outcome, dsn, elapsed', async () => {
    const log = join(t.dir, 'mda.log');
    writeFileSync(join(t.dir, 'c.toml'), `[log]\ntarget = "file:${log}"\n`);
    const r = await runMda(['deliver', '--config', join(t.dir, 'c.toml'), '--maildir', join(t.dir, 'M'), '--folder', 'Work'], { input: MSG });
    expect(r.code).toBe(0);
    expect(r.output).toBe('');
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/mda\[\d+\]: user=\S+ from=<alice@sender.test> to=<bob@example.test> msgid=<log-1@x> size=\d+ folder=Work status=delivered dsn=2.0.0 elapsed=\d+\.\d{3}s$/);
  });

  it('file: a failed delivery logs its DSN and detail', async () => {
    const log = join(t.dir, 'mda.log');
    writeFileSync(join(t.dir, 'c.toml'), `[log]\ntarget = "file:${log}"\n`);
    const r = await runMda(['deliver', '--config', join(t.dir, 'c.toml'), '--maildir', join(t.dir, 'M'), '--folder', '../x'], { input: MSG });
    expect(r.code).toBe(75);
    expect(readFileSync(log, 'utf8')).toMatch(/status=deferred dsn=4\.3\.0 .*detail=".*folder/);
  });

  it('file and stderr targets carry the same warning: / error: tokens', async () => {
    const log = join(t.dir, 'tok.log');
    const logger = createLogger({ kind: 'file', path: log });
    logger.info('plain');
    logger.warn('w');
    logger.error('e');
    await logger.flush();
    expect(readFileSync(log, 'utf8').trimEnd().split('\n').map((l) => l.replace(/^\S+ /, ''))).toEqual([`mda[${process.pid}]: plain`, `mda[${process.pid}]: warning: w`, `mda[${process.pid}]: error: e`]);
  });

  it('file: an unwritable log never fails or delays the delivery', async () => {
    writeFileSync(join(t.dir, 'c.toml'), `[log]\ntarget = "file:${join(t.dir, 'no', 'such', 'dir', 'mda.log')}"\n`);
    const r = await runMda(['deliver', '--config', join(t.dir, 'c.toml'), '--maildir', join(t.dir, 'M')], { input: MSG });
    expect(r.code).toBe(0);
    expect(r.output).toBe('');
  });

  it('stderr: the DSN line still comes first, log lines after it', async () => {
    writeFileSync(join(t.dir, 'c.toml'), '[log]\ntarget = "stderr"\n');
    const r = await runMda(['deliver', '--config', join(t.dir, 'c.toml'), '--maildir', join(t.dir, 'M'), '--folder', '.bad'], { input: MSG });
    expect(r.code).toBe(75);
    const lines = r.output.trim().split('\n');
    expect(lines[0]).toMatch(/^4\.3\.0 /);
    expect(lines[1]).toMatch(/^mda: user=.* status=deferred/);
  });

  it('syslog with no syslog daemon (missing socket): delivery unaffected', async () => {
    const r = await runMda(['deliver', '--maildir', join(t.dir, 'M')], { input: MSG, env: { PATH: process.env.PATH, HOME: t.dir, USER: process.env.USER ?? 'root', MDA_CONFIG: '' } });
    expect(r.code).toBe(0);
    expect(r.output).toBe('');
  });
});

/** A syslog socket in the test dir (unix-dgram, as /dev/log): the datagrams it gets, as text. */
function syslogSink(name: string): { path: string; got: string[]; server: { close(): void } } {
  const path = join(t.dir, name);
  const unix = createRequire(import.meta.url)('unix-dgram');
  const got: string[] = [];
  const server = unix.createSocket('unix_dgram', (buf: Buffer) => got.push(buf.toString()));
  server.bind(path);
  chmodSync(path, 0o666);
  return { path, got, server };
}

describe('syslog datagrams (RFC 3164, facility mail)', () => {
  it('warnings and errors start with Postfix\'s warning: / error: token at their syslog severity; info lines carry none', async () => {
    const { path, got, server } = syslogSink('sev.sock');
    const logger = createLogger({ kind: 'syslog' }, 'mda', path);
    logger.info('user=a status=delivered');
    logger.warn('sieve: x');
    logger.error('internal error: y');
    await logger.flush();
    await new Promise((r) => setTimeout(r, 50));
    server.close();
    const body = (l: string) => l.replace(/^<\d+>\w{3} [ \d]\d \d\d:\d\d:\d\d /, '');
    expect(got.map((l) => l.slice(0, 4))).toEqual(['<22>', '<20>', '<19>']);
    expect(got.map(body)).toEqual([`mda[${process.pid}]: user=a status=delivered`, `mda[${process.pid}]: warning: sieve: x`, `mda[${process.pid}]: error: internal error: y`]);
  });

  it('sends <22>… mda[pid]: lines to the socket and drops lines past the per-process cap', async () => {
    const { path, got, server } = syslogSink('log.sock');
    const logger = createLogger({ kind: 'syslog' }, 'mda', path);
    for (let i = 0; i < 100; i++) logger.info(`line ${i}`);
    logger.warn('past the cap');
    await logger.flush();
    await new Promise((r) => setTimeout(r, 50));
    server.close();
    expect(got[0]).toMatch(/^<22>\w{3} [ \d]\d \d\d:\d\d:\d\d mda\[\d+\]: line 0$/);
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThanOrEqual(20);
    expect(logger.dropped).toBeGreaterThanOrEqual(81);
  });
});
