/**
 * `mda deliver` end to end through the real binary: exit code, the DSN line
 * and the Maildir on a real filesystem. Run `npm run build` first (npm test does).
 */
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QUIET_CONFIG, listDir, onlyMessage, runMda, tempDir, trackPeakRss } from '../helpers/run-mda.js';

let t: ReturnType<typeof tempDir>;
let md: string;
let cfg: string;
beforeEach(() => {
  t = tempDir();
  md = join(t.dir, 'Maildir');
  cfg = join(t.dir, 'mda.toml');
  writeFileSync(cfg, QUIET_CONFIG + '[delivery]\nmax_message_size = "64K"\n');
});
afterEach(() => t.cleanup());

const FROM_ = 'From alice@sender.test  Sat Nov 21 23:21:04 2026\n';
const deliver = (input: Buffer | string, extra: string[] = []) => runMda(['deliver', '--config', cfg, '--maildir', md, ...extra], { input });
const isRoot = process.getuid?.() === 0;

describe('input shapes are stored byte-exact, minus the From_ line', () => {
  const shapes: Array<[string, Buffer]> = [
    ['Postfix LF', Buffer.from('Return-Path: <a@b>\nDelivered-To: bob@x\nSubject: s\n\nbody\n')],
    ['CRLF', Buffer.from('Subject: s\r\nTo: b@x\r\n\r\nbody\r\nline2\r\n')],
    ['no final newline', Buffer.from('Subject: s\n\nno newline at end')],
    ['8-bit and NUL', Buffer.concat([Buffer.from('Subject: caf\xe9\n\n', 'latin1'), Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80, 0x0a, 0])])],
    ['invalid UTF-8 header', Buffer.from([0x53, 0x3a, 0x20, 0xc3, 0x28, 0x0a, 0x0a, 0x62])],
    ['bare CR', Buffer.from('Subject: s\r\rX\n\nbody\rmore\n')],
    ['From line in body untouched', Buffer.from('Subject: s\n\nFrom me to you\n>From quoted\n')],
    ['no header at all', Buffer.from('\njust a body\n')],
  ];
  it.each(shapes)('%s (with Postfix From_ line)', async (_n, body) => {
    const r = await deliver(Buffer.concat([Buffer.from(FROM_), body]));
    expect(r.output).toBe('');
    expect(r.code).toBe(0);
    const m = onlyMessage(join(md, 'new'));
    expect(m.bytes.equals(body)).toBe(true);
    expect(m.name).toMatch(new RegExp(`^\\d+\\.M\\d+P\\d+Q1\\.[^/:]+,S=${body.length}$`));
    expect(statSync(join(md, 'new', m.name)).mode & 0o777).toBe(0o600);
    expect(listDir(join(md, 'tmp'))).toEqual([]);
  });
  it.each(shapes)('%s (without From_ line)', async (_n, body) => {
    const r = await deliver(body);
    expect(r.code).toBe(0);
    expect(onlyMessage(join(md, 'new')).bytes.equals(body)).toBe(true);
  });
});

describe('folders', () => {
  it('delivers to a Maildir++ folder, creating it with maildirfolder', async () => {
    const r = await deliver(FROM_ + 'Subject: f\n\nx\n', ['--folder', 'Lists.Debian']);
    expect(r.code).toBe(0);
    expect(onlyMessage(join(md, '.Lists.Debian', 'new')).bytes.toString()).toBe('Subject: f\n\nx\n');
    expect(existsSync(join(md, '.Lists.Debian', 'maildirfolder'))).toBe(true);
    expect(listDir(join(md, 'new'))).toEqual([]);
  });
  it('INBOX is the Maildir itself', async () => {
    expect((await deliver('S: 1\n\nx', ['--folder', 'INBOX'])).code).toBe(0);
    expect(listDir(join(md, 'new'))).toHaveLength(1);
  });
  it.each(['../escape', '..', '.hidden', 'a/b', 'x\ty', 'a..b', 'Trail.'])('refuses %j: 75, 4.3.0, nothing written anywhere', async (name) => {
    const r = await deliver(FROM_ + 'S: 1\n\nx\n', ['--folder', name]);
    expect(r.code).toBe(75);
    expect(r.output).toMatch(/^4\.3\.0 .*folder/);
    expect(r.output.split('\n').filter(Boolean)).toHaveLength(1);
    expect(listDir(t.dir).sort()).toEqual(['mda.toml']);
  });
});

