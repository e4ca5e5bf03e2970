import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatMaildirsize, MAILDIRSIZE_STALE_MS, parseMaildirsize, type QuotaLimits } from '../../src/quota/maildirsize.js';
import { appendDelivery, readQuota, recalculate, scanMaildir } from '../../src/quota/store.js';
import { tempDir } from '../helpers/run-mda.js';

let t: ReturnType<typeof tempDir>;
let md: string;
beforeEach(() => {
  t = tempDir('mda-quota-');
  md = join(t.dir, 'Maildir');
  makeDirs(md);
});
afterEach(() => t.cleanup());

const LIMITS: QuotaLimits = { storage: 10_000, messages: 0 };

function makeDirs(dir: string): void {
  for (const sub of ['tmp', 'new', 'cur']) mkdirSync(join(dir, sub), { recursive: true });
}

/** put writes a message file; `bytes` is its real content length. */
function put(dir: string, name: string, bytes: number): void {
  writeFileSync(join(dir, name), 'x'.repeat(bytes));
}

const sizeFile = (): string => readFileSync(join(md, 'maildirsize'), 'latin1');
const writeSizeFile = (text: string): void => writeFileSync(join(md, 'maildirsize'), text);

/** A lock callback that records how often it was used. */
function countingLock(): { calls: number; withRecalcLock: <T>(fn: () => Promise<T>) => Promise<T> } {
  const lock = {
    calls: 0,
    withRecalcLock: <T,>(fn: () => Promise<T>): Promise<T> => {
      lock.calls += 1;
      return fn();
    },
  };
  return lock;
}
const noLock = <T,>(fn: () => Promise<T>): Promise<T> => fn();

/** runNode runs an inline script in a child process and resolves with its stdout. */
function runNode(script: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`child exited ${code}: ${err}`))));
  });
}

