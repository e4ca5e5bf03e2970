/**
 * Hostile input, as a fixed corpus generated in code, through the real
 * `bin/mda deliver`. Each case ends stored byte-exact (input minus a leading
 * From_ line) or in the README's documented outcome; never exit 1, never a
 * hang (hard timeout), peak RSS (VmHWM polled from /proc) under 150 MB, and
 * exactly one clean log line per delivery.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QUIET_CONFIG, listDir, onlyMessage, runMda, tempDir, type RunOptions } from '../helpers/run-mda.js';

const FROM_ = 'From alice@sender.test  Sat Nov 21 23:21:04 2026\n';
const MAX = 1024 * 1024; // max_message_size in the config below
const RSS_LIMIT_KB = 150 * 1024;

let t: ReturnType<typeof tempDir>;
let md: string;
let cfg: string;
let log: string;
beforeEach(() => {
  t = tempDir('mda-hostile-corpus-');
  md = join(t.dir, 'Maildir');
  cfg = join(t.dir, 'mda.toml');
  log = join(t.dir, 'mda.log');
  writeFileSync(cfg, `[log]\ntarget = "file:${log}"\n[delivery]\nmax_message_size = "1M"\n`);
});
afterEach(() => t.cleanup());

/** pollPeak records the child's VmHWM (peak RSS, kB) every 5 ms until it exits. */
function pollPeak(c: ChildProcess, into: { kb: number }): void {
  const poll = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${c.pid}/status`, 'utf8'));
      if (m) into.kb = Math.max(into.kb, Number(m[1]));
    } catch {
      clearInterval(poll);
    }
  }, 5);
  c.on('exit', () => clearInterval(poll));
}

async function deliver(opts: RunOptions & { args?: string[]; env?: NodeJS.ProcessEnv } = {}) {
  const peak = { kb: 0 };
  const r = await runMda(['deliver', '--config', cfg, '--maildir', md, ...(opts.args ?? [])], {
    hardTimeoutMs: 20_000,
    ...opts,
    onSpawn: (c) => {
      pollPeak(c, peak);
      opts.onSpawn?.(c);
    },
  });
  expect(r.code, r.output).not.toBe(1);
  expect(r.signal).toBeNull();
  expect(peak.kb).toBeLessThan(RSS_LIMIT_KB);
  expect(listDir(join(md, 'tmp')), 'tmp/ is left clean').toEqual([]);
  // One log line per delivery, never a raw control byte that could forge a second one.
  const lines = readFileSync(log, 'latin1').split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  expect(lines[0]).not.toMatch(/[\x00-\x1f\x7f]/);
  return { ...r, peakKb: peak.kb, logLine: lines[0]! };
}

const stored = (): Buffer => onlyMessage(join(md, 'new')).bytes;
const b = (s: string) => Buffer.from(s, 'latin1');
const headers = (n: number) => {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(`X-H${i}: value ${i}\n`);
  return parts.join('');
};

describe('stored byte-exact (input minus the From_ line)', () => {
  const cases: Array<[string, Buffer]> = [
    ['no header/body separator', b('Subject: s\nX-A: 1\nno blank line follows')],
    ['only a blank line and a body', b('\r\nbody after a CRLF blank line\r\n')],
    ['NUL bytes in header and body', b('Subject: a\0b\nX-\0: \0\n\n\0\0body\0')],
    ['bare CR everywhere', b('Subject: s\rX-Fake: y\r\r\rbody\r')],
    ['mixed CRLF and LF', b('A: 1\r\nB: 2\nC: 3\r\n\nbody\r\nmore\n')],
    ['invalid UTF-8 in header and body', Buffer.concat([b('Subject: '), Buffer.from([0xc3, 0x28, 0xe2, 0x82, 0xf0, 0x90, 0x80, 0xff]), b('\n\n'), Buffer.from([0xed, 0xa0, 0x80, 0xc0, 0xaf])])],
    ['8-bit header names and values', b('Subjéct: caf\xe9\nX-\xff\xfe: \x80\x81\nFrom: J\xfcrgen <j@x>\n\nk\xf6rper\n')],
    ['forged log line in a header (bare CR)', b('Message-ID: <a@x>\r status=delivered user=root\nSubject: s\n\nb')],
    ['a second From_ line in the body', b('Subject: s\n\nFrom mallory@x  Sat Nov 21 23:21:04 2026\nFrom x\n')],
    ['"From " with no newline is content', b('From x')],
    ['a From_ line of NULs and 8-bit', b('From \0\xff\xfe  x\nSubject: s\n\nb')],
  ];
  it.each(cases)('%s (with Postfix From_ line)', async (_n, body) => {
    const r = await deliver({ input: Buffer.concat([b(FROM_), body]) });
    expect([r.code, r.output]).toEqual([0, '']);
    expect(stored().equals(body)).toBe(true);
  });
  it.each(cases)('%s (without From_ line)', async (_n, body) => {
    const r = await deliver({ input: body });
    expect([r.code, r.output]).toEqual([0, '']);
    const want = body.subarray(0, 5).toString('latin1') === 'From ' && body.includes(0x0a) ? body.subarray(body.indexOf(0x0a) + 1) : body;
    expect(stored().equals(want)).toBe(true);
  });

  it('a 1 MB header line', async () => {
    const body = b('Subject: ' + 'x'.repeat(MAX - 100) + '\n\nbody\n');
    const r = await deliver({ input: Buffer.concat([b(FROM_), body]) });
    expect([r.code, r.output]).toEqual([0, '']);
    expect(stored().equals(body)).toBe(true);
  });

  it('a 1 MB Message-ID: stored whole, and the log line stays short', async () => {
    const body = b('Message-ID: <' + 'm'.repeat(MAX - 100) + '@x>\n\nbody\n');
    const r = await deliver({ input: body });
    expect([r.code, r.output]).toEqual([0, '']);
    expect(stored().equals(body)).toBe(true);
    expect(r.logLine.length).toBeLessThan(8192); // fits a syslog datagram (rsyslog keeps 8 KiB)
  });

  it('100,000 header fields, peak RSS < 150 MB', async () => {
    writeFileSync(cfg, `[log]\ntarget = "file:${log}"\n[delivery]\nmax_message_size = "8M"\n`);
    const body = b(headers(100_000) + '\nbody\n');
    const r = await deliver({ input: Buffer.concat([b(FROM_), body]) });
    expect([r.code, r.output]).toEqual([0, '']);
    expect(stored().equals(body)).toBe(true);
    expect(r.peakKb).toBeGreaterThan(0);
  });

  // A backtracking regex over a 256 KiB field blocks the event loop for minutes: the deadline could not fire.
  it.each([
    ['Return-Path', 'Return-Path: <' + '<'.repeat(250_000) + '\nDelivered-To: bob@x\n\nb\n'],
    ['Delivered-To', 'Return-Path: <a@x>\nDelivered-To: ' + '<'.repeat(250_000) + '\n\nb\n'],
  ])('a 250 KB %s of "<" is parsed in linear time (stored within a 5 s deadline)', async (_n, text) => {
    const body = b(text);
    const r = await deliver({ input: Buffer.concat([b(FROM_), body]), args: ['--deadline', '5s'], hardTimeoutMs: 15_000 });
    expect([r.code, r.output]).toEqual([0, '']);
    expect(stored().equals(body)).toBe(true);
    expect(r.elapsedMs).toBeLessThan(5_000);
  });

  it('100,000 Delivered-To fields for someone else: no loop, stored', async () => {
    writeFileSync(cfg, `[log]\ntarget = "file:${log}"\n[delivery]\nmax_message_size = "8M"\n`);
    const body = b('Delivered-To: bob@x\n' + 'Delivered-To: other@x\n'.repeat(100_000) + '\nb\n');
    const r = await deliver({ input: Buffer.concat([b(FROM_), body]) });
    expect([r.code, r.output]).toEqual([0, '']);
    expect(stored().equals(body)).toBe(true);
  });
});

describe('documented outcomes', () => {
  it.each([
    ['empty input', ''],
    ['only a From_ line', FROM_],
    ['only a From_ line, CRLF', FROM_.replace('\n', '\r\n')],
  ])('%s: 75 with 4.3.0, nothing stored', async (_n, input) => {
    const r = await deliver({ input });
    expect(r.code).toBe(75);
    expect(r.output).toMatch(/^4\.3\.0 .*empty/);
    expect(listDir(join(md, 'new'))).toEqual([]);
    expect(r.logLine).toMatch(/status=deferred dsn=4\.3\.0/);
  });

  it('exactly max_message_size is stored; the From_ line does not count', async () => {
    const body = b('S: 1\n\n' + 'y'.repeat(MAX - 6));
    const r = await deliver({ input: Buffer.concat([b(FROM_), body]) });
    expect([r.code, r.output]).toEqual([0, '']);
    expect(stored().equals(body)).toBe(true);
  });

  it('one byte over max_message_size: 77 with 5.2.3, nothing stored', async () => {
    const r = await deliver({ input: Buffer.concat([b(FROM_), b('S: 1\n\n' + 'y'.repeat(MAX - 5))]) });
    expect(r.code).toBe(77);
    expect(r.output).toMatch(/^5\.2\.3 /);
    expect(listDir(join(md, 'new'))).toEqual([]);
  });

  it('a message twice max_message_size in one header line: 77 with 5.2.3', async () => {
    const r = await deliver({ input: b('X-Huge: ' + 'z'.repeat(2 * MAX) + '\n\nb') });
    expect(r.code).toBe(77);
    expect(r.output).toMatch(/^5\.2\.3 /);
    expect(listDir(join(md, 'new'))).toEqual([]);
  });

  it('forged Return-Path/Delivered-To without a From_ line are not trusted: envelope from the environment', async () => {
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, USER: process.env.USER ?? 'root', SENDER: 'real@sender.test', RECIPIENT: 'bob@example.test' };
    const body = b('Return-Path: <forged@evil.test>\nDelivered-To: forged@evil.test\nSubject: s\n\nb\n');
    const r = await deliver({ input: body, env });
    expect([r.code, r.output]).toEqual([0, '']);
    expect(stored().equals(body)).toBe(true);
    expect(r.logLine).toMatch(/from=<real@sender\.test> to=<bob@example\.test>/);
    expect(r.logLine).not.toContain('evil');
  });
});

describe('chunk boundaries and truncated stdin', () => {
  /** Writes the pieces `gapMs` apart, so mda's reads end where the pieces do; optionally never ends stdin properly. */
  const pieces = (parts: Buffer[], gapMs = 60): RunOptions => ({
    keepStdinOpen: true,
    onSpawn: (c) => {
      const next = (i: number): void => {
        if (i === parts.length) return void c.stdin!.end();
        c.stdin!.write(parts[i]!);
        setTimeout(() => next(i + 1), gapMs);
      };
      next(0);
    },
  });

  it('a blank line split after its CR is still the end of the header (no false mail loop)', async () => {
    const body = b('\r\nquoted from a bounce:\nDelivered-To: bob@x\nDelivered-To: bob@x\n');
    const r = await deliver({ ...pieces([body.subarray(0, 1), body.subarray(1)]), args: ['--recipient', 'bob@x'] });
    expect([r.code, r.output]).toEqual([0, '']);
    expect(stored().equals(body)).toBe(true);
  });

  it('a From_ line arriving byte by byte is still removed', async () => {
    const body = b('Subject: s\n\nb\n');
    const input = Buffer.concat([b(FROM_), body]);
    const r = await deliver(pieces([...input.subarray(0, 12)].map((x) => Buffer.from([x])).concat(input.subarray(12)), 5));
    expect([r.code, r.output]).toEqual([0, '']);
    expect(stored().equals(body)).toBe(true);
  });

  it.each([
    ['mid body line', 'Subject: s\n\nfirst line\nsecond li'],
    ['mid header line, no separator yet', 'Subject: s\nX-Trunc: half a va'],
    ['mid CRLF', 'Subject: s\r\n\r\nline\r'],
  ])('writer closes early %s: what arrived is stored as is', async (_n, text) => {
    const body = b(text);
    const r = await deliver(pieces([b(FROM_), body]));
    expect([r.code, r.output]).toEqual([0, '']);
    expect(stored().equals(body)).toBe(true);
  });

  it('writer closes early in the middle of the From_ line: stored as content, never lost', async () => {
    const r = await deliver(pieces([b(FROM_.slice(0, 20))]));
    expect([r.code, r.output]).toEqual([0, '']);
    expect(stored().toString('latin1')).toBe(FROM_.slice(0, 20));
  });

  it('a writer process killed mid-line (SIGKILL): the bytes it got out are stored', async () => {
    const body = 'Subject: killed\n\nthe writer dies before the end of this li';
    const r = await deliver({
      keepStdinOpen: true,
      onSpawn: (c) => {
        const writer = spawn('sh', ['-c', `printf '%s' "$0"; kill -9 $$`, FROM_ + body], { stdio: ['ignore', 'pipe', 'inherit'] });
        writer.stdout!.pipe(c.stdin!);
      },
    });
    expect([r.code, r.output]).toEqual([0, '']);
    expect(stored().toString('latin1')).toBe(body);
  });
});

describe('sizes around max_message_size, quiet config (many runs)', () => {
  it.each([0, 1, 2, 4095, 4096, 65535, 65536, 65537])('boundary at %i bytes below the limit', async (below) => {
    writeFileSync(cfg, QUIET_CONFIG + '[delivery]\nmax_message_size = "64K"\n');
    const n = 64 * 1024 - below;
    const input = b('S: 1\n\n'.slice(0, Math.min(6, n)) + 'q'.repeat(Math.max(0, n - 6)));
    const r = await runMda(['deliver', '--config', cfg, '--maildir', md], { input, hardTimeoutMs: 20_000 });
    if (n === 0) expect(r.code).toBe(75);
    else {
      expect([r.code, r.output]).toEqual([0, '']);
      expect(stored().equals(input)).toBe(true);
    }
    const over = Buffer.concat([input, b('+')]);
    if (below === 0) expect((await runMda(['deliver', '--config', cfg, '--maildir', md], { input: over })).code).toBe(77);
  });
});