describe('outcomes', () => {
  it('message over max_message_size: 77 with 5.2.3, nothing left behind', async () => {
    const r = await deliver(FROM_ + 'S: 1\n\n' + 'x'.repeat(70 * 1024));
    expect(r.code).toBe(77);
    expect(r.output).toMatch(/^5\.2\.3 /);
    expect(listDir(join(md, 'new'))).toEqual([]);
    expect(listDir(join(md, 'tmp'))).toEqual([]);
  });
  it('exactly max_message_size is accepted, one byte more is not', async () => {
    const body = (n: number) => 'S: 1\n\n' + 'x'.repeat(n - 6);
    expect((await deliver(FROM_ + body(64 * 1024))).code).toBe(0);
    expect((await deliver(FROM_ + body(64 * 1024 + 1))).code).toBe(77);
  });
  it('mail loop: 77 with 5.4.6', async () => {
    const r = await deliver(FROM_ + 'Delivered-To: bob@x\nSubject: l\nDelivered-To: bob@x\n\nx\n');
    expect(r.code).toBe(77);
    expect(r.output).toMatch(/^5\.4\.6 .*bob@x/);
    expect(listDir(join(md, 'new'))).toEqual([]);
  });
  it('unknown user: 67 with 5.1.1', async () => {
    const r = await runMda(['deliver', '--config', cfg, '--user', 'no-such-user-mda'], { input: 'S: 1\n\nx' });
    expect(r.code).toBe(67);
    expect(r.output).toMatch(/^5\.1\.1 .*no-such-user-mda/);
  });
  it('invalid config: 75 with 4.3.5 naming file and line', async () => {
    writeFileSync(cfg, '[delivery]\ndeadlin = "1s"\n');
    const r = await deliver('S: 1\n\nx');
    expect(r.code).toBe(75);
    expect(r.output).toMatch(/^4\.3\.5 .*mda\.toml:2.*deadlin/);
  });
  it('unreadable config path: 75 with 4.3.5', async () => {
    const r = await runMda(['deliver', '--config', join(t.dir, 'missing.toml'), '--maildir', md], { input: 'S: 1\n\nx' });
    expect(r.code).toBe(75);
    expect(r.output).toMatch(/^4\.3\.5 /);
  });
  it.each([[['--bogus']], [['extra-positional']], [['--deadline', 'soon']], [['--maildir']]])('bad flags %j: 75 with 4.3.0, never 1', async (flags) => {
    const r = await runMda(['deliver', '--config', cfg, ...flags], { input: 'S: 1\n\nx' });
    expect(r.code).toBe(75);
    expect(r.output).toMatch(/^4\.3\.0 /);
  });
  it('empty stdin is deferred, not stored', async () => {
    const r = await deliver('');
    expect(r.code).toBe(75);
    expect(listDir(join(md, 'new'))).toEqual([]);
    expect(listDir(join(md, 'tmp'))).toEqual([]);
  });
  it('only a From_ line is deferred, not stored', async () => {
    expect((await deliver(FROM_)).code).toBe(75);
    expect(listDir(join(md, 'new'))).toEqual([]);
  });
  it('an unwritable Maildir is deferred (75, 4.x), not bounced', async () => {
    mkdirSync(md);
    writeFileSync(join(md, 'tmp'), 'not a directory');
    const r = await deliver('S: 1\n\nx');
    expect(r.code).toBe(75);
    expect(r.output).toMatch(/^4\.\d\.\d /);
  });
});

describe('deadline and signals', () => {
  it('stdin that never ends: exit 75 (4.4.7) at the deadline, tmp/ cleaned', async () => {
    const r = await runMda(['deliver', '--config', cfg, '--maildir', md, '--deadline', '1s'], {
      keepStdinOpen: true,
      onSpawn: (c) => c.stdin!.write(FROM_ + 'Subject: slow\n\npartial'),
      hardTimeoutMs: 10_000,
    });
    expect(r.code).toBe(75);
    expect(r.output).toMatch(/^4\.4\.7 /);
    expect(listDir(join(md, 'tmp'))).toEqual([]);
    expect(listDir(join(md, 'new'))).toEqual([]);
  });
  it.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)('%s mid-delivery: cleanup and 75', async (sig) => {
    const r = await runMda(['deliver', '--config', cfg, '--maildir', md], {
      keepStdinOpen: true,
      onSpawn: (c) => {
        c.stdin!.write(FROM_ + 'Subject: sig\n\npartial');
        setTimeout(() => c.kill(sig), 400);
      },
    });
    expect(r.code).toBe(75);
    expect(r.output).toMatch(new RegExp(`^4\\.3\\.0 .*${sig}`));
    expect(listDir(join(md, 'tmp'))).toEqual([]);
    expect(listDir(join(md, 'new'))).toEqual([]);
  });
});