describe('scanMaildir / recalculate', () => {
  it('sums new/ and cur/ of the top Maildir and every folder, .Trash too (as Dovecot), except ignored ones', async () => {
    put(join(md, 'new'), '1.M1P1Q1.h,S=100', 3); // the name wins: no stat
    put(join(md, 'cur'), '1.M1P1Q2.h,S=200:2,S', 3);
    put(join(md, 'cur'), '1.M1P1Q3.h,S=50,W=52:2,RS', 3);
    put(join(md, 'new'), '1.V801I2M3.postfix', 7); // no ,S=: lstat
    put(join(md, 'cur'), '1.courier,S=12abc:2,', 11); // unusable ,S=: lstat
    put(join(md, 'tmp'), '1.M1P1Q9.h', 999); // tmp/ never counts
    put(join(md, 'new'), '.hidden', 999); // names starting with '.' are no messages
    makeDirs(join(md, '.Sent'));
    writeFileSync(join(md, '.Sent', 'maildirfolder'), '');
    put(join(md, '.Sent', 'cur'), '2.M1P1Q1.h,S=1000:2,S', 1);
    makeDirs(join(md, '.Lists.Debian'));
    put(join(md, '.Lists.Debian', 'new'), '3.M1P1Q1.h,S=4000', 1);
    makeDirs(join(md, '.Trash.Old')); // only the ignored folder itself is left out
    put(join(md, '.Trash.Old', 'cur'), '4.M1P1Q1.h,S=5:2,S', 1);
    makeDirs(join(md, '.Trash'));
    put(join(md, '.Trash', 'cur'), '5.M1P1Q1.h,S=100000:2,ST', 1);
    makeDirs(join(t.dir, 'elsewhere'));
    put(join(t.dir, 'elsewhere', 'new'), '6.M1P1Q1.h,S=77777', 1);
    symlinkSync(join(t.dir, 'elsewhere'), join(md, '.Linked')); // symlinked folders are skipped
    writeFileSync(join(md, '.notafolder'), 'x');
    mkdirSync(join(md, '.Empty')); // a folder without new/ cur/

    expect(await scanMaildir(md)).toMatchObject({ bytes: 100 + 200 + 50 + 7 + 11 + 1000 + 4000 + 5 + 100000, count: 9, complete: true });
    const ignore = new Set(['.Trash']);
    const scan = await scanMaildir(md, { ignore });
    expect(scan).toMatchObject({ bytes: 100 + 200 + 50 + 7 + 11 + 1000 + 4000 + 5, count: 8 });
    expect(scan.maxMtimeMs).toBe(Math.max(...['', '.Sent', '.Lists.Debian', '.Trash.Old'].flatMap((f) => ['new', 'cur'].map((d) => statSync(join(md, f, d)).mtimeMs))));

    expect(await recalculate(md, LIMITS, { ignore })).toEqual({ bytes: 5373, count: 8 });
    expect(sizeFile()).toBe('10000S\n5373 8\n');
    expect(readdirSync(join(md, 'tmp'))).toEqual(['1.M1P1Q9.h']); // no leftover temp file
    expect(statSync(join(md, 'maildirsize')).mode & 0o777).toBe(0o600);
  });

  it('counts an empty Maildir as 0 and writes 0S for no limits', async () => {
    expect(await scanMaildir(md)).toMatchObject({ bytes: 0, count: 0 });
    expect(await recalculate(md, { storage: 0, messages: 0 })).toEqual({ bytes: 0, count: 0 });
    expect(sizeFile()).toBe('0S\n0 0\n');
  });

  it('a count stopped by its signal resumes from its progress and ends with the same sums', async () => {
    for (let i = 0; i < 3000; i++) put(join(md, 'cur'), `${i}.V1I${i}.postfix:2,S`, 1 + (i % 7)); // no ,S=: lstat
    for (let i = 0; i < 10; i++) put(join(md, 'new'), `${i}.M1P1Q${i}.h,S=5`, 5);
    const full = await scanMaildir(md);
    const stop = new AbortController();
    stop.abort();
    const one = await scanMaildir(md, { signal: stop.signal });
    expect(one).toMatchObject({ complete: false }); // a fired signal still counts one batch: progress every call
    expect(one.count).toBeGreaterThan(0);
    // Stop after the first batch of cur/: abort from inside the count, as a budget does.
    const mid = new AbortController();
    const part = scanMaildir(md, { signal: mid.signal });
    setImmediate(() => mid.abort());
    const first = await part;
    let state = first.state;
    let rounds = 0;
    let scan = first;
    while (!scan.complete && rounds++ < 100) {
      const ctl = new AbortController();
      const p = scanMaildir(md, { signal: ctl.signal, state });
      setImmediate(() => ctl.abort());
      scan = await p;
      state = scan.state;
    }
    expect(scan.complete).toBe(true);
    expect(scan).toMatchObject({ bytes: full.bytes, count: full.count });
    // A directory that changed is counted again; one that did not is reused.
    put(join(md, 'new'), 'x.M1P1Q99.h,S=1000', 1);
    const again = await scanMaildir(md, { state });
    expect(again).toMatchObject({ bytes: full.bytes + 1000, count: full.count + 1, complete: true });
    expect(again.state['cur']).toBe(state['cur']);
  });

  it('throws when the Maildir itself is missing', async () => {
    await expect(scanMaildir(join(t.dir, 'nope'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('scans 100,000 files quickly (sizes from names need no stat)', async () => {
    const N = 100_000;
    const dir = join(md, 'cur');
    for (let i = 0; i < N; i++) closeSync(openSync(join(dir, `${i}.M1P1Q${i}.h,S=${i % 1000}:2,S`), 'w'));
    for (let i = 0; i < 1000; i++) put(join(md, 'new'), `${i}.V1I1.postfix`, 3); // 1,000 need lstat
    const started = performance.now();
    const scan = await scanMaildir(md);
    const ms = performance.now() - started;
    expect(scan).toMatchObject({ bytes: 100 * (999 * 1000) / 2 + 3000, count: N + 1000 });
    expect(ms).toBeLessThan(3000);
  }, 120_000);
});

describe('readQuota', () => {
  it('recalculates a missing file, under the lock', async () => {
    put(join(md, 'new'), '1.M1P1Q1.h,S=300', 1);
    const lock = countingLock();
    expect(await readQuota(md, LIMITS, lock)).toEqual({ bytes: 300, count: 1, recalculated: true, reason: 'maildirsize is missing' });
    expect(lock.calls).toBe(1);
    expect(sizeFile()).toBe('10000S\n300 1\n');
  });

  it('trusts a good file: no scan, no lock', async () => {
    put(join(md, 'new'), '1.M1P1Q1.h,S=300', 1); // disagrees with the file on purpose
    writeSizeFile('10000S\n100 1\n50 1\n');
    const lock = countingLock();
    expect(await readQuota(md, LIMITS, lock)).toEqual({ bytes: 150, count: 2, recalculated: false });
    expect(lock.calls).toBe(0);
    expect(sizeFile()).toBe('10000S\n100 1\n50 1\n');
  });

  it('ignores an unterminated last line (an append in flight)', async () => {
    writeSizeFile('10000S\n100 1\n50');
    expect(await readQuota(md, LIMITS, { withRecalcLock: noLock })).toEqual({ bytes: 100, count: 1, recalculated: false });
  });

  it.each([
    ['corrupt line', '10000S\n100 one\n', /corrupt: line 2/],
    ['NUL byte', '10000S\n1\x000 1\n', /corrupt: NUL/],
    ['negative totals', '10000S\n100 1\n-500 -1\n', /negative/],
    ['empty file', '', /corrupt: no complete/],
    ['header only (maildirmake -q)', '10000S\n', /no usage lines/],
    ['changed limit', '5000S\n100 1\n', /quota changed from 5000S to 10000S/],
    ['over quota with several lines', '10000S\n9000 1\n2000 1\n', /over quota with 2 usage lines/],
    ['5120 bytes or more', '10000S\n' + '1 1\n'.repeat(1279), /maildirsize is 5123 bytes \(>= 5120\)/],
  ])('recalculates on %s', async (_name, text, why) => {
    put(join(md, 'cur'), '1.M1P1Q1.h,S=700:2,S', 1);
    writeSizeFile(text);
    const r = await readQuota(md, LIMITS, { withRecalcLock: noLock });
    expect(r).toMatchObject({ bytes: 700, count: 1, recalculated: true });
    expect(r.reason).toMatch(why);
    expect(sizeFile()).toBe('10000S\n700 1\n');
  });

  it('reads a file of 5119 bytes whole and trusts it', async () => {
    writeSizeFile('10000S\n' + '1 1\n'.repeat(1278)); // 7 + 4 × 1278 = 5119 bytes
    expect(await readQuota(md, LIMITS, { withRecalcLock: noLock })).toEqual({ bytes: 1278, count: 1278, recalculated: false });
  });

  it('recalculates when over quota and the file is 15 minutes old; trusts it when fresh', async () => {
    put(join(md, 'cur'), '1.M1P1Q1.h,S=700:2,S', 1);
    writeSizeFile('10000S\n20000 5\n');
    const mtime = statSync(join(md, 'maildirsize')).mtimeMs;
    // Fresh (14:59 old) and one line: the over-quota verdict is believed.
    const fresh = await readQuota(md, LIMITS, { withRecalcLock: noLock, now: mtime + MAILDIRSIZE_STALE_MS - 1000 });
    expect(fresh).toEqual({ bytes: 20000, count: 5, recalculated: false });
    // Stale by the file's real mtime, with the real clock.
    const old = (Date.now() - MAILDIRSIZE_STALE_MS - 60_000) / 1000;
    utimesSync(join(md, 'maildirsize'), old, old);
    const stale = await readQuota(md, LIMITS, { withRecalcLock: noLock });
    expect(stale).toMatchObject({ bytes: 700, count: 1, recalculated: true });
    expect(stale.reason).toMatch(/over quota and maildirsize is \d+s old/);
  });

  it('does not rescan when another process rebuilt the file while we waited for the lock', async () => {
    put(join(md, 'cur'), '1.M1P1Q1.h,S=700:2,S', 1);
    const r = await readQuota(md, LIMITS, {
      withRecalcLock: async (fn) => {
        writeSizeFile('10000S\n42 2\n'); // "the other process" finished first
        return fn();
      },
    });
    expect(r).toEqual({ bytes: 42, count: 2, recalculated: false });
  });

  it('replaces a symlinked maildirsize without touching its target', async () => {
    const target = join(t.dir, 'victim');
    writeFileSync(target, 'precious\n');
    symlinkSync(target, join(md, 'maildirsize'));
    const r = await readQuota(md, LIMITS, { withRecalcLock: noLock });
    expect(r).toMatchObject({ recalculated: true, reason: 'maildirsize is corrupt: maildirsize is a symlink' });
    expect(readFileSync(target, 'utf8')).toBe('precious\n');
    expect(sizeFile()).toBe('10000S\n0 0\n');
  });

  it('propagates errors from the lock callback (e.g. a lock timeout)', async () => {
    const err = Object.assign(new Error('lock timeout'), { code: 'EAGAIN' });
    await expect(readQuota(md, LIMITS, { withRecalcLock: () => Promise.reject(err) })).rejects.toBe(err);
  });
});

describe('appendDelivery', () => {
  it('appends "<size> 1" to an existing file', async () => {
    writeSizeFile('10000S\n100 1\n');
    await appendDelivery(md, 409);
    await appendDelivery(md, 0);
    expect(sizeFile()).toBe('10000S\n100 1\n409 1\n0 1\n');
    expect(await readQuota(md, LIMITS, { withRecalcLock: noLock })).toEqual({ bytes: 509, count: 3, recalculated: false });
  });

  it('does nothing when maildirsize is missing (the next reader recalculates)', async () => {
    await appendDelivery(md, 409);
    expect(readdirSync(md).sort()).toEqual(['cur', 'new', 'tmp']);
  });

  it('never writes through a symlink', async () => {
    const target = join(t.dir, 'victim');
    writeFileSync(target, 'precious\n');
    symlinkSync(target, join(md, 'maildirsize'));
    await appendDelivery(md, 5);
    expect(readFileSync(target, 'utf8')).toBe('precious\n');
    expect(readlinkSync(join(md, 'maildirsize'))).toBe(target);
  });

  it('concurrent O_APPEND writers from 8 processes lose no line', async () => {
    writeSizeFile('0S\n0 0\n');
    // Each child does what appendDelivery does: open O_APPEND, one write(2) per line.
    const script = `
      const fs = require('node:fs');
      const [path, id] = process.argv.slice(1);
      for (let i = 0; i < 100; i++) {
        const fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_APPEND);
        fs.writeSync(fd, Buffer.from((Number(id) * 1000 + i) + ' 1\\n'));
        fs.closeSync(fd);
      }`;
    await Promise.all(Array.from({ length: 8 }, (_, id) => runNode(script, [join(md, 'maildirsize'), String(id + 1)])));
    const parsed = parseMaildirsize(readFileSync(join(md, 'maildirsize')));
    let want = 0;
    for (let id = 1; id <= 8; id++) for (let i = 0; i < 100; i++) want += id * 1000 + i;
    expect(parsed).toEqual({ limits: { storage: 0, messages: 0 }, bytes: want, count: 800, usageLines: 801, ignoredTail: false });
  }, 60_000);
});

describe('atomic rewrite', () => {
  it('a concurrent reader never sees a partial maildirsize', async () => {
    for (let i = 0; i < 50; i++) put(join(md, 'cur'), `${i}.M1P1Q1.h,S=${1000 + i}:2,S`, 1);
    writeSizeFile(formatMaildirsize(LIMITS, 0, 0));
    const expected = new Set([formatMaildirsize(LIMITS, 0, 0), formatMaildirsize(LIMITS, 51225, 50)]);
    // The child reads as fast as it can until told to stop, and reports every distinct content.
    const reader = `
      const fs = require('node:fs');
      const [path, stop] = process.argv.slice(1);
      const seen = new Map();
      let reads = 0;
      while (!fs.existsSync(stop)) {
        try { const s = fs.readFileSync(path, 'latin1'); seen.set(s, (seen.get(s) ?? 0) + 1); if (reads++ === 0) fs.writeFileSync(stop + '.reading', ''); }
        catch (e) { seen.set('ERR ' + e.code, (seen.get('ERR ' + e.code) ?? 0) + 1); }
      }
      process.stdout.write(JSON.stringify({ reads, seen: [...seen.keys()] }));`;
    const stop = join(t.dir, 'stop');
    const child = runNode(reader, [join(md, 'maildirsize'), stop]);
    // Rewrite only once the reader reads (a loaded machine can take seconds to start Node).
    for (let i = 0; i < 600 && !existsSync(`${stop}.reading`); i++) await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 200; i++) await recalculate(md, LIMITS);
    writeFileSync(stop, '');
    const { reads, seen } = JSON.parse(await child) as { reads: number; seen: string[] };
    expect(reads).toBeGreaterThan(0);
    for (const s of seen) expect(expected.has(s), JSON.stringify(s)).toBe(true);
    expect(readdirSync(join(md, 'tmp'))).toEqual([]);
  }, 60_000);
});