describe.skipIf(!isRoot)('privileges (as root)', () => {
  const NOBODY = 65534;
  it('--user switches uid before touching the Maildir: files owned by the user', async () => {
    const home = join(t.dir, 'home');
    mkdirSync(home);
    chownSync(home, NOBODY, NOBODY);
    chmodSync(t.dir, 0o755);
    const r = await runMda(['deliver', '--config', cfg, '--user', 'nobody', '--maildir', join(home, 'Maildir')], { input: FROM_ + 'S: 1\n\nx\n' });
    expect(r.output).toBe('');
    expect(r.code).toBe(0);
    const m = onlyMessage(join(home, 'Maildir', 'new'));
    expect(statSync(join(home, 'Maildir', 'new', m.name)).uid).toBe(NOBODY);
    expect(statSync(join(home, 'Maildir')).uid).toBe(NOBODY);
    expect(statSync(join(home, 'Maildir', 'tmp')).uid).toBe(NOBODY);
  });
  it('a symlink the user planted cannot make mda write where the user could not', async () => {
    const home = join(t.dir, 'home');
    const rootOnly = join(t.dir, 'root-only');
    mkdirSync(join(home, 'Maildir'), { recursive: true });
    mkdirSync(rootOnly, { mode: 0o700 });
    chmodSync(t.dir, 0o755);
    chownSync(home, NOBODY, NOBODY);
    chownSync(join(home, 'Maildir'), NOBODY, NOBODY);
    symlinkSync(rootOnly, join(home, 'Maildir', 'tmp')); // tmp/ → a root-owned directory
    mkdirSync(join(home, 'Maildir', 'new'));
    chownSync(join(home, 'Maildir', 'new'), NOBODY, NOBODY);
    const r = await runMda(['deliver', '--config', cfg, '--user', 'nobody', '--maildir', join(home, 'Maildir')], { input: 'S: 1\n\nx\n' });
    expect(r.code).toBe(75);
    expect(listDir(rootOnly)).toEqual([]);
  });
  it('a Maildir owned by someone else is refused with 4.2.0', async () => {
    mkdirSync(md, { recursive: true });
    chownSync(md, NOBODY, NOBODY);
    const r = await deliver('S: 1\n\nx\n'); // as root, for root
    expect(r.code).toBe(75);
    expect(r.output).toMatch(/^4\.2\.0 .*owned by uid 65534/);
    expect(listDir(join(md, 'new'))).toEqual([]);
  });
});

describe('large messages stream with flat memory', () => {
  it('200 MB is stored byte-exact with peak RSS well under 100 MB', { timeout: 120_000 }, async () => {
    writeFileSync(cfg, QUIET_CONFIG + '[delivery]\nmax_message_size = "300M"\n');
    const { createHash } = await import('node:crypto');
    const hash = createHash('sha256');
    let peak = () => 0;
    const r = await runMda(['deliver', '--config', cfg, '--maildir', md], {
      keepStdinOpen: true,
      hardTimeoutMs: 110_000,
      onSpawn: (c) => {
        peak = trackPeakRss(c, 20);
        const line = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n\x00\xff'.repeat(1024), 'latin1');
        let sent = 0;
        const total = 200 * 1024 * 1024;
        const head = Buffer.from(FROM_ + 'Subject: big\n\n');
        c.stdin!.write(head);
        hash.update(head.subarray(FROM_.length));
        const pump = () => {
          while (sent < total) {
            const chunk = line.subarray(0, Math.min(line.length, total - sent));
            sent += chunk.length;
            hash.update(chunk);
            if (!c.stdin!.write(chunk)) return void c.stdin!.once('drain', pump);
          }
          c.stdin!.end();
        };
        pump();
      },
    });
    expect(r.output).toBe('');
    expect(r.code).toBe(0);
    const name = listDir(join(md, 'new'))[0]!;
    const stored = createHash('sha256').update(readFileSync(join(md, 'new', name))).digest('hex');
    expect(stored).toBe(hash.digest('hex'));
    expect(peak()).toBeGreaterThan(0);
    expect(peak()).toBeLessThan(100 * 1024);
  });
});
